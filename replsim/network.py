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
        self._links: dict[tuple[str, str], Link] = {}
        self._tail: dict[tuple[str, str], float] = {}
        self._group: dict[str, int] | None = None
        self._cuts: set[tuple[str, str]] = set()
        self.messages: deque[Message] = deque(maxlen=keep_messages)
        self._keep = keep_messages > 0
        self.sent = 0
        self.lost = 0

    # --- topology -------------------------------------------------------
    def add(self, node: Any) -> None:
        """Register a node; it must have ``name`` and ``handlers`` (kind -> callable)."""
        self.nodes[node.name] = node

    def _check(self, name: str) -> str:
        if name not in self.nodes:
            known = ", ".join(repr(n) for n in self.nodes)
            raise UnknownNodeError(f"unknown node {name!r}; the nodes are {known}")
        return name

    def link(self, src: str, dst: str) -> Link:
        """The link used from ``src`` to ``dst``."""
        return self._links.get((self._check(src), self._check(dst)), self.default)

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
        self._check(a)
        self._check(b)
        if a == b:
            raise ConfigError(f"a link joins two different nodes, got {a!r} twice")
        pairs = [(a, b), (b, a)] if both_ways else [(a, b)]
        for p in pairs:
            old = self._links.get(p, self.default)
            self._links[p] = Link(
                old.delay if delay is None else delay,
                old.jitter if jitter is None else jitter,
                old.loss if loss is None else loss,
            )

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

    def cut(self, src: str, dst: str) -> None:
        """Stop messages from ``src`` to ``dst`` only (a one-way fault)."""
        self._check(src)
        self._check(dst)
        if src == dst:
            raise NetworkError(f"cannot cut a node from itself ({src!r})")
        if (src, dst) in self._cuts:
            raise NetworkError(f"the link {src!r} -> {dst!r} is already cut")
        self._cuts.add((src, dst))

    def heal(self) -> None:
        """Remove every partition and cut."""
        if self._group is None and not self._cuts:
            raise NetworkError("nothing to heal: the network has no partition or cut")
        self._group = None
        self._cuts.clear()

    @property
    def faulty(self) -> bool:
        """True while a partition or cut is in force."""
        return self._group is not None or bool(self._cuts)

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
    def send(self, src: str, dst: str, kind: str, args: tuple) -> None:
        """Send a message; it runs ``dst.handlers[kind](src, *args)`` on arrival."""
        sim = self.sim
        now = sim.now
        key = (src, dst)
        link = self._links.get(key, self.default)
        self.sent += 1
        lost = False
        if (self._group is not None or self._cuts) and not self.reachable(src, dst):
            lost = True
        elif link.loss and sim.rng.random() < link.loss:
            lost = True
        if link.jitter:
            t = now + link.delay + link.jitter * (2.0 * sim.rng.random() - 1.0)
        else:
            t = now + link.delay
        if lost:
            self.lost += 1
        else:
            tail = self._tail.get(key, 0.0)
            if t < tail:
                t = tail  # FIFO: never overtake the previous message on this link
            self._tail[key] = t
            sim._seq += 1
            heapq.heappush(sim._heap, (t, sim._seq, self.nodes[dst].handlers[kind], (src, *args)))
        if self._keep:
            self.messages.append(Message(now, t, src, dst, kind, lost))
