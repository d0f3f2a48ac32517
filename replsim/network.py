"""The network between nodes: per-link delay, jitter and loss, partitions, one-way cuts.

Links are FIFO, like a TCP stream: a message never overtakes an earlier one on the
same link. A partition or cut stops messages *sent* while it lasts; a message
already in flight when it starts still arrives. A message that arrives at a
crashed node is lost (the node checks on arrival).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple

from .errors import ConfigError, NetworkError, UnknownNodeError
from .sim import Simulator

_heappush = heapq.heappush


class Message(NamedTuple):
    """A message as recorded for the timeline: when it left and arrived, where, and its fate."""

    sent: float
    arrives: float
    src: str
    dst: str
    kind: str
    lost: bool


class Link:
    """One direction of a connection: base one-way delay (s), jitter (s, +/-), loss rate."""

    __slots__ = ("delay", "jitter", "loss")

    def __init__(self, delay: float, jitter: float = 0.0, loss: float = 0.0) -> None:
        check_link(delay, jitter, loss)
        self.delay = float(delay)
        self.jitter = float(jitter)
        self.loss = float(loss)

    def __repr__(self) -> str:
        return f"Link(delay={self.delay:g}, jitter={self.jitter:g}, loss={self.loss:g})"


def check_link(delay: float, jitter: float, loss: float) -> None:
    """Raise ConfigError naming the parameter if a link setting is out of range."""
    for name, v in (("delay", delay), ("jitter", jitter), ("loss", loss)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"{name} must be a finite number, got {v!r}")
    if delay < 0:
        raise ConfigError(f"delay must be >= 0 seconds (one-way), got {delay!r}")
    if jitter < 0:
        raise ConfigError(f"jitter must be >= 0 seconds, got {jitter!r}")
    if jitter > delay:
        raise ConfigError(
            f"jitter ({jitter!r} s) must be at most the base delay ({delay!r} s): "
            "delays are drawn from delay +/- jitter, and a message cannot arrive before it is sent"
        )
    if not 0 <= loss < 1:
        raise ConfigError(f"loss must be in [0, 1), got {loss!r}; to cut a link use partition() or cut()")


class _Route:
    """Internal: one direction between two nodes, with the time its last message arrives."""

    __slots__ = ("link", "tail", "handlers")

    def __init__(self, link: Link, handlers: dict) -> None:
        self.link = link
        self.tail = 0.0
        self.handlers = handlers


class Network:
    """Delivers messages between registered nodes after a per-link delay."""

    def __init__(
        self,
        sim: Simulator,
        delay: float = 0.005,
        jitter: float = 0.0,
        loss: float = 0.0,
        keep_messages: int = 10_000,
    ) -> None:
        self.sim = sim
        self.default = Link(delay, jitter, loss)
        self.nodes: dict[str, Any] = {}
        self._routes: dict[tuple[str, str], _Route] = {}
        self._group: dict[str, int] | None = None
        self._cuts: set[tuple[str, str]] = set()
        self._faulty = False
        self._log: deque[tuple] = deque(maxlen=keep_messages)
        self._keep = keep_messages > 0
        self._owner: dict[Any, tuple[str, str]] = {}  # handler -> (node, message kind)
        self.sent = 0
        self.lost = 0

    # --- topology -------------------------------------------------------
    def add(self, node: Any) -> None:
        """Register a node: it has ``name`` and ``handlers`` (kind -> callable taking a message's fields)."""
        self.nodes[node.name] = node
        for kind, handler in node.handlers.items():
            self._owner[handler] = (node.name, kind)
        for other in self.nodes.values():
            if other is not node:
                self._routes[(node.name, other.name)] = _Route(self.default, other.handlers)
                self._routes[(other.name, node.name)] = _Route(self.default, node.handlers)

    def _check(self, name: str) -> str:
        if name not in self.nodes:
            known = ", ".join(repr(n) for n in self.nodes)
            raise UnknownNodeError(f"unknown node {name!r}; the nodes are {known}")
        return name

    def link(self, src: str, dst: str) -> Link:
        """The link used from ``src`` to ``dst``."""
        self._check(src)
        self._check(dst)
        if src == dst:
            raise ConfigError(f"a link joins two different nodes, got {src!r} twice")
        return self._routes[(src, dst)].link

    def set_link(
        self,
        a: str,
        b: str,
        delay: float | None = None,
        jitter: float | None = None,
        loss: float | None = None,
        both_ways: bool = True,
    ) -> None:
        """Change the link a->b (and b->a unless ``both_ways=False``); unset values stay."""
        pairs = [(a, b), (b, a)] if both_ways else [(a, b)]
        new = []
        for src, dst in pairs:
            old = self.link(src, dst)
            new.append(
                Link(
                    old.delay if delay is None else delay,
                    old.jitter if jitter is None else jitter,
                    old.loss if loss is None else loss,
                )
            )
        for (src, dst), link in zip(pairs, new):
            self._routes[(src, dst)].link = link

    @property
    def messages(self) -> list[Message]:
        """The most recent messages sent (up to ``keep_messages``), oldest first."""
        out = []
        for rec in self._log:
            if len(rec) == 2:  # delivered: (sent, heap item)
                sent, (t, _, handler, msg) = rec
                dst, kind = self._owner[handler]
                rec = Message(sent, t, msg[0], dst, kind, False)
            out.append(rec)
        return out

    # --- faults ---------------------------------------------------------
    def partition(self, *groups: Iterable[str]) -> None:
        """Split the nodes into groups that cannot reach each other.

        One group given: it is cut off from all the other nodes.
        """
        if self._group is not None:
            raise NetworkError("the network is already partitioned; call heal() first")
        if not groups:
            raise NetworkError("partition() needs at least one group of node names")
        sets = []
        for g in groups:
            if isinstance(g, str):
                g = [g]
            s = [self._check(n) for n in g]
            if not s:
                raise NetworkError("a partition group cannot be empty")
            sets.append(s)
        seen: dict[str, int] = {}
        for i, s in enumerate(sets):
            for n in s:
                if n in seen:
                    raise NetworkError(f"node {n!r} is in two partition groups")
                seen[n] = i
        rest = [n for n in self.nodes if n not in seen]
        if len(sets) == 1 and not rest:
            raise NetworkError("that group holds every node: a partition needs two sides")
        for n in rest:
            seen[n] = len(sets)
        self._group = seen
        self._faulty = True

    def cut(self, src: str, dst: str) -> None:
        """Stop messages from ``src`` to ``dst`` only (a one-way fault)."""
        self._check(src)
        self._check(dst)
        if src == dst:
            raise NetworkError(f"cannot cut a node from itself ({src!r})")
        if (src, dst) in self._cuts:
            raise NetworkError(f"the link {src!r} -> {dst!r} is already cut")
        self._cuts.add((src, dst))
        self._faulty = True

    def heal(self) -> None:
        """Remove every partition and cut."""
        if not self._faulty:
            raise NetworkError("nothing to heal: the network has no partition or cut")
        self._group = None
        self._cuts.clear()
        self._faulty = False

    @property
    def faulty(self) -> bool:
        """True while a partition or cut is in force."""
        return self._faulty

    def groups(self) -> list[list[str]]:
        """The current partition groups (one group when there is none)."""
        if self._group is None:
            return [list(self.nodes)]
        out: dict[int, list[str]] = {}
        for n in self.nodes:
            out.setdefault(self._group[n], []).append(n)
        return [out[k] for k in sorted(out)]

    def cuts(self) -> list[tuple[str, str]]:
        """The one-way cuts in force, sorted."""
        return sorted(self._cuts)

    def reachable(self, src: str, dst: str) -> bool:
        """Can a message sent now from ``src`` reach ``dst``?"""
        g = self._group
        if g is not None and g[src] != g[dst]:
            return False
        return (src, dst) not in self._cuts

    # --- delivery -------------------------------------------------------
    # The message record keeps, for a delivered message, (sent time, the heap item)
    # and rebuilds the rest on demand: a 2-tuple is the cheapest record to make.
    def send(self, dst: str, kind: str, msg: tuple) -> None:
        """Send ``msg`` (whose first field is the sender's name); it runs ``dst.handlers[kind](*msg)``."""
        # broadcast() for one destination, without its loop: the hot path of acknowledgements
        src = msg[0]
        r = self._routes[(src, dst)]
        link = r.link
        sim = self.sim
        now = sim.now
        self.sent += 1
        t = now + link.delay
        if link.jitter:
            t += link.jitter * (2.0 * sim.rng.random() - 1.0)
        if (self._faulty and not self.reachable(src, dst)) or (link.loss and sim.rng.random() < link.loss):
            self._drop(now, t, src, dst, kind)
            return
        if t < r.tail:
            t = r.tail  # FIFO: never overtake the previous message on this link
        r.tail = t
        sim._seq += 1
        item = (t, sim._seq, r.handlers[kind], msg)
        _heappush(sim._heap, item)
        if self._keep:
            self._log.append((now, item))

    def broadcast(self, dsts: Iterable[str], kind: str, msg: tuple) -> None:
        """Send the same message to each of ``dsts``, in order."""
        sim = self.sim
        now = sim.now
        heap = sim._heap
        routes = self._routes
        log = self._log.append if self._keep else None
        faulty = self._faulty
        src = msg[0]
        for dst in dsts:
            r = routes[(src, dst)]
            link = r.link
            self.sent += 1
            t = now + link.delay
            if link.jitter:
                t += link.jitter * (2.0 * sim.rng.random() - 1.0)
            if (faulty and not self.reachable(src, dst)) or (link.loss and sim.rng.random() < link.loss):
                self._drop(now, t, src, dst, kind)
                continue
            if t < r.tail:
                t = r.tail
            r.tail = t
            sim._seq += 1
            item = (t, sim._seq, r.handlers[kind], msg)
            _heappush(heap, item)
            if log:
                log((now, item))

    def _drop(self, now: float, t: float, src: str, dst: str, kind: str) -> None:
        self.lost += 1
        if self._keep:
            self._log.append(Message(now, t, src, dst, kind, True))
