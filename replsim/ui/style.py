"""The course's figure style: the Okabe-Ito palette, line styles, the colours of roles and faults, and the
marks of cluster events on a time axis (shared by ``plots``, ``figures`` and ``swimlane``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.axes import Axes

if TYPE_CHECKING:
    from ..cluster import Cluster

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

# the colours of roles, health and faults (each also told by a shape, a hatch or a word)
LEADER_COLOUR = OKABE_ITO["blue"]
OTHER_LEADER_COLOUR = OKABE_ITO["reddish purple"]
FOLLOWER_COLOUR = OKABE_ITO["sky blue"]
DOWN_COLOUR = "#DDDDDD"  # light grey, hatched: lighter than both blues, also in greyscale
DOWN_EDGE_COLOUR = "#8C8C8C"
FAULT_COLOUR = OKABE_ITO["vermillion"]
EDGE_COLOUR = "#333333"
STEPS = [1, 2, 2.5, 5, 10]  # tick steps: 0, 5, 10 or 0, 20, 40 rather than 0, 8, 16
MARKED_EVENTS = ("crash", "recover", "promote", "elected", "partition", "cut", "heal")


def mark_events(ax: Axes, cluster: Cluster, kinds: Sequence[str] = MARKED_EVENTS) -> None:
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
