"""The lessons' own figures, in the course's palette: the log a leader keeps and reads spread over
followers (lesson 2), bytes shipped and divergent rows (lesson 3), what readers see (lesson 4), what
commits cost (lesson 7), the real standbys' lag (lesson 8).

Like ``replsim.ui.plots``: every function draws into ``ax`` (or ``axes``) when given,
else makes a new pyplot figure, returns the figure and never calls ``plt.show()``;
colour is always doubled by a hatch, a marker or a label, for greyscale and for
colour-blind readers.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import ConfigError
from ..history.anomalies import KINDS
from .style import (
    EDGE_COLOUR,
    FAULT_COLOUR,
    FOLLOWER_COLOUR,
    LEADER_COLOUR,
    LINE_COLOURS,
    LINE_STYLES,
    OKABE_ITO,
    STEPS,
)
from .style import mark_events as _mark_events

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..course.sweep import Failover

HATCHES = ("", "///", "xx", "..", "\\\\\\", "++")
_LABEL_BOX = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85}


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _pair(axes: Sequence[Axes] | None, figsize: tuple[float, float]) -> Sequence[Axes]:
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    if len(axes) != 2:
        raise ConfigError(f"axes must be two axes side by side, got {len(axes)}")
    return axes


def _bars(ax: Axes, labels: Sequence[str], series: Mapping[str, Sequence[float]], fmt: str = "{:g}") -> None:
    """Grouped bars: one group per label, one bar per series (colour and hatch), values written on top."""
    n = len(series)
    width = 0.8 / max(n, 1)
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        pos = x - 0.4 + width * (i + 0.5)
        bars = ax.bar(
            pos,
            values,
            width,
            label=name,
            color=LINE_COLOURS[i % len(LINE_COLOURS)],
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor="#333333",
            linewidth=0.6,
        )
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=7, padding=1)
    ax.set_xticks(x, labels)
    ax.grid(True, axis="y", color="#E5E5E5", lw=0.8)
    ax.set_axisbelow(True)


def geo_read_plot(rows: Mapping[str, Mapping[str, float]], axes: Sequence[Axes] | None = None) -> Figure:
    """Per city: read latency from the nearest replica and from the leader, and the staleness it buys.

    ``rows``: city -> ``{"nearest ms", "leader ms", "stale %", "stale by ms"}`` (mean latencies; the
    share of reads from the nearest replica that were stale, and by how much on average).
    """
    left, right = _pair(axes, (10, 3.8))
    cities = list(rows)
    _bars(
        left,
        cities,
        {
            "from the nearest replica": [rows[c]["nearest ms"] for c in cities],
            "from the leader": [rows[c]["leader ms"] for c in cities],
        },
        "{:.0f}",
    )
    left.set_ylabel("mean read latency (ms)")
    left.set_title("What a reader waits", fontsize=11, loc="left")
    left.legend(fontsize=8, loc="upper left")
    left.set_ylim(0, max(max(rows[c]["leader ms"] for c in cities), 1) * 1.25)
    _bars(right, cities, {"stale reads (%)": [rows[c]["stale %"] for c in cities]}, "{:.0f}%")
    twin = right.twinx()
    twin.plot(
        np.arange(len(cities)),
        [rows[c]["stale by ms"] for c in cities],
        marker="D",
        color=OKABE_ITO["vermillion"],
        linestyle="--",
        label="stale by, on average (ms)",
    )
    twin.set_ylabel("stale by (ms)")
    twin.set_ylim(0, max([rows[c]["stale by ms"] for c in cities] + [1]) * 1.3)
    right.set_ylim(0, max([rows[c]["stale %"] for c in cities] + [1]) * 1.3)
    right.set_ylabel("reads from the nearest replica\nthat were stale (%)")
    right.set_title("What it buys: staleness", fontsize=11, loc="left")
    handles = right.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    right.legend(handles=handles, fontsize=8, loc="upper left")
    return left.figure


def policy_plot(rows: Sequence[Mapping[str, Any]], axes: Sequence[Axes] | None = None) -> Figure:
    """Per read policy: how many of each anomaly the checkers found, and the read latency it costs.

    ``rows``: ``{"policy", "counts": {kind: n}, "mean ms", "p99 ms"}`` per policy, and ``"on leader %"``
    (the share of reads the leader served: the other cost, said under each policy) where known.
    """
    left, right = _pair(axes, (11, 4.6))
    names = [r["policy"] for r in rows]
    short = [textwrap.fill(n, 13) for n in names]  # "wait for position (writes)" on three short lines
    counts = {k: [r["counts"][k] for r in rows] for k in KINDS}
    _bars(left, short, counts, "{:d}")
    left.set_yscale("symlog", linthresh=10)  # a few anomalies stay visible beside hundreds of stale reads
    left.set_ylim(0, max([v for c in counts.values() for v in c] + [1]) * 8)
    left.set_ylabel("anomalies found in the clients' histories\n(linear to 10, logarithmic above)")
    left.set_title("What readers saw", fontsize=11, loc="left")
    left.legend(fontsize=7, loc="upper right")
    left.tick_params(axis="x", labelsize=7)
    on_leader = [
        f"{short[i]}\nleader: {r['on leader %']:.0f}%" if "on leader %" in r else short[i]
        for i, r in enumerate(rows)
    ]
    _bars(
        right,
        on_leader,
        {"mean": [r["mean ms"] for r in rows], "99th percentile": [r["p99 ms"] for r in rows]},
        "{:.1f}",
    )
    right.set_ylabel("read latency (ms)")
    right.set_ylim(0, max([r["p99 ms"] for r in rows] + [1]) * 1.35)  # room for the legend above the bars
    right.set_title("What it cost: latency, and the reads the leader serves", fontsize=11, loc="left")
    right.legend(fontsize=8, loc="upper left")
    right.tick_params(axis="x", labelsize=7)
    return left.figure


def tradeoff_plot(runs: Iterable[Failover], axes: Sequence[Axes] | None = None) -> Figure:
    """Per commit mode: the write latency clients saw (box plot), and the acknowledged writes lost at
    failover, by what went wrong before it (a network fault, the whole zone failing, or neither)."""
    left, right = _pair(axes, (11, 4.2))
    by_mode: dict[str, list[Failover]] = {}
    for r in runs:
        by_mode.setdefault(r.mode, []).append(r)
    modes = list(by_mode)
    short = [m.replace(", ", ",\n") for m in modes]
    lat = [np.concatenate([r.latencies for r in by_mode[m]]) * 1000 for m in modes]
    box = left.boxplot(lat, whis=(1, 99), showfliers=False, patch_artist=True, widths=0.6)
    left.set_xticks(np.arange(1, len(modes) + 1), short)
    for i, patch in enumerate(box["boxes"]):
        patch.set(facecolor=LINE_COLOURS[i % len(LINE_COLOURS)], hatch=HATCHES[i % len(HATCHES)], alpha=0.85)
    for xi, (med, values) in enumerate(zip(box["medians"], lat), 1):
        med.set(color="black", linewidth=1.6)
        m = float(np.median(values))  # a narrow box is a line: its value said in words
        left.annotate(f"{m:.3g} ms", (xi, m), xytext=(0, 6), textcoords="offset points", ha="center",
                      fontsize=7, bbox=_LABEL_BOX)  # fmt: skip
    left.set_yscale("log")
    left.set_ylabel("write latency seen by the client (ms)\nbox: middle half; whiskers: 1% to 99%")
    left.set_title("Cost: latency of every write", fontsize=11, loc="left")
    left.tick_params(axis="x", labelsize=7)
    left.grid(True, axis="y", color="#E5E5E5", lw=0.8)
    causes = {
        "network fault first": lambda r: r.network_fault,
        "zone failed with it": lambda r: r.zone_failure and not r.network_fault,
        "neither": lambda r: not (r.network_fault or r.zone_failure),
    }
    bottom = np.zeros(len(modes))
    x = np.arange(len(modes))
    for i, (name, test) in enumerate(causes.items()):
        vals = np.array([sum(r.lost for r in by_mode[m] if test(r)) for m in modes], dtype=float)
        right.bar(
            x,
            vals,
            0.6,
            bottom=bottom,
            label=name,
            color=LINE_COLOURS[(i + 3) % len(LINE_COLOURS)],
            hatch=HATCHES[i + 1],
            edgecolor="#333333",
            linewidth=0.6,
        )
        bottom += vals
    for xi, m in zip(x, modes):
        n = len(by_mode[m])
        losing = sum(r.lost > 0 for r in by_mode[m])
        right.text(
            xi,
            bottom[xi] * 1.15 + 0.3,
            f"{int(bottom[xi])}\n{losing}/{n}",
            ha="center",
            va="bottom",
            fontsize=7,
        )
    right.set_xticks(x, short)
    right.tick_params(axis="x", labelsize=7)
    right.set_yscale(
        "symlog", linthresh=10
    )  # linear to 10, then logarithmic: 2 lost stays visible beside 1,400
    right.set_ylim(0, max(bottom.max(), 1) * 6)
    right.set_ylabel("acknowledged writes lost, all failovers\n(on top: total, failovers losing any)\n"
                     "linear to 10, logarithmic above")  # fmt: skip
    right.set_title("Risk: writes lost at failover", fontsize=11, loc="left")
    right.legend(fontsize=8, loc="upper right", title="before the crash", title_fontsize=8)
    right.grid(True, axis="y", color="#E5E5E5", lw=0.8)
    right.set_axisbelow(True)
    return left.figure


def same_scales(axes: Sequence[Axes]) -> None:
    """Give plots side by side (or stacked) one scale: each y-axis, and each twin y-axis, the largest range
    among them, so that 4 waiting writes never look as big as 250."""
    axes = list(axes)
    if not axes:
        return
    top = max(ax.get_ylim()[1] for ax in axes)
    for ax in axes:
        ax.set_ylim(0, top)
    twins = [t for ax in axes for t in ax.figure.axes if t is not ax and t.bbox.bounds == ax.bbox.bounds]
    if twins:
        high = max(t.get_ylim()[1] for t in twins)
        for t in twins:
            t.set_ylim(0, high)


def acknowledged_plot(
    cluster: Cluster,
    ax: Axes | None = None,
    bin_seconds: float = 0.25,
    title: str | None = None,
    waiting: bool = True,
) -> Figure:
    """Writes acknowledged per second over time (by when the client heard), and (``waiting``) the
    writes left waiting, on a second axis.

    A synchronous commit whose standby is dead acknowledges nothing: the line drops to 0
    while the waiting ones pile up (the shaded area), then they are all released at once.
    """
    if isinstance(bin_seconds, bool) or not isinstance(bin_seconds, (int, float)) or not bin_seconds > 0:
        raise ConfigError(f"bin_seconds must be > 0, got {bin_seconds!r}")
    ax = _axes(ax, (8, 3.4))
    end = max(cluster.now, bin_seconds)
    edges = np.arange(0.0, end + bin_seconds, bin_seconds)
    writes = cluster.history.writes()
    done = np.array([o.complete for o in writes if o.outcome == "ok" and o.complete is not None])
    counts, _ = np.histogram(done, bins=edges)
    starts = edges[:-1]
    ax.step(
        starts,
        counts / bin_seconds,
        where="post",
        color=LINE_COLOURS[4],
        lw=1.8,
        label="acknowledged per second",
    )
    handles = []
    if waiting:
        held = [
            sum(o.invoke <= t and (o.complete is None or o.complete > t or o.outcome != "ok") for o in writes)
            for t in starts
        ]
        twin = ax.twinx()
        twin.fill_between(
            starts,
            held,
            step="post",
            facecolor="#EEEEEE",
            edgecolor="#888888",
            hatch="//",
            lw=0,
            label="waiting",
        )
        twin.set_ylabel("writes waiting for an answer")
        twin.set_ylim(0, max(max(held, default=0), 1) * 1.4)
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        handles = twin.get_legend_handles_labels()[0]
    ax.set_xlim(0, end)
    ax.set_ylim(0, max(counts.max(initial=0) / bin_seconds, 1) * 1.4)
    _mark_events(ax, cluster)
    ax.set_xlabel("virtual time (s)")
    ax.set_ylabel("writes acknowledged per second")
    ax.set_title(title or "Acknowledged writes", fontsize=11, loc="left")
    handles = ax.get_legend_handles_labels()[0] + handles
    if waiting:  # one line alone needs no legend: its axis says what it is
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.12, 1.0))
    return ax.figure


def stage_timeline(times: Mapping[str, Mapping[str, float]], ax: Axes | None = None) -> Figure:
    """One write's path, per setting: when the standby received, flushed and applied it, and when the
    client heard back (``times``: setting -> ``{"received", "flushed", "applied", "acknowledged"}``, ms)."""
    ax = _axes(ax, (8, 2.8))
    marks = {"received": "o", "flushed": "s", "applied": "^", "acknowledged": "*"}
    for i, t in enumerate(times.values()):
        y = len(times) - 1 - i
        ax.plot([0, t["acknowledged"]], [y, y], color="#BBBBBB", lw=3, zorder=1)
        for j, (stage, m) in enumerate(marks.items()):
            ax.plot(
                t[stage],
                y,
                marker=m,
                markersize=11 if stage == "acknowledged" else 8,
                linestyle="none",
                color=LINE_COLOURS[j],
                label=stage if i == 0 else None,
                zorder=2,
            )
        ax.annotate(
            f"{t['acknowledged']:.1f} ms",
            (t["acknowledged"], y),
            xytext=(8, -3),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_yticks(range(len(times)), list(reversed(list(times))))
    ax.set_xlabel("time since the client sent the write (ms)")
    ax.set_xlim(0, max(t["acknowledged"] for t in times.values()) * 1.2)
    ax.set_ylim(-0.7, len(times) - 0.3)
    ax.legend(fontsize=8, ncol=4, loc="lower right", bbox_to_anchor=(1.0, 1.0))
    ax.grid(True, axis="x", color="#E5E5E5", lw=0.8)
    return ax.figure


def standby_lag_plot(samples: Sequence[Any], pause: tuple[str, float] | None = None) -> Figure:
    """The real-PostgreSQL lab's lag samples: WAL not replayed (kB) and replay_lag (ms) per standby.

    ``samples`` are ``replsim.lab.postgres.LagSample``s (``t``, and ``row`` with ``standby``,
    ``lag_bytes``, ``replay_lag`` in seconds or None); ``pause``: ``(standby, seconds)`` as given to
    ``sample_lag``, shaded.
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
    if pause is not None:
        for ax in (by_bytes, by_time):
            ax.axvspan(
                0, pause[1], color="#EEEEEE", hatch="//", ec="#BBBBBB", lw=0, label=f"{pause[0]} paused"
            )
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
    """Three panels per read-spread set-up (``replsim.course.readers.ReadScaling`` rows): the leader's
    busy share, read latency (median and 95th percentile) and the share of stale reads."""
    fig, (busy, latency, stale) = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
    x = np.array([r.followers for r in rows], dtype=float)  # to scale: 0, 1, 2, 4 are not evenly spaced
    labels = [str(r.followers) for r in rows]
    bars = busy.bar(x, [100 * r.leader_busy for r in rows], color=LEADER_COLOUR, width=0.5)
    busy.bar_label(bars, fmt="%.0f%%", fontsize=8)
    busy.set(ylim=(0, 105), ylabel="leader busy serving reads (%)", title="Leader's load")
    latency.plot(x, [r.median_ms for r in rows], "o-", color=LINE_COLOURS[1], label="median")
    latency.plot(x, [r.p95_ms for r in rows], "s--", color=LINE_COLOURS[3], label="95th percentile")
    latency.set(ylim=(0, None), ylabel="read latency (ms)", title="Read latency")
    latency.legend(fontsize=8)
    bars = stale.bar(
        x, [100 * r.stale_share for r in rows], color=FAULT_COLOUR, hatch="//", ec="white", width=0.5
    )
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
    from ..course.readers import busy_share

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    fig = ax.figure
    names = cluster.names
    start = max(cluster.now - window, 0.0)
    share = [100 * busy_share(cluster.history, n, start, cluster.now) for n in names]
    colours = [LEADER_COLOUR if n == cluster.leader else FOLLOWER_COLOUR for n in names]
    hatches = ["" if cluster.node(n).up else "xx" for n in names]
    bars = ax.bar(range(len(names)), share, color=colours, edgecolor=EDGE_COLOUR, linewidth=0.6)
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    ax.bar_label(bars, fmt="%.0f%%", fontsize=8)
    if not any(share):  # say why the chart is empty, and what fills it
        ax.text(0.5, 0.55, "no reads yet:\nclick Spread reads, then Advance", transform=ax.transAxes,
                ha="center", va="center", fontsize=9, color="#333333")  # fmt: skip
    ax.set_xticks(range(len(names)), [n.replace(" ", "\n", 1) for n in names], fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel(f"busy serving reads (% of last {window:g} s)")
    ax.set_title("Read load per node", fontsize=11, loc="left", y=1.0)
    return fig


# --- lesson 3: three ways to ship a change ------------------------------------------------
def bytes_plot(shipped: Sequence[Any], labels: Sequence[str] | None = None) -> Figure:
    """The cost and the result of each way of shipping the same statements
    (``replsim.course.methods.Shipped``): on the left, bytes shipped per statement (one row per
    statement, a bar per method, log scale); on the right, each method's total bytes and the rows
    that differ from the leader's afterwards."""
    n = len(shipped[0].sizes)
    labels = list(labels) if labels is not None else [f"statement {i + 1}" for i in range(n)]
    fig, (ax, result) = plt.subplots(
        1, 2, figsize=(11, 0.42 * n + 1.6), layout="constrained", width_ratios=(2.3, 1)
    )
    height = 0.8 / len(shipped)
    hatches = ("", "//", "..", "xx", "\\\\")
    for i, s in enumerate(shipped):
        y = np.arange(n) + (i - (len(shipped) - 1) / 2) * height
        ax.barh(y, s.sizes, height, color=LINE_COLOURS[i], hatch=hatches[i % len(hatches)], edgecolor="white",
                label=s.name)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yticks(np.arange(n), labels, fontsize=9)
    ax.invert_yaxis()  # the day's first statement on top
    ax.set_xlabel("bytes shipped to each follower, per statement (log scale)")
    ax.grid(axis="x", alpha=0.3, which="major")
    ax.legend(fontsize=8, loc="lower right", title="method", title_fontsize=8)
    ax.set_title(f"The same {n} statements, shipped {len(shipped)} ways", fontsize=11, loc="left")
    names = [s.name for s in shipped]
    y = np.arange(len(shipped))
    rows = [s.divergent_rows for s in shipped]
    bars = result.barh(y, rows, 0.6, color=FAULT_COLOUR, hatch="//", edgecolor="white")
    result.bar_label(bars, [f"{r} rows differ; {s.total:,} bytes in all" for r, s in zip(rows, shipped)],
                     fontsize=8, padding=3)  # fmt: skip
    result.set_yticks(y, names, fontsize=9)
    result.invert_yaxis()
    result.set_xlim(0, max([*rows, 1]) * 3.2)  # room for the labels
    result.set_xlabel("rows that differ from the leader's")
    result.set_title("The result: divergent rows", fontsize=11, loc="left")
    return fig


def divergence_plot(cluster: Cluster, ax: Axes | None = None) -> Figure:
    """Bars: rows of each follower's database that differ from the leader's (the lesson 3 panel's view)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    fig = ax.figure
    lead = cluster.leader
    others = [n for n in cluster.names if n != lead]
    counts = [len(cluster.divergence([lead, n])) for n in others]
    bars = ax.bar(range(len(others)), counts, color=FAULT_COLOUR, hatch="//", edgecolor="white")
    ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(others)), others, fontsize=8)
    ax.set_ylim(0, max([*counts, 4]) * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=STEPS))
    ax.set_ylabel(f"rows that differ from {lead}")
    ax.set_title("Divergent rows", fontsize=11, loc="left", y=1.0)
    return fig


__all__ = [
    "kept_log_plot",
    "read_scaling_plot",
    "load_plot",
    "bytes_plot",
    "divergence_plot",
    "geo_read_plot",
    "policy_plot",
    "tradeoff_plot",
    "acknowledged_plot",
    "same_scales",
    "stage_timeline",
    "standby_lag_plot",
]
