"""What the cluster looks like at one moment: each node's role, health, epoch, position and trouble."""

from __future__ import annotations

from typing import Any, NamedTuple

from .node.roles import LEADER


class NodeView(NamedTuple):
    """One node at one moment: role, health, epoch, position, whom it follows, and any trouble."""

    role: str
    up: bool
    epoch: int
    lsn: int
    leader: str | None
    trouble: str


class View(NamedTuple):
    """The cluster at one moment, live (now) or rebuilt from the record (a past time)."""

    time: float
    leader: str  # the node appointed leader most recently
    nodes: dict[str, NodeView]
    groups: list[list[str]]  # partition groups (one group: no partition)
    cuts: list[tuple[str, str]]  # one-way cuts in force
    appointments: int  # leaders appointed so far (1 until the first promotion)

    def leaders(self) -> list[str]:
        """Every running node that believes it leads (more than one: split brain)."""
        return [n for n, v in self.nodes.items() if v.up and v.role == LEADER]

    def lag(self) -> dict[str, int]:
        """How many log entries each other node is behind the appointed leader."""
        lead = self.nodes[self.leader].lsn
        return {n: max(lead - v.lsn, 0) for n, v in self.nodes.items() if n != self.leader}

    @property
    def faulty(self) -> bool:
        """True while a partition or cut is in force."""
        return len(self.groups) > 1 or bool(self.cuts)


def status_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The node status as text cells, (header, rows): used by ``Cluster.table`` and the control panel."""
    head = ["node", "role", "state", "epoch", "lsn", "behind"]
    out = []
    for r in rows:
        state = "up" if r["up"] else "DOWN"
        if r.get("trouble"):
            state += f" ({r['trouble']})"
        out.append([r["node"], r["role"], state, str(r["epoch"]), str(r["lsn"]), str(r["behind"])])
    return head, out


__all__ = ["NodeView", "View", "status_table"]
