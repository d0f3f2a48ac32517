"""The network between endpoints (nodes and clients): per-link delay, jitter and loss, partitions, cuts.

Links are FIFO, like a TCP stream: a message never overtakes an earlier one on the
same link. A partition or cut stops messages *sent* while it lasts; a message
already in flight when it starts still arrives. A message that arrives at a
crashed node is dropped by that node (and shows as ``crashed`` in the journal).
Each link draws its jitter and loss from its own random stream, derived from the
seed and the link's name, so traffic on one link never changes another's draws.
Bytes and messages sent are counted per link.
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections.abc import Iterable
from typing import Any

from ..errors import ConfigError, NetworkError, UnknownNodeError
from .journal import CUT, LOST, MAX_KEEP, PARTITIONED, Journal, Message
from .sim import Simulator, fanout

_heappush = heapq.heappush


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


def _real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def check_link(delay: float, jitter: float, loss: float) -> None:
    """Raise ConfigError naming the parameter if a link setting is out of range."""
    for name, v in (("delay", delay), ("jitter", jitter), ("loss", loss)):
        if not _real(v) or not math.isfinite(v):
            raise ConfigError(f"{name} must be a finite number, got {v!r}")
    if delay < 0:
        raise ConfigError(f"delay must be >= 0 seconds (one-way), got {delay!r}")
    if delay > 3600:
        raise ConfigError(f"delay must be at most 3600 seconds (one-way), got {delay!r}")
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
    """Internal: one direction between two endpoints, its link, FIFO tail, random stream and counts."""

    __slots__ = ("link", "tail", "handlers", "dst", "rng", "sent", "bytes")

    def __init__(self, link: Link, handlers: dict, dst: str) -> None:
        self.link = link
        self.tail = 0.0
        self.handlers = handlers
        self.dst = dst
        self.rng = None
        self.sent = 0
        self.bytes = 0


def _names(value: Any, what: str) -> list[str]:
    """A list of names from a list/tuple of strings; a helpful error for anything else."""
    if isinstance(value, str):
        raise ConfigError(
            f"{what} must be a list of names, got the string {value!r}; did you mean [{value!r}]?"
        )
    if isinstance(value, (set, frozenset)):
        raise ConfigError(f"{what} must be a list or tuple (its order matters), not a set: {sorted(value)!r}")
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{what} must be a list of names, got {value!r}")
    for v in value:
        if not isinstance(v, str):
            raise ConfigError(f"{what} must hold names (strings), got {v!r}")
    return list(value)


class Network:
    """Delivers messages between registered endpoints after a per-link delay."""

    def __init__(
        self,
        sim: Simulator,
        delay: float = 0.005,
        jitter: float = 0.0,
        loss: float = 0.0,
        keep_messages: int = 10_000,
    ) -> None:
        if isinstance(keep_messages, bool) or not isinstance(keep_messages, int):
            raise ConfigError(f"keep_messages must be a whole number, got {keep_messages!r}")
        if not 0 <= keep_messages <= MAX_KEEP:
            raise ConfigError(f"keep_messages must be between 0 and {MAX_KEEP:,}, got {keep_messages!r}")
        self.sim = sim
        self.default = Link(delay, jitter, loss)
        self.endpoints: dict[str, Any] = {}
        self.nodes: dict[str, Any] = {}  # the endpoints that are database nodes (partitions split these)
        self._routes: dict[tuple[str, str], _Route] = {}
        self._group: dict[str, int] | None = None
        self._cuts: set[tuple[str, str]] = set()
        self._faulty = False
        self.journal = Journal(keep_messages)
        self._keep = keep_messages > 0
        self._log = self.journal._recs.append
        self.lost = 0

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_log"]  # a builtin method: copy.deepcopy would share it with the original
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._log = self.journal._recs.append

    # --- topology -------------------------------------------------------
    def add(self, endpoint: Any, *, node: bool = True, links: dict[str, Link] | None = None) -> None:
        """Register an endpoint (with ``name`` and ``handlers``: kind -> callable of a message's fields).

        ``node=False`` for a client: partitions name nodes only, and a client keeps
        its links (``links``: other endpoint -> Link, both ways; the default link elsewhere).
        """
        name = endpoint.name
        self.endpoints[name] = endpoint
        if node:
            self.nodes[name] = endpoint
            if self._group is not None:
                self._group[name] = max(self._group.values(), default=0) + 1  # a node added alone
        links = links or {}
        for other in self.endpoints.values():
            if other is endpoint:
                continue
            link = links.get(other.name, self.default)
            self._routes[(name, other.name)] = _Route(link, other.handlers, other.name)
            self._routes[(other.name, name)] = _Route(link, endpoint.handlers, name)

    def _check(self, name: Any) -> str:
        if not isinstance(name, str) or name not in self.endpoints:
            known = ", ".join(repr(n) for n in self.endpoints)
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
        if not isinstance(both_ways, bool):
            raise ConfigError(f"both_ways must be True or False, got {both_ways!r}")
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
        """The most recent messages sent (up to ``keep_messages``), oldest first, with their fates."""
        return self.journal.messages(self.sim.now)

    @property
    def sent(self) -> int:
        """Messages sent so far (delivered or not)."""
        return sum(r.sent for r in self._routes.values())

    def traffic(self) -> dict[tuple[str, str], tuple[int, int]]:
        """Per link that carried anything: (messages sent, bytes sent), sorted by link."""
        return {k: (r.sent, r.bytes) for k, r in sorted(self._routes.items()) if r.sent}

    def bytes_sent(self, src: str | None = None, dst: str | None = None) -> int:
        """Bytes sent in all, or from ``src`` and/or to ``dst``."""
        return sum(
            r.bytes
            for (s, d), r in self._routes.items()
            if (src is None or s == src) and (dst is None or d == dst)
        )

    # --- faults ---------------------------------------------------------
    def partition(self, *groups: Iterable[str]) -> None:
        """Split the nodes into groups that cannot reach each other.

        One group given: it is cut off from all the other nodes. A group is a list
        of node names, or one name. A client named in a group is on that side (it
        reaches only that group's nodes and clients); a client named in no group is
        on no side: it reaches every node.
        """
        if self._group is not None:
            raise NetworkError("the network is already partitioned; call heal() first")
        if not groups:
            raise NetworkError("partition() needs at least one group of node names")
        sets = []
        for g in groups:
            if isinstance(g, str):
                g = [g]
            try:
                s = [self._node(n, clients=True) for n in _names(g, "a partition group")]
            except ConfigError as exc:
                raise NetworkError(str(exc)) from None
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
        if not any(n in self.nodes for n in seen):
            raise NetworkError("a partition needs at least one node in a group, not only clients")
        if len(sets) == 1 and not rest:
            raise NetworkError("that group holds every node: a partition needs two sides")
        for n in rest:
            seen[n] = len(sets)
        self._group = seen
        self._faulty = True

    def _node(self, name: Any, clients: bool = False) -> str:
        """``name`` if it is a node (or, with ``clients``, any endpoint); else a helpful error."""
        ok = isinstance(name, str) and (name in self.endpoints if clients else name in self.nodes)
        if not ok:
            known = ", ".join(repr(n) for n in self.nodes)
            others = [repr(n) for n in self.endpoints if n not in self.nodes] if clients else []
            more = f" and the clients are {', '.join(others)}" if others else ""
            raise UnknownNodeError(f"unknown node {name!r}; the nodes are {known}{more}")
        return name

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
        """The current partition groups of nodes (one group when there is none)."""
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
        return self._blocked(src, dst) is None

    def _blocked(self, src: str, dst: str) -> str | None:
        g = self._group
        if g is not None and src in g and dst in g and g[src] != g[dst]:
            return PARTITIONED
        return CUT if (src, dst) in self._cuts else None

    # --- delivery -------------------------------------------------------
    def _rng(self, r: _Route, src: str):
        r.rng = self.sim.stream(f"link:{src}->{r.dst}")
        return r.rng

    def send(self, dst: str, kind: str, msg: tuple, size: int = 0) -> None:
        """Send ``msg`` (first field: the sender's name); ``dst.handlers[kind](*msg)`` runs on arrival."""
        # broadcast() for one destination, without its loop: the hot path of acknowledgements
        src = msg[0]
        r = self._routes[(src, dst)]
        link = r.link
        sim = self.sim
        now = sim.now
        r.sent += 1
        r.bytes += size
        t = now + link.delay
        if link.jitter or link.loss or self._faulty:
            rng = r.rng or self._rng(r, src)
            if link.jitter:
                t += link.jitter * (2.0 * rng.random() - 1.0)
            fate = self._faulty and self._blocked(src, dst)
            if fate or (link.loss and rng.random() < link.loss):
                self._drop(now, t, src, dst, kind, size, msg, fate or LOST)
                return
        if t < r.tail:
            t = r.tail  # FIFO: never overtake the previous message on this link
        r.tail = t
        sim._seq += 1
        item = (t, sim._seq, r.handlers[kind], msg)
        _heappush(sim._heap, item)
        if self._keep:
            self._log((now, t, msg, size, dst, kind, None))

    def broadcast(self, dsts: Iterable[str], kind: str, msg: tuple, size: int = 0) -> None:
        """Send the same message to each of ``dsts``, in order.

        Copies that arrive at the same moment share one event on the simulator's heap
        (``fanout``): they run one after the other, in the order sent, exactly as separate
        events would (nothing else can come between them), for a fraction of the cost.
        """
        sim = self.sim
        now = sim.now
        heap = sim._heap
        routes = self._routes
        log = self._log if self._keep else None
        faulty = self._faulty
        src = msg[0]
        first = None  # arrival time shared by the copies grouped in one event
        group: list = []
        for dst in dsts:
            r = routes[(src, dst)]
            link = r.link
            r.sent += 1
            r.bytes += size
            t = now + link.delay
            if link.jitter or link.loss or faulty:
                rng = r.rng or self._rng(r, src)
                if link.jitter:
                    t += link.jitter * (2.0 * rng.random() - 1.0)
                fate = faulty and self._blocked(src, dst)
                if fate or (link.loss and rng.random() < link.loss):
                    self._drop(now, t, src, dst, kind, size, msg, fate or LOST)
                    continue
            if t < r.tail:
                t = r.tail
            r.tail = t
            handler = r.handlers[kind]
            if first is None:
                first = t
                sim._seq += 1
                seq = sim._seq  # the group takes the place of its first copy
                group.append(handler)
            elif t == first:
                group.append(handler)
            else:
                sim._seq += 1
                _heappush(heap, (t, sim._seq, handler, msg))
            if log:
                log((now, t, msg, size, dst, kind, None))
        if group:
            if len(group) == 1:
                _heappush(heap, (first, seq, group[0], msg))
            else:
                _heappush(heap, (first, seq, fanout, (group, msg)))

    def _drop(
        self, now: float, t: float, src: str, dst: str, kind: str, size: int, msg: tuple, fate: str
    ) -> None:
        self.lost += 1
        self.journal.dropped(now, t, dst, kind, size, msg, fate)
