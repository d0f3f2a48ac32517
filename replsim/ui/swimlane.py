"""The message timeline drawn with matplotlib (a static figure; the live view has its own, in the browser):
one lane per node, an arrow per message from the journal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..errors import ConfigError
from .style import DOWN_EDGE_COLOUR, FAULT_COLOUR, FOLLOWER_COLOUR, LEADER_COLOUR, OKABE_ITO

if TYPE_CHECKING:
    from ..cluster import Cluster

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
    "leader": ("s", LEADER_COLOUR),
    "candidate": ("D", OKABE_ITO["orange"]),
    "follower": ("o", FOLLOWER_COLOUR),
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
            ax.plot([t1], [y[m.dst]], marker="x", color=FAULT_COLOUR, ms=7, mew=1.6, zorder=3)
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
                color=colour if not lost else FAULT_COLOUR,
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
                    marker, colour = "X", DOWN_EDGE_COLOUR
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
        handles.append(Line2D([], [], color=FAULT_COLOUR, ls="--", marker="x", label="lost"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="message")
    return fig
