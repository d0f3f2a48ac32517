"""The leader's log sender: committed writes leave in batches, a little after the client was told.

By default a simulated leader sends each write to its followers the instant it
commits it, and a message already sent still arrives if its sender crashes. A
real leader hands its log to a sender process (PostgreSQL's walsender, MySQL's
binlog dump thread) that picks up what has been committed and ships it: with
asynchronous replication the client hears "committed" before that happens.
``send_in_batches(cluster, every)`` models that: on every node, appends (and
heartbeats) wait in the sender's queue and leave together every ``every``
seconds; a crash loses the queue. Then even the most up-to-date follower lacks
the writes acknowledged in the last moments before a leader crashes.

It is a part of each node (``node.sender``): the node streams its log through it,
so the node's own code is unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine.sim import check_time
from ..errors import ConfigError
from .replication import Node

if TYPE_CHECKING:
    from ..cluster import Cluster


class BatchSender:
    """One node's sender: queues the appends it streams and ships them every ``every`` seconds."""

    def __init__(self, node: Node, every: float) -> None:
        self.node = node
        self.every = every
        self.queue: list[tuple[tuple[str, ...], tuple, int]] = []
        self._states = 0  # the node's recorded state changes when the queue began (a crash empties it)
        self._send = node.host.broadcast
        self.timer = node.sim.timer(self.flush)
        node.sender = self
        node._wire()

    def __repr__(self) -> str:
        return f"BatchSender({self.node.name!r}, every {self.every:g} s, {len(self.queue)} queued)"

    def broadcast(self, dsts: Any, kind: str, msg: tuple, size: int = 0) -> None:
        """Queue an append; anything else goes at once."""
        if kind != "append":
            self._send(dsts, kind, msg, size)
            return
        if not self.queue:
            self._states = len(self.node.track.states)
            self.timer.set(self.every)
        self.queue.append((tuple(dsts), msg, size))

    def flush(self) -> None:
        """Ship the queue: consecutive appends to the same followers in one epoch become one message."""
        queue, self.queue = self.queue, []
        node = self.node
        if not node.up or any(not s.up for s in node.track.states[self._states :]):
            return  # the process crashed meanwhile: what it had not sent is gone
        batch: list[tuple[tuple[str, ...], tuple, int]] = []
        for dsts, msg, size in queue:
            if batch and batch[-1][0] == dsts and batch[-1][1][1] == msg[1]:  # same followers and epoch
                _, before, before_size = batch[-1]
                # (sender, epoch, prev_lsn, prev_epoch) of the first, every entry, the newest epoch history
                merged = (*before[:4], before[4] + msg[4], msg[5])
                batch[-1] = (dsts, merged, before_size + size)
            else:
                batch.append((dsts, msg, size))
        for dsts, msg, size in batch:
            self._send(list(dsts), "append", msg, size)


def send_in_batches(cluster: Cluster, every: float = 0.02) -> dict[str, BatchSender]:
    """Give every node of ``cluster`` a :class:`BatchSender` shipping every ``every`` seconds."""
    every = check_time("every", every, positive=True)
    if every > 10:
        raise ConfigError(f"every must be at most 10 seconds, got {every!r}")
    if any(n.sender is not None for n in cluster.nodes.values()):
        raise ConfigError("this cluster's nodes already send in batches")
    return {name: BatchSender(node, every) for name, node in cluster.nodes.items()}


__all__ = ["BatchSender", "send_in_batches"]
