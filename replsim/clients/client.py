"""A client on the network: it sends requests to nodes over links with delay and waits for replies.

The history records what the client saw: when it sent the request and when the
reply arrived (or its timeout fired), which node answered, and the position and
epoch of the answer. A request or reply lost on the way, or a node that crashed
before answering, leaves the client with a timeout: the outcome is unknown
(``info``) for a write, which may or may not have happened.

``Cluster.write`` and ``Cluster.read`` are a client standing next to the node
(no network in between), so they return at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine.network import Link
from ..engine.sim import check_time
from ..errors import ConfigError
from ..history.record import FAIL, INFO, OK, PENDING, Op
from ..node import HEADER
from .workload import check_key

if TYPE_CHECKING:
    from ..cluster import Cluster

LOCAL_DELAY = 0.0005
"""One-way delay between a client and the node it stands next to (``near=``): 0.5 ms."""


class Client:
    """A client process at a place in the network (beside a node, or in a region with its own latencies).

    ``near``: the node it stands next to (``LOCAL_DELAY`` away; that node's links
    to the others are its links). ``delays``: one-way delay in seconds to each
    named node (overrides). ``timeout``: how long it waits for a reply.
    """

    def __init__(
        self,
        cluster: Cluster,
        name: str,
        *,
        near: str | None = None,
        delays: dict[str, float] | None = None,
        timeout: float = 1.0,
    ) -> None:
        self.cluster = cluster
        self.name = name
        self.timeout = check_time("timeout", timeout, positive=True)
        self.handlers = {"reply": self.on_reply}
        self.rng = cluster.sim.stream(f"client:{name}")
        self.ops: list[Op] = []
        self._timers: dict[int, Any] = {}
        net = cluster.network
        links: dict[str, Link] = {}
        if near is not None:
            cluster.node(near)
            for other in cluster.names:
                if other != near:
                    old = net.link(near, other)
                    links[other] = Link(old.delay, old.jitter, old.loss)
            links[near] = Link(LOCAL_DELAY)
        for other, delay in (delays or {}).items():
            cluster.node(other)
            links[other] = Link(delay)
        net.add(self, node=False, links=links)

    def __repr__(self) -> str:
        return f"Client({self.name!r}, {len(self.ops)} ops)"

    def write(self, key: Any, value: Any, node: str | None = None) -> Op:
        """Send ``key = value`` to ``node`` (default: the leader of the moment); returns the pending op."""
        return self._request("write", key, value, node)

    def read(self, key: Any, node: str | None = None, after: int = 0) -> Op:
        """Ask ``node`` (default: the leader) for ``key``; its value arrives with the reply.

        ``after``: the node answers only once it holds that log position (for example
        the position of this client's last write: ``client.last_write``).
        """
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ConfigError(f"after must be a log position (a whole number >= 0), got {after!r}")
        return self._request("read", key, None, node, after)

    @property
    def last_write(self) -> int:
        """The log position of this client's latest acknowledged write (0 if none)."""
        return max((o.lsn for o in self.ops if o.kind == "write" and o.outcome == OK and o.lsn), default=0)

    def _request(self, kind: str, key: Any, value: Any, node: str | None, after: int = 0) -> Op:
        c = self.cluster
        name = c.leader if node is None else node
        c.node(name)
        check_key(key)
        if kind == "write":
            c._written.add(key)
        op = c.history.op(kind, name, key, value, c.now, client=self.name)
        self.ops.append(op)
        timer = self._timers[op.id] = c.sim.timer(self._timed_out, op)
        timer.set(self.timeout)
        c.network.send(name, "request", (self.name, op.id, kind, key, value, after), HEADER + len(str(key)))
        return op

    def on_reply(
        self,
        src: str,
        op_id: int,
        outcome: str,
        value: Any,
        lsn: int | None,
        epoch: int | None,
        error: str | None,
    ) -> None:
        """A node answered: settle the operation as the client sees it (unless it already timed out)."""
        op = self.cluster.history.ops[op_id]
        timer = self._timers.pop(op_id, None)
        if timer is None or op.outcome != PENDING:
            return  # too late: the client gave up on it
        timer.cancel()
        if op.kind == "read":
            op.value = value
        op.lsn, op.epoch = lsn, epoch
        self.cluster.history.settle(op, self.cluster.now, OK if outcome == "ok" else FAIL, error)

    def _timed_out(self, op: Op) -> None:
        self._timers.pop(op.id, None)
        if op.outcome == PENDING:
            why = f"no answer from {op.node!r} within {self.timeout:g} s: outcome unknown"
            self.cluster.history.settle(op, self.cluster.now, INFO, why)
