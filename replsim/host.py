"""What the cluster gives its nodes (``replsim.node.Host``): time, the network, and the record."""

from __future__ import annotations

from typing import Any

from .history import INFO, OK, PENDING


class NodeHost:
    """What the cluster gives its nodes (see ``replsim.node.Host``): time, the network, and a record."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.sim = cluster.sim
        self.send = cluster.network.send
        self.broadcast = cluster.network.broadcast

    def committed(self, node: str, token: int) -> None:
        """A synchronous write is held by enough followers: its client is told it succeeded."""
        h = self.cluster.history
        op = h.ops[token]
        if h.ack_watchers:
            h.acknowledged(op, op.lsn, op.epoch)
        h.settle(op, self.sim.now, OK)

    def acknowledged(self, node: str, token: int, lsn: int, epoch: int) -> None:
        """A node replies "ok" to a client's write on the network (the reply is on its way)."""
        h = self.cluster.history
        if h.ack_watchers:
            h.acknowledged(h.ops[token], lsn, epoch)

    def unknown(self, node: str, token: int, why: str) -> None:
        """A write was waiting when its leader crashed or stepped down: its outcome is unknown."""
        op = self.cluster.history.ops[token]
        if op.outcome == PENDING:
            self.cluster.history.settle(op, self.sim.now, INFO, why)

    def node_event(self, node: str, kind: str, detail: str) -> None:
        """Something a node did on its own (a rollback, being fenced...)."""
        self.cluster.history.event(self.sim.now, kind, node, detail)

    def appointed(self, node: str, kind: str, detail: str) -> None:
        """A node became leader on its own (it won an election): clients now write to it."""
        self.cluster._appointed(node, kind, detail)

    def dead_letter(self, node: str, kind: str, src: str) -> None:
        """A message arrived at a crashed node."""
        self.cluster.network.journal.crashed(self.sim.now, src, node, kind)


__all__ = ["NodeHost"]
