"""A client on the network: it sends requests to nodes over links with delay and waits for replies.

The history records what the client saw: when it sent the request and when the
reply arrived (or its timeout fired), which node answered, and the position and
epoch of the answer. A request or reply lost on the way, or a node that crashed
before answering, leaves the client with a timeout: the outcome is unknown
(``info``) for a write, which may or may not have happened.

``Cluster.write`` and ``Cluster.read`` are a client standing next to the node
(no network in between), so they return at once.

A client may *retry* a write whose outcome it does not know (no answer in time)
or that was refused, up to ``retries`` times, ``backoff`` seconds apart, each
time to the leader of the moment (as it would after a failover moved the
database's address). Each attempt is an operation of its own in the history;
``Client.requests`` groups them. A retry can apply the same write twice, or
bring back a value someone else has overwritten since. With ``idempotent=True``
every attempt carries the same *idempotency key*, the leader logs the key with
the write, and a leader whose log holds it answers without writing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine.network import Link
from ..engine.sim import check_time
from ..errors import ConfigError
from ..history.record import FAIL, INFO, OK, PENDING, Op
from ..node import messages
from .port import ClusterPort
from .workload import Writer, check_key

LOCAL_DELAY = 0.0005
"""One-way delay between a client and the node it stands next to (``near=``): 0.5 ms."""


@dataclass
class Request:
    """One write a client wants done, and every attempt it sent for it (operations in the history)."""

    key: Any
    value: Any
    rid: str | None  # the idempotency key, if the client sends one
    attempts: list[Op] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """How the last attempt ended (``ok``, ``fail``, ``info`` or ``pending``)."""
        return self.attempts[-1].outcome


class Client:
    """A client process at a place in the network (beside a node, or in a region with its own latencies).

    ``near``: the node it stands next to (``LOCAL_DELAY`` away; that node's links
    to the others are its links). ``delays``: one-way delay in seconds to each
    named node (overrides). ``timeout``: how long it waits for a reply. ``retries``:
    how many times it sends a write again when it gets no answer or a refusal,
    ``backoff`` seconds later; ``idempotent``: each attempt carries the same key.
    """

    def __init__(
        self,
        cluster: ClusterPort,
        name: str,
        *,
        near: str | None = None,
        delays: dict[str, float] | None = None,
        timeout: float = 1.0,
        retries: int = 0,
        backoff: float = 0.5,
        idempotent: bool = False,
    ) -> None:
        self.cluster = cluster
        self.name = name
        self.near = near
        self.timeout = check_time("timeout", timeout, positive=True)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 100:
            raise ConfigError(f"retries must be a whole number between 0 and 100, got {retries!r}")
        if not isinstance(idempotent, bool):
            raise ConfigError(f"idempotent must be True or False, got {idempotent!r}")
        self.retries = retries
        self.backoff = check_time("backoff", backoff)
        self.idempotent = idempotent
        self.requests: list[Request] = []
        self._request_of: dict[int, Request] = {}  # op id -> the request it is an attempt of
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
        if delays is not None and not isinstance(delays, dict):
            raise ConfigError(
                f"delays must be a dict of node name -> one-way delay in seconds, got {delays!r}"
            )
        for other, delay in (delays or {}).items():
            cluster.node(other)
            links[other] = Link(check_time(f"the delay to {other!r}", delay))
        net.add(self, node=False, links=links)

    def __repr__(self) -> str:
        return f"Client({self.name!r}, {len(self.ops)} ops)"

    def write(self, key: Any, value: Any, node: str | None = None) -> Op:
        """Send ``key = value`` to ``node`` (default: the leader of the moment); returns the pending op.

        Retries (if any) go to the leader of the moment; see ``requests`` for every attempt.
        """
        rid = f"{self.name}:{len(self.requests) + 1}" if self.idempotent else None
        req = Request(key, value, rid)
        op = self._request("write", key, value, node, rid=rid)
        req.attempts.append(op)
        self.requests.append(req)
        if self.retries:
            self._request_of[op.id] = req
        return op

    def read(self, key: Any, node: str | None = None, after: int = 0) -> Op:
        """Ask ``node`` (default: the leader) for ``key``; its value arrives with the reply.

        ``after``: the node answers only once it holds that log position (for example
        the position of this client's last write: ``client.last_write``).
        """
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ConfigError(f"after must be a log position (a whole number >= 0), got {after!r}")
        return self._request("read", key, None, node, after)

    def start_writes(
        self, rate: float, keys: Sequence[Any] = ("x",), count: int | None = None, node: str | None = None
    ) -> Writer:
        """Write ``rate`` times a second from this client, cycling over ``keys`` (values 1, 2, 3, ...),
        to ``node`` or to the leader of the moment. Stops after ``count`` writes or on ``stop()``."""
        writer = Writer(self.cluster, rate, count, keys, node=node, client=self)
        self.cluster._written.update(writer.keys)
        return writer

    @property
    def last_write(self) -> int:
        """The log position of this client's latest acknowledged write (0 if none)."""
        return max((o.lsn for o in self.ops if o.kind == "write" and o.outcome == OK and o.lsn), default=0)

    def _request(
        self, kind: str, key: Any, value: Any, node: str | None, after: int = 0, rid: str | None = None
    ) -> Op:
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
        msg = messages.Request(self.name, op.id, kind, key, value, after, rid)
        c.network.send(name, "request", msg, messages.HEADER + len(str(key)))
        return op

    def _settled(self, op: Op) -> None:
        """An attempt ended: if it was a write with no answer or a refusal, try again later."""
        req = self._request_of.pop(op.id, None)
        if req is None or op.outcome == OK or len(req.attempts) > self.retries:
            return
        self.cluster.sim.schedule(self.backoff, self._retry, req)

    def _retry(self, req: Request) -> None:
        op = self._request("write", req.key, req.value, None, rid=req.rid)
        req.attempts.append(op)
        self._request_of[op.id] = req

    def on_reply(
        self,
        src: str,
        op: int,
        outcome: str,
        value: Any,
        lsn: int | None,
        epoch: int | None,
        error: str | None,
    ) -> None:
        """A node answered: settle the operation as the client sees it (unless it already timed out)."""
        timer = self._timers.pop(op, None)
        done = self.cluster.history.ops[op]  # the operation answered
        if timer is None or done.outcome != PENDING:
            return  # too late: the client gave up on it
        timer.cancel()
        if done.kind == "read":
            done.value = value
        done.lsn, done.epoch = lsn, epoch
        self.cluster.history.settle(done, self.cluster.now, OK if outcome == "ok" else FAIL, error)
        if self._request_of:
            self._settled(done)

    def _timed_out(self, op: Op) -> None:
        self._timers.pop(op.id, None)
        if op.outcome == PENDING:
            why = f"no answer from {op.node!r} within {self.timeout:g} s: outcome unknown"
            self.cluster.history.settle(op, self.cluster.now, INFO, why)
            if self._request_of:
                self._settled(op)
