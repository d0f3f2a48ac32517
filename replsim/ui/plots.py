"""Figures of a cluster: its picture as a graph, follower lag over time, write availability.

Colours come from the Okabe-Ito palette, and every distinction that colour makes
is also made by a shape, a hatch, a line style or a word, so the figures stay
readable in greyscale and for colour-blind readers. Every function draws into
``ax`` when given one (and returns its figure), else makes a new pyplot figure, so
a notebook shows it and ``plt.show()`` works; none calls ``plt.show()`` itself.
Figures are deterministic: fixed layouts, no randomness.
"""

from __future__ import annotations

import math
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

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..history import History

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}
LINE_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#000000")
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))

_LEADER = OKABE_ITO["blue"]
_OTHER_LEADER = OKABE_ITO["reddish purple"]
_FOLLOWER = OKABE_ITO["sky blue"]
_DOWN = "#DDDDDD"  # light grey, hatched: lighter than both blues, also in greyscale
_DOWN_EDGE = "#8C8C8C"
_FAULT = OKABE_ITO["vermillion"]
_EDGE = "#333333"
_SPACING = 1.25  # between nodes in a row, in data units (rows are 1 apart)
_STEPS = [1, 2, 2.5, 5, 10]  # tick steps: 0, 5, 10 or 0, 20, 40 rather than 0, 8, 16
_MIN_PEAK_STEPS = 40  # peak-lag steps are never wider than 1/40 of the time axis
_MARKED_EVENTS = ("crash", "recover", "promote", "elected", "partition", "cut", "heal")


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
        return marker, _DOWN, "////"
    if attrs["kind"] == "other leader":
        return marker, _OTHER_LEADER, "xx"
    return marker, (_LEADER if attrs["role"] == LEADER else _FOLLOWER), ""


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
        colour = _FAULT if fault else (_DOWN_EDGE if down else _EDGE)
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
            color=_FAULT,
            va="bottom",
        )
        pad = 18.0
    ax.set_title(title, fontsize=11, loc="left", y=1.0, pad=pad)

    if not legend:
        return fig
    handles = [
        Line2D([], [], ls="", marker="s", ms=9, mfc=_LEADER, mec="black", label="leader"),
        Line2D([], [], ls="", marker="o", ms=9, mfc=_FOLLOWER, mec="black", label="follower"),
        Patch(fc=_DOWN, ec="black", hatch="////", label="down (crashed)"),
    ]
    if any(g.nodes[n]["kind"] == "other leader" for n in g):
        handles.insert(1, Patch(fc=_OTHER_LEADER, ec="black", hatch="xx", label="2nd leader"))
    if any(e["link"] != "ok" for *_, e in g.edges(data=True)):
        handles.append(Line2D([], [], color=_FAULT, ls="--", label="cut or partitioned link"))
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


def _mark_events(ax: Axes, cluster: Cluster, kinds: Sequence[str] = _MARKED_EVENTS) -> None:
    """Light vertical lines at crash/recover/promote/partition/heal events, labelled in staggered rows.

    Call after the x limits are set: labels that would overlap move down a row.
    """
    trans = ax.get_xaxis_transform()
    x0, x1 = ax.get_xlim()
    width_px = max(ax.get_position().width * ax.figure.get_figwidth() * 72.0, 1.0)  # in points
    per_point = (x1 - x0) / width_px
    row_end: list[float] = []
    for ev in cluster.history.events:
        if ev.kind not in kinds or ev.time > x1:
            continue
        ax.axvline(ev.time, color="#BBBBBB", lw=0.9, zorder=0)
        text = ev.kind if ev.node is None else f"{ev.kind} {ev.node}"
        span = (len(text) + 2) * 8 * 0.55 * per_point  # 8 pt text, about 0.55 em a character
        right = ev.time + span > x1  # no room on the right: write it to the left of the line
        start, end = (ev.time - span, ev.time) if right else (ev.time, ev.time + span)
        row = next((i for i, e in enumerate(row_end) if start > e), len(row_end))
        if row == len(row_end):
            row_end.append(x0 - 1.0)
        row_end[row] = end
        ax.text(
            ev.time,
            0.975 - 0.065 * (row % 4),
            (text + " ") if right else (" " + text),
            transform=trans,
            ha="right" if right else "left",
            va="top",
            fontsize=8,
            color="#333333",
            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85},
            zorder=1,
        )


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
) -> Figure:
    """Plot each follower's lag behind the leader of the moment, from t = 0 to now (or ``until``).

    The time axis is cut into ``samples - 1`` equal steps. In ``unit="entries"``
    with ``peak=True`` each step shows the most entries the node was behind during
    it, so brief lags are never missed or aliased; fewer, wider steps (two typical
    gaps between writes, but at least 100 steps) keep a steady stream of writes
    from drawing a comb of 0/1 spikes. With ``peak=False``, or in ``unit="seconds"``,
    each step shows the lag at its start.
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
    ax.set_xlim(0.0, end if end > 0 else 1.0)  # the axis grows with the experiment, 50 ms steps too
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=_STEPS))
    _mark_events(ax, cluster)
    if unit == "entries":
        ax.set_ylim(0, max(top * 1.3, 5))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, steps=_STEPS))
        ax.set_ylabel(
            f"peak lag in each {_step_words(times[1] - times[0])} step\n(log entries behind the leader)"
            if peak
            else "lag (log entries behind the leader)"
        )
    else:
        ax.set_ylim(0, max(top * 1.3, 1.0))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=_STEPS))
        ax.set_ylabel("lag (seconds behind the leader)")
    ax.set_xlabel("virtual time (s)")
    ax.set_title("Follower lag over time", fontsize=11, loc="left", y=1.0)
    ax.grid(True, axis="y", color="#E5E5E5", lw=0.8)
    ax.set_axisbelow(True)
    if names:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="node", title_fontsize=8)
    return fig


# --- write availability ------------------------------------------------------
def availability_plot(
    cluster: Cluster, bin_seconds: float = 1.0, ax: Axes | None = None, until: float | None = None
) -> Figure:
    """Bar chart: the share of write attempts acknowledged in each time bin (to now, or ``until``).

    The rest were refused, or never answered (still waiting, or outcome unknown).
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
    common = {"width": bin_seconds, "align": "edge", "linewidth": 0.5}
    ax.bar(starts, ok, color=OKABE_ITO["blue"], edgecolor="white", label="acknowledged", **common)
    ax.bar(
        starts,
        refused,
        bottom=ok,
        color=OKABE_ITO["vermillion"],
        edgecolor="white",
        hatch="///",
        label="refused or unanswered",
        **common,
    )
    ax.set_xlim(0.0, max(end, bin_seconds))
    _mark_events(ax, cluster)
    ax.set_ylim(0, 135)  # room above the bars for the event labels
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_xlabel("virtual time (s)")
    ax.set_ylabel(f"write attempts (% per {bin_seconds:g} s bin)")
    ax.set_title("Write availability", fontsize=11, loc="left", y=1.0)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(fc="white", ec="#999999", lw=0.8, label="none tried"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def standby_lag_plot(samples: Sequence[Any]) -> Figure:
    """The real-PostgreSQL lab's lag samples: WAL not replayed (kB) and replay_lag (ms) per standby.

    ``samples`` are ``replsim.lab.postgres.LagSample``s (``t``, and ``row`` with ``standby``,
    ``lag_bytes``, ``replay_lag`` in seconds or None).
    """
    fig, (by_bytes, by_time) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = sorted({s.row.standby for s in samples})
    for i, name in enumerate(names):
        style = {
            "color": LINE_COLOURS[i % len(LINE_COLOURS)],
            "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
            "marker": "os^D"[i % 4],
            "ms": 3,
            "label": name,
        }
        mine = [s for s in samples if s.row.standby == name]
        t = [s.t for s in mine]
        by_bytes.plot(t, [s.row.lag_bytes / 1024 for s in mine], **style)
        ms = [math.nan if s.row.replay_lag is None else 1000 * s.row.replay_lag for s in mine]
        by_time.plot(t, ms, **style)
    by_bytes.set(xlabel="time since the burst began (s)", ylabel="WAL not yet replayed (kB)")
    by_time.set(xlabel="time since the burst began (s)", ylabel="replay_lag (ms)")
    by_bytes.set_title("in bytes: WAL end - replay_lsn")
    by_time.set_title("in time: replay_lag")
    fig.suptitle("How far each standby is behind the primary during a write burst")
    for ax in (by_bytes, by_time):
        ax.grid(alpha=0.3)
        ax.legend(title="standby")
    fig.tight_layout()
    return fig


# --- the message timeline (swimlanes) ------------------------------------------------------
_KIND_COLOURS = {
    "append": OKABE_ITO["blue"],
    "ack": OKABE_ITO["sky blue"],
    "vote": OKABE_ITO["orange"],
    "voted": OKABE_ITO["bluish green"],
    "stale": OKABE_ITO["vermillion"],
    "ping": "#999999",
    "pong": "#666666",
    "request": OKABE_ITO["reddish purple"],
    "reply": OKABE_ITO["reddish purple"],
}
_STATE_MARKS = {
    "leader": ("s", _LEADER),
    "candidate": ("D", OKABE_ITO["orange"]),
    "follower": ("o", _FOLLOWER),
}


def _message_label(m: Any) -> str:
    """A message's kind and its main field, short: ``vote t3``, ``voted t3 yes``, ``append t2 +4``."""
    f = m.fields
    text = m.kind
    if "epoch" in f:
        text += f" t{f['epoch']}"
    if m.kind == "voted":
        text += " yes" if f.get("granted") else " no"
    elif m.kind == "append":
        lsns = f.get("lsns")
        text += f" +{lsns[1] - lsns[0] + 1}" if lsns else " (heartbeat)"
    return text


def swimlane_plot(
    cluster: Cluster,
    start: float = 0.0,
    end: float | None = None,
    *,
    lanes: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    labels: bool | None = None,
    ax: Axes | None = None,
) -> Figure:
    """A message timeline: one lane per node, an arrow per message from its sending to its arrival.

    Fed by the message journal (``cluster.network.messages``; it keeps the most recent
    ``keep_messages``). Messages sent between ``start`` and ``end`` (default: now) among
    ``lanes`` (default: every node), of ``kinds`` (default: all), are drawn; each is
    labelled with its kind and term (``labels``: default when there are at most 60).
    A lost message (random loss, partition, cut, or arriving at a crashed node) is
    dashed and ends in a cross where it would have arrived; one still travelling ends
    at now. Markers on a lane show the node becoming leader, candidate or follower.
    """
    end = cluster.now if end is None else end
    if not isinstance(start, (int, float)) or not isinstance(end, (int, float)) or not start < end:
        raise ConfigError(f"start must be a time before end, got start={start!r}, end={end!r}")
    names = list(cluster.names if lanes is None else lanes)
    for n in names:
        if n not in cluster.network.endpoints:
            known = ", ".join(repr(x) for x in cluster.network.endpoints)
            raise ConfigError(f"unknown lane {n!r}; the endpoints are {known}")
    y = {n: -i for i, n in enumerate(names)}
    msgs = [
        m
        for m in cluster.network.messages
        if start <= m.sent <= end and m.src in y and m.dst in y and (kinds is None or m.kind in kinds)
    ]
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 0.9 + 0.75 * len(names)), layout="constrained")
    fig = ax.figure
    show_labels = len(msgs) <= 60 if labels is None else labels
    used: dict[str, Any] = {}
    placed: list[tuple[float, float]] = []  # label positions so far: a label too close to one is left out
    near = (end - start) * 0.04
    for m in msgs:
        colour = _KIND_COLOURS.get(m.kind, "#333333")
        t1 = min(m.arrives, cluster.now)
        lost = m.lost
        style = "--" if lost else (":" if m.fate == "in flight" else "-")
        ax.annotate(
            "",
            xy=(t1, y[m.dst]),
            xytext=(m.sent, y[m.src]),
            arrowprops={
                "arrowstyle": "-" if lost else "-|>",
                "color": colour,
                "linestyle": style,
                "linewidth": 1.1,
                "shrinkA": 0,
                "shrinkB": 0,
                "mutation_scale": 9,
            },
            zorder=2,
        )
        used.setdefault(m.kind, colour)
        if lost:
            ax.plot([t1], [y[m.dst]], marker="x", color=_FAULT, ms=7, mew=1.6, zorder=3)
        lx, ly = m.sent + (t1 - m.sent) * 0.35, y[m.src] + (y[m.dst] - y[m.src]) * 0.35
        if show_labels and not any(abs(lx - px) < near and abs(ly - py) < 0.15 for px, py in placed):
            placed.append((lx, ly))  # a third of the way along: a broadcast labels each arrow apart
            ax.text(
                lx,
                ly,
                _message_label(m) + (f" ({m.fate})" if lost else ""),
                fontsize=6.5,
                ha="center",
                va="center",
                color=colour if not lost else _FAULT,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
                zorder=4,
                clip_on=True,
            )
    for n in names:
        ax.axhline(y[n], color="#DDDDDD", lw=0.8, zorder=0)
        track = cluster.history.tracks.get(n)
        if track is None:
            continue
        last = -math.inf
        above = True
        for s in track.states:
            if start <= s.time <= end:
                marker, colour = _STATE_MARKS.get(s.role, ("o", "#999999"))
                if not s.up:
                    marker, colour = "X", _DOWN_EDGE
                ax.plot([s.time], [y[n]], marker=marker, color=colour, mec="black", ms=8, zorder=5)
                word = s.role if s.up else "down"
                above = not above if s.time - last < (end - start) * 0.08 else True  # close ones alternate
                last = s.time
                ax.text(
                    s.time,
                    y[n] + (0.16 if above else -0.16),
                    f"{word} t{s.epoch}",
                    fontsize=7,
                    ha="center",
                    va="bottom" if above else "top",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
                    zorder=6,
                )
    ax.set_yticks([y[n] for n in names], names)
    ax.set_ylim(-len(names) + 0.5, 0.6)
    ax.set_xlim(start, end)
    ax.set_xlabel("virtual time (s)")
    ax.set_title("Messages between the nodes", fontsize=11, loc="left", y=1.0)
    handles = [Line2D([], [], color=c, lw=1.5, label=k) for k, c in used.items()]
    if any(m.lost for m in msgs):
        handles.append(Line2D([], [], color=_FAULT, ls="--", marker="x", label="lost"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="message")
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
    _mark_events(ax, cluster, (*_MARKED_EVENTS, "elected", "rejoin", "fenced", "step down"))
    ax.set_xlabel("virtual time (s)")
    ax.set_ylabel(f"value of {key!r}")
    ax.set_title(f"The value of {key!r} on each node", fontsize=11, loc="left", y=1.0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="node", title_fontsize=8)
    return fig


# --- lesson 2: the log a leader keeps, reads spread over followers --------------------
def kept_log_plot(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    away: tuple[float, float] | None = None,
    unit: str = "entries",
    ax: Axes | None = None,
) -> Figure:
    """Lines: how much log the leader keeps over time, one per set-up (label -> (times, amounts)).

    ``away``: (start, end) of a follower's absence, shaded.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    fig = ax.figure
    if away is not None:
        ax.axvspan(*away, color="#EEEEEE", hatch="//", ec="#BBBBBB", lw=0, label="a follower is away")
    for i, (label, (t, amount)) in enumerate(series.items()):
        ax.plot(t, amount, color=LINE_COLOURS[i], ls=LINE_STYLES[i], lw=1.8, label=label)
    ax.set_xlabel("virtual time (s)")
    ax.set_ylabel(f"log kept by the leader ({unit})")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("The leader's log: what it keeps for its followers", fontsize=11, loc="left")
    return fig


def read_scaling_plot(rows: Sequence[Any]) -> Figure:
    """Three panels per read-spread set-up (``replsim.clients.readers.ReadScaling`` rows): the leader's
    busy share, read latency (median and 95th percentile) and the share of stale reads."""
    fig, (busy, latency, stale) = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
    x = np.arange(len(rows))
    labels = [str(r.followers) for r in rows]
    bars = busy.bar(x, [100 * r.leader_busy for r in rows], color=_LEADER, width=0.6)
    busy.bar_label(bars, fmt="%.0f%%", fontsize=8)
    busy.set(ylim=(0, 105), ylabel="leader busy serving reads (%)", title="Leader's load")
    latency.plot(x, [r.median_ms for r in rows], "o-", color=LINE_COLOURS[1], label="median")
    latency.plot(x, [r.p95_ms for r in rows], "s--", color=LINE_COLOURS[3], label="95th percentile")
    latency.set(ylim=(0, None), ylabel="read latency (ms)", title="Read latency")
    latency.legend(fontsize=8)
    bars = stale.bar(x, [100 * r.stale_share for r in rows], color=_FAULT, hatch="//", ec="white", width=0.6)
    stale.bar_label(bars, fmt="%.1f%%", fontsize=8)
    top = max([100 * r.stale_share for r in rows] + [1.0])
    stale.set(ylim=(0, top * 1.3), ylabel="stale reads (% of reads)", title="Stale reads: the price")
    for ax in (busy, latency, stale):
        ax.set_xticks(x, labels)
        ax.set_xlabel("followers sharing the reads")
        ax.grid(axis="y", alpha=0.3)
    return fig


def load_plot(cluster: Cluster, ax: Axes | None = None, window: float = 1.0) -> Figure:
    """Bars: the share of the last ``window`` seconds each node spent serving reads (the panel's view)."""
    from ..clients.readers import busy_share

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    fig = ax.figure
    names = cluster.names
    start = max(cluster.now - window, 0.0)
    share = [100 * busy_share(cluster.history, n, start, cluster.now) for n in names]
    colours = [_LEADER if n == cluster.leader else _FOLLOWER for n in names]
    hatches = ["" if cluster.node(n).up else "xx" for n in names]
    bars = ax.bar(range(len(names)), share, color=colours, edgecolor=_EDGE, linewidth=0.6)
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    ax.bar_label(bars, fmt="%.0f%%", fontsize=8)
    ax.set_xticks(range(len(names)), [n.replace(" ", "\n", 1) for n in names], fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel(f"busy serving reads (% of last {window:g} s)")
    ax.set_title("Read load per node", fontsize=11, loc="left", y=1.0)
    return fig


# --- lesson 3: three ways to ship a change ------------------------------------------------
def bytes_plot(shipped: Sequence[Any], labels: Sequence[str] | None = None) -> Figure:
    """Grouped bars, log scale: bytes each method shipped per statement (``replsim.methods.Shipped``)."""
    fig, ax = plt.subplots(figsize=(11, 4.2), layout="constrained")
    n = len(shipped[0].sizes)
    labels = list(labels) if labels is not None else [f"statement {i + 1}" for i in range(n)]
    width = 0.8 / len(shipped)
    hatches = ("", "//", "..", "xx", "\\\\")
    for i, s in enumerate(shipped):
        x = np.arange(n) + (i - (len(shipped) - 1) / 2) * width
        ax.bar(
            x,
            s.sizes,
            width,
            color=LINE_COLOURS[i],
            hatch=hatches[i % len(hatches)],
            edgecolor="white",
            label=f"{s.name} ({s.total:,} bytes in all)",
        )
    ax.set_yscale("log")
    top = max(max(s.sizes) for s in shipped)
    ax.set_ylim(10, top * 60)  # room for the legend above the bars
    ax.set_xticks(np.arange(n), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("bytes shipped to each follower")
    ax.grid(axis="y", alpha=0.3, which="major")
    ax.legend(fontsize=8, loc="upper center", ncol=3)
    ax.set_title("The same statements, shipped three ways", fontsize=11, loc="left")
    return fig


def divergence_plot(cluster: Cluster, ax: Axes | None = None) -> Figure:
    """Bars: rows of each follower's database that differ from the leader's (the lesson 3 panel's view)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    fig = ax.figure
    lead = cluster.leader
    others = [n for n in cluster.names if n != lead]
    counts = [len(cluster.divergence([lead, n])) for n in others]
    bars = ax.bar(range(len(others)), counts, color=_FAULT, hatch="//", edgecolor="white")
    ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(others)), others, fontsize=8)
    ax.set_ylim(0, max([*counts, 4]) * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=_STEPS))
    ax.set_ylabel(f"rows that differ from {lead}")
    ax.set_title("Divergent rows", fontsize=11, loc="left", y=1.0)
    return fig
