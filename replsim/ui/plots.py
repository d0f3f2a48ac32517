"""Figures of a cluster: its picture as a graph, follower lag over time, write availability, a key's value.

Colours come from the Okabe-Ito palette, and every distinction that colour makes
is also made by a shape, a hatch, a line style or a word, so the figures stay
readable in greyscale and for colour-blind readers. Every function draws into
``ax`` when given one (and returns its figure), else makes a new pyplot figure, so
a notebook shows it and ``plt.show()`` works; none calls ``plt.show()`` itself.
Figures are deterministic: fixed layouts, no randomness.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..errors import ConfigError
from ..node import LEADER
from .style import (
    DOWN_COLOUR,
    DOWN_EDGE_COLOUR,
    EDGE_COLOUR,
    FAULT_COLOUR,
    FOLLOWER_COLOUR,
    LEADER_COLOUR,
    LINE_COLOURS,
    LINE_STYLES,
    MARKED_EVENTS,
    OKABE_ITO,
    OTHER_LEADER_COLOUR,
    STEPS,
    mark_events,
)

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..history import History

_SPACING = 1.25  # between nodes in a row, in data units (rows are 1 apart)
_MIN_PEAK_STEPS = 40  # peak-lag steps are never wider than 1/40 of the time axis


# --- the cluster picture ---------------------------------------------------
def cluster_graph(cluster: Cluster, at: float | None = None) -> nx.DiGraph:
    """The cluster as a directed graph: an edge from each node's leader to it, with lag and link state.

    ``at``: as it was at that past time (from the record). Node attributes: ``role``,
    ``up``, ``lsn``, ``epoch``, ``kind`` (``"leader"``, ``"other leader"`` for a second
    leader during split brain, ``"follower"``). Edge attributes: ``behind`` (entries
    the follower lacks from that leader) and ``link`` (``"ok"``, ``"partitioned"``,
    ``"cut"`` or ``"acks cut"``).
    """
    v = cluster.view(at)
    g = nx.DiGraph()
    for name, nv in v.nodes.items():
        if nv.role == LEADER:
            kind = "leader" if name == v.leader else "other leader"
        else:
            kind = "follower"
        g.add_node(name, role=nv.role, up=nv.up, lsn=nv.lsn, epoch=nv.epoch, kind=kind)
    group = {n: i for i, members in enumerate(v.groups) for n in members}
    cuts = set(v.cuts)
    for name, nv in v.nodes.items():
        src = nv.leader
        if nv.role == LEADER or src is None or src == name or src not in v.nodes:
            continue
        if group.get(src) != group.get(name):
            link = "partitioned"
        elif (src, name) in cuts:
            link = "cut"
        elif (name, src) in cuts:
            link = "acks cut"
        else:
            link = "ok"
        g.add_edge(src, name, behind=max(v.nodes[src].lsn - nv.lsn, 0), link=link)
    return g


def network_faults(cluster: Cluster, at: float | None = None) -> str:
    """The partition and cuts in force (``at``: then), in words ("" when the network is whole)."""
    v = cluster.view(at)
    parts = []
    if len(v.groups) > 1:
        parts.append("partition: " + " | ".join("{" + ", ".join(gr) + "}" for gr in v.groups))
    parts += [f"cut {a} → {b}" for a, b in v.cuts]
    return "; ".join(parts)


def _layout(g: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Leaders in a row on top, followers in a row below, each row centred, in creation order."""
    top = [n for n in g if g.nodes[n]["role"] == LEADER]
    bottom = [n for n in g if g.nodes[n]["role"] != LEADER]
    pos: dict[str, tuple[float, float]] = {}
    width = max(len(bottom) - 1, 1) * _SPACING
    for row, y, spacing in ((top, 1.0, max(width / max(len(top), 1), _SPACING)), (bottom, 0.0, _SPACING)):
        for i, n in enumerate(row):
            pos[n] = ((i - (len(row) - 1) / 2) * spacing, y)
    return pos


def _node_style(attrs: dict) -> tuple[str, str, str]:
    """(marker, face colour, hatch) for a node."""
    marker = "s" if attrs["role"] == LEADER else "o"
    if not attrs["up"]:
        return marker, DOWN_COLOUR, "////"
    if attrs["kind"] == "other leader":
        return marker, OTHER_LEADER_COLOUR, "xx"
    return marker, (LEADER_COLOUR if attrs["role"] == LEADER else FOLLOWER_COLOUR), ""


def _node_label(name: str, attrs: dict, epochs: bool) -> str:
    role = attrs["kind"] if attrs["kind"] != "other leader" else "2nd leader"
    state = "" if attrs["up"] else " · down"
    epoch = f" · epoch {attrs['epoch']}" if epochs else ""
    return f"{name}\n{role}{state}\nlsn {attrs['lsn']}{epoch}"


def cluster_picture(
    cluster: Cluster, ax: Axes | None = None, legend: bool = True, at: float | None = None
) -> Figure:
    """Draw the cluster: leader(s) on top, followers below, lag on the edges, faults dashed.

    ``legend=False`` leaves out the key to shapes and colours (the node labels say it in words).
    ``at``: draw it as it was at that past time (from the record).
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    fig = ax.figure
    view = cluster.view(at)
    g = cluster_graph(cluster, at)
    pos = _layout(g)
    ax.set_axis_off()
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.65, max(xs) + 0.65)
    ax.set_ylim(-0.62, 1.6)

    crowded = sum(1 for n in g if g.nodes[n]["role"] != LEADER) > 3
    size = 7 if crowded else 8
    for i, (src, dst, e) in enumerate(g.edges(data=True)):
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        fault = e["link"] != "ok"
        down = not (g.nodes[src]["up"] and g.nodes[dst]["up"])
        colour = FAULT_COLOUR if fault else (DOWN_EDGE_COLOUR if down else EDGE_COLOUR)
        style = "--" if fault else (":" if down else "-")
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "linestyle": style,
                "linewidth": 1.6,
                "shrinkA": 17,
                "shrinkB": 17,
                "mutation_scale": 14,
            },
            zorder=1,
        )
        text = f"{e['behind']} behind"
        if fault:
            text = f"{e['link']}\n{text}"
        # labels nearer the followers, where the edges fan out; staggered when there are many
        t = (0.76 if i % 2 else 0.5) if crowded else 0.62
        ax.text(
            x0 + (x1 - x0) * t,
            y0 + (y1 - y0) * t,
            text,
            ha="center",
            va="center",
            fontsize=size,
            color=colour if fault else "black",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "lw": 0.8},
            zorder=3,
            gid=f"edge:{src}->{dst}",
        )

    epochs = len({g.nodes[n]["epoch"] for n in g}) > 1 or view.appointments > 1
    for name in g:
        attrs = g.nodes[name]
        marker, face, hatch = _node_style(attrs)
        x, y = pos[name]
        coll = ax.scatter(
            [x],
            [y],
            s=620,
            marker=marker,
            c=face,
            edgecolors="black",
            linewidths=1.4,
            hatch=hatch or None,
            zorder=2,
        )
        coll.set_gid(f"node:{name}")
        above = attrs["role"] == LEADER
        ax.text(
            x,
            y + (0.16 if above else -0.16),
            _node_label(name, attrs, epochs),
            ha="center",
            va="bottom" if above else "top",
            fontsize=size,
            linespacing=1.15,
            zorder=3,
            gid=f"label:{name}",
        )

    leaders = view.leaders()
    title = f"t = {view.time:.1f} s"
    if len(leaders) > 1:
        title += f"  ·  SPLIT BRAIN: {len(leaders)} leaders"
    pad = 6.0
    if view.faulty:  # say which links are down on a line between the title and the picture
        ax.text(
            0.0,
            1.01,
            network_faults(cluster, at),
            transform=ax.transAxes,
            fontsize=8,
            color=FAULT_COLOUR,
            va="bottom",
        )
        pad = 18.0
    ax.set_title(title, fontsize=11, loc="left", y=1.0, pad=pad)

    if not legend:
        return fig
    handles = [
        Line2D([], [], ls="", marker="s", ms=9, mfc=LEADER_COLOUR, mec="black", label="leader"),
        Line2D([], [], ls="", marker="o", ms=9, mfc=FOLLOWER_COLOUR, mec="black", label="follower"),
        Patch(fc=DOWN_COLOUR, ec="black", hatch="////", label="down (crashed)"),
    ]
    if any(g.nodes[n]["kind"] == "other leader" for n in g):
        handles.insert(1, Patch(fc=OTHER_LEADER_COLOUR, ec="black", hatch="xx", label="2nd leader"))
    if any(e["link"] != "ok" for *_, e in g.edges(data=True)):
        handles.append(Line2D([], [], color=FAULT_COLOUR, ls="--", label="cut or partitioned link"))
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=len(handles),
        fontsize=7.5,
        frameon=False,
        handlelength=1.5,
        columnspacing=1.0,
    )
    return fig


# --- lag over time -----------------------------------------------------------
def _peak_entries_behind(history: History, node: str, times: np.ndarray) -> np.ndarray:
    """The most entries ``node`` was behind within each interval from ``times[i]`` to ``times[i + 1]``.

    Exact: the lag only changes when a node's log position changes or a leader is
    appointed, so it is evaluated at every such moment and the maximum taken per interval.
    """
    refs = {n for _, n in history.leaders} | {node}
    moments = [times, np.array([t for t, _ in history.leaders], dtype=float)]
    moments += [np.frombuffer(history.tracks[n].t, dtype=np.float64) for n in sorted(refs)]
    every = np.unique(np.concatenate(moments))
    every = every[(every >= times[0]) & (every <= times[-1])]
    behind, _ = history.lag(node, every)
    return np.maximum.reduceat(behind, np.searchsorted(every, times))


def _write_gap(history: History, factor: float) -> float:
    """``factor`` times the typical gap between two writes on the leaders (inf if fewer than two)."""
    # a peak-lag step two gaps wide holds a write or more in steady state: a flat line, not a comb
    refs = sorted({n for _, n in history.leaders})
    moments = np.unique(np.concatenate([np.frombuffer(history.tracks[n].t, np.float64) for n in refs]))
    gaps = np.diff(moments)
    gaps = gaps[gaps > 0]
    return factor * float(np.median(gaps)) if len(gaps) else float("inf")


def _default_lag_nodes(cluster: Cluster) -> list[str]:
    """Every node except one that has led the whole time."""
    led = {n for _, n in cluster.history.leaders}
    return [n for n in cluster.names if not (led == {n})]


def _step_words(step: float) -> str:
    """A time step in words for an axis label: ``1 s``, ``0.4 s``, ``25 ms``."""
    return f"{step:.2g} s" if step >= 0.1 else f"{step * 1000:.2g} ms"


def lag_plot(
    cluster: Cluster,
    nodes: Sequence[str] | None = None,
    ax: Axes | None = None,
    unit: str = "entries",
    samples: int = 400,
    peak: bool = True,
    until: float | None = None,
    *,
    spans: Sequence[tuple[float, float, str]] = (),
    legend: bool = True,
) -> Figure:
    """Plot each follower's lag behind the leader of the moment, from t = 0 to now (or ``until``).

    The time axis is cut into ``samples - 1`` equal steps. In ``unit="entries"``
    with ``peak=True`` each step shows the most entries the node was behind during
    it, so brief lags are never missed or aliased; fewer, wider steps (two typical
    gaps between writes, but at least 40 steps) keep a steady stream of writes
    from drawing a comb of 0/1 spikes. With ``peak=False``, or in ``unit="seconds"``,
    each step shows the lag at its start. ``spans``: stretches of time to shade and name, such
    as ``(3, 4, "burst")``, for what the record does not hold as an event. ``legend=False``: no
    key (a second plot beside one that has it). A line at 0 stays visible on the axis.
    """
    if unit not in ("entries", "seconds"):
        raise ConfigError(f"unit must be 'entries' or 'seconds', got {unit!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise ConfigError(f"samples must be an integer >= 2, got {samples!r}")
    names = _default_lag_nodes(cluster) if nodes is None else list(nodes)
    for n in names:
        cluster.node(n)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    fig = ax.figure
    end = cluster.now if until is None else min(float(until), cluster.now)
    steps = samples - 1
    if unit == "entries" and peak:  # wide enough steps that a steady stream of writes draws a flat line
        steps = min(steps, max(int(end / _write_gap(cluster.history, 2.0)), _MIN_PEAK_STEPS))
    times = np.linspace(0.0, end, max(steps, 1) + 1)
    top = 0.0
    order = {n: i for i, n in enumerate(cluster.names)}  # a node keeps its colour across plots
    for n in names:
        i = order[n]
        if unit == "entries" and peak:
            y = _peak_entries_behind(cluster.history, n, times)
        else:
            y = cluster.history.lag(n, times)[0 if unit == "entries" else 1]
        top = max(top, float(y.max()) if len(y) else 0.0)
        ax.step(
            times,
            y,
            where="post",
            color=LINE_COLOURS[i % len(LINE_COLOURS)],
            linestyle=LINE_STYLES[i % len(LINE_STYLES)],
            linewidth=1.8,
            label=n,
        )
    for start, stop, what in spans:
        ax.axvspan(start, stop, facecolor="#EEEEEE", edgecolor="#BBBBBB", hatch="..", lw=0, zorder=0)
        ax.text((start + stop) / 2, 0.5, what, transform=ax.get_xaxis_transform(), ha="center", va="center",
                rotation=90, fontsize=8, color="#333333")  # fmt: skip
    ax.set_xlim(0.0, end if end > 0 else 1.0)  # the axis grows with the experiment, 50 ms steps too
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=STEPS))
    mark_events(ax, cluster)
    if unit == "entries":
        high = max(top * 1.3, 5)
        ax.set_ylim(-0.025 * high, high)  # a node never behind draws just above the axis, not under it
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, steps=STEPS))
        ax.set_ylabel(
            f"peak lag in each {_step_words(times[1] - times[0])} step\n(log entries behind the leader)"
            if peak
            else "lag (log entries behind the leader)"
        )
    else:
        high = max(top * 1.3, 1.0)
        ax.set_ylim(-0.025 * high, high)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=STEPS))
        ax.set_ylabel("lag (seconds behind the leader)")
    ax.set_xlabel("virtual time (s)")
    ax.set_title("Follower lag over time", fontsize=11, loc="left", y=1.0)
    ax.grid(True, axis="y", color="#E5E5E5", lw=0.8)
    ax.set_axisbelow(True)
    if names and legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="node", title_fontsize=8)
    return fig


# --- write availability ------------------------------------------------------
def availability_plot(
    cluster: Cluster, bin_seconds: float = 1.0, ax: Axes | None = None, until: float | None = None
) -> Figure:
    """Bar chart: the share of write attempts acknowledged in each time bin (to now, or ``until``).

    Acknowledged writes the leader of the moment no longer holds (lost at a failover) are drawn
    apart, hatched: acknowledged, then lost. The rest were refused, or never answered (still
    waiting, or outcome unknown).
    """
    if isinstance(bin_seconds, bool) or not isinstance(bin_seconds, (int, float)) or not bin_seconds > 0:
        raise ConfigError(f"bin_seconds must be > 0, got {bin_seconds!r}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    fig = ax.figure
    end = cluster.now if until is None else min(float(until), cluster.now)
    starts, share = cluster.history.write_availability(bin_seconds, until=end)
    tried = ~np.isnan(share)
    ok = np.where(tried, share, 0.0) * 100
    refused = np.where(tried, 100 - ok, 0.0)

    def per_bin(times: list[float]) -> np.ndarray:
        bins = np.minimum((np.asarray(times, dtype=float) // bin_seconds).astype(int), len(starts) - 1)
        return np.bincount(bins, minlength=len(starts))

    attempts = per_bin([o.invoke for o in cluster.history.writes() if o.invoke <= end])
    lost = 100 * per_bin([o.invoke for o in cluster.lost_writes(at=end)]) / np.maximum(attempts, 1)
    kept = ok - lost
    common = {"width": bin_seconds, "align": "edge", "linewidth": 0.5}
    layers = [  # (share, drawn on top of, colour, hatch, what)
        (kept, 0.0, "blue", None, "acknowledged"),
        (lost, kept, "orange", "xx", "acknowledged, then lost"),
        (refused, ok, "vermillion", "///", "refused or unanswered"),
    ]
    for share, bottom, colour, hatch, what in layers:
        if share.any() or what != "acknowledged, then lost":  # no lost writes: no key for them either
            ax.bar(starts, share, bottom=bottom, color=OKABE_ITO[colour], edgecolor="white", hatch=hatch,
                   label=what, **common)  # fmt: skip
    ax.set_xlim(0.0, max(end, bin_seconds))
    mark_events(ax, cluster)
    ax.set_ylim(0, 135)  # room above the bars for the event labels
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_xlabel("virtual time (s)")
    ax.set_ylabel(f"write attempts (% per {bin_seconds:g} s bin)")
    ax.set_title("Write availability", fontsize=11, loc="left", y=1.0)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(fc="white", ec="#999999", lw=0.8, label="none tried"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


# --- a key's value on each node over time --------------------------------------------------
def value_plot(
    cluster: Cluster, key: Any, nodes: Sequence[str] | None = None, ax: Axes | None = None
) -> Figure:
    """A key's value on each node from t = 0 to now, rebuilt from the record (key-value stores).

    Values that are not numbers are drawn as categories, in the order they first
    appear; "(none)" where a node does not hold the key. Lines are offset a little
    so that nodes holding the same value stay visible.
    """
    from ..history.measures import values_at

    names = list(cluster.names if nodes is None else nodes)
    for n in names:
        cluster.node(n)
    h = cluster.history
    series: dict[str, list[tuple[float, Any]]] = {}
    for n in names:
        track = h.tracks[n]
        moments = sorted({0.0, *track.t, *(s.time for s in track.states), cluster.now})
        points: list[tuple[float, Any]] = []
        for t in moments:
            v = values_at(h, n, t).get(key, None)
            if not points or repr(points[-1][1]) != repr(v):
                points.append((t, v))
        series[n] = points
    values = [v for pts in series.values() for _, v in pts]
    numeric = all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values)
    cats: list[str] = []
    if not numeric:
        for v in values:
            label = "(none)" if v is None else str(v)
            if label not in cats:
                cats.append(label)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    fig = ax.figure
    order = {n: i for i, n in enumerate(cluster.names)}
    spread = 0.08 if not numeric else 0.0
    for j, n in enumerate(names):
        pts = series[n] + [(cluster.now, series[n][-1][1])]
        xs = [t for t, _ in pts]
        if numeric:
            ys = [np.nan if v is None else float(v) for _, v in pts]
        else:
            ys = [
                cats.index("(none)" if v is None else str(v)) + (j - (len(names) - 1) / 2) * spread
                for _, v in pts
            ]
        i = order[n]
        ax.step(
            xs,
            ys,
            where="post",
            color=LINE_COLOURS[i % len(LINE_COLOURS)],
            linestyle=LINE_STYLES[i % len(LINE_STYLES)],
            linewidth=2.0,
            label=n,
        )
    if not numeric:
        ax.set_yticks(range(len(cats)), cats)
        ax.set_ylim(-0.6, len(cats) - 0.4)
    ax.set_xlim(0.0, max(cluster.now, 1.0))
    mark_events(ax, cluster, (*MARKED_EVENTS, "elected", "rejoin", "fenced", "step down"))
    ax.set_xlabel("virtual time (s)")
    ax.set_ylabel(f"value of {key!r}")
    ax.set_title(f"The value of {key!r} on each node", fontsize=11, loc="left", y=1.0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="node", title_fontsize=8)
    return fig


# figures that moved to their own modules, still importable from here
from .figures import (  # noqa: E402
    bytes_plot,
    divergence_plot,
    kept_log_plot,
    load_plot,
    read_scaling_plot,
    standby_lag_plot,
)
from .swimlane import swimlane_plot  # noqa: E402

__all__ = [
    "OKABE_ITO",
    "LINE_COLOURS",
    "LINE_STYLES",
    "cluster_graph",
    "cluster_picture",
    "network_faults",
    "lag_plot",
    "availability_plot",
    "value_plot",
    "swimlane_plot",
    "kept_log_plot",
    "read_scaling_plot",
    "load_plot",
    "bytes_plot",
    "divergence_plot",
    "standby_lag_plot",
]
