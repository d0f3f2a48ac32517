"""Read policies: which node a client reads from, and whether the node must first catch up.

Each policy answers ``choose(client) -> (node, after)``; ``policy.read(client, key)``
sends the read. One policy object can serve many clients (it keeps what it needs per
client). The baselines:

- :class:`Leader`: every read goes to the leader (fresh, but far for some clients);
- :class:`Nearest`: the node with the shortest link from the client (fast, maybe stale);
- :class:`AnyReplica`: a follower picked at random for each read, as a load balancer does.

The remedies for what readers see on replicas:

- :class:`LeaderAfterWrite`: for ``window`` seconds after its own write a client reads
  from the leader, otherwise as another policy says (read-your-writes, while the window
  covers the lag);
- :class:`Sticky`: each client reads from one replica, always the same (monotonic
  reads and a consistent prefix, as that replica applies the log in order);
- :class:`WaitForPosition`: the client remembers the highest log position it has seen
  (its writes and, unless ``reads=False``, its reads) and the replica answers only
  once it has applied that position. MongoDB's causally consistent sessions carry an
  ``afterClusterTime`` this way; MySQL's ``WAIT_FOR_EXECUTED_GTID_SET`` waits for the
  GTIDs of the session's own writes (``reads=False``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine.sim import check_time
from ..errors import ConfigError
from ..history.record import OK, Op
from ..validate import instance

if TYPE_CHECKING:
    from .client import Client


class ReadPolicy:
    """Where a client's reads go (a base class)."""

    name = "read policy"

    def choose(self, client: Client) -> tuple[str, int]:
        """(the node to read from, the log position it must hold first)."""
        raise NotImplementedError

    def read(self, client: Client, key: Any) -> Op:
        """Send ``client``'s read of ``key`` where this policy says."""
        node, after = self.choose(client)
        return client.read(key, node=node, after=after)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _then(then: Any, default: type) -> ReadPolicy:
    """The policy a combined policy falls back on (``then``), or a fresh ``default``."""
    if then is None:
        return default()
    return instance("then", then, ReadPolicy, "a read policy (Leader(), Nearest(), AnyReplica(), ...)")


def _followers(client: Client) -> list[str]:
    c = client.cluster
    lead = c.node(c.leader)
    names = [n for n in c.names if n != c.leader and c.node(n).up and c.node(n).leader == lead.name]
    return names or [c.leader]


class Leader(ReadPolicy):
    """Every read goes to the leader of the moment."""

    name = "leader"

    def choose(self, client: Client) -> tuple[str, int]:
        return client.cluster.leader, 0


class Nearest(ReadPolicy):
    """The node with the shortest one-way delay from the client (the first, on a tie)."""

    name = "nearest replica"

    def choose(self, client: Client) -> tuple[str, int]:
        return nearest(client), 0


def nearest(client: Client, among: list[str] | None = None) -> str:
    """The node (of ``among``, default all that are up) closest to ``client`` by one-way delay."""
    c = client.cluster
    names = among if among is not None else [n for n in c.names if c.node(n).up] or c.names
    return min(names, key=lambda n: (c.network.link(client.name, n).delay, c.names.index(n)))


class AnyReplica(ReadPolicy):
    """A follower of the leader, picked at random for every read (seeded per client)."""

    name = "any replica"

    def __init__(self) -> None:
        self._rng: dict[str, Any] = {}

    def choose(self, client: Client) -> tuple[str, int]:
        rng = self._rng.get(client.name)
        if rng is None:
            rng = self._rng[client.name] = client.cluster.sim.stream(f"read-policy:{client.name}")
        return rng.choice(_followers(client)), 0


class LeaderAfterWrite(ReadPolicy):
    """For ``window`` seconds after a client's own write, read from the leader; otherwise as ``then``."""

    name = "leader after own write"

    def __init__(self, window: float = 1.0, then: ReadPolicy | None = None) -> None:
        self.window = check_time("window", window)
        self.then = _then(then, Nearest)

    def choose(self, client: Client) -> tuple[str, int]:
        last = max((o.invoke for o in client.ops if o.kind == "write"), default=None)
        if last is not None and client.cluster.now - last < self.window:
            return client.cluster.leader, 0
        return self.then.choose(client)

    def __repr__(self) -> str:
        return f"LeaderAfterWrite({self.window:g}, then={self.then!r})"


class Sticky(ReadPolicy):
    """Each client keeps reading from the replica ``then`` first chose for it (again if it goes down)."""

    name = "sticky replica"

    def __init__(self, then: ReadPolicy | None = None) -> None:
        self.then = _then(then, AnyReplica)
        self.replica: dict[str, str] = {}

    def choose(self, client: Client) -> tuple[str, int]:
        mine = self.replica.get(client.name)
        c = client.cluster
        if mine is None or not c.node(mine).up:
            mine = self.replica[client.name] = self.then.choose(client)[0]
        return mine, 0

    def __repr__(self) -> str:
        return f"Sticky(then={self.then!r})"


class WaitForPosition(ReadPolicy):
    """Read where ``then`` says, once that node holds the highest position the client has seen."""

    name = "wait for position"

    def __init__(self, then: ReadPolicy | None = None, reads: bool = True) -> None:
        if not isinstance(reads, bool):
            raise ConfigError(f"reads must be True or False, got {reads!r}")
        self.then = _then(then, Nearest)
        self.reads = reads

    def choose(self, client: Client) -> tuple[str, int]:
        node, _ = self.then.choose(client)
        return node, self.position(client)

    def position(self, client: Client) -> int:
        """The highest log position this client has seen (its acknowledged writes; and its reads)."""
        kinds = ("write", "read") if self.reads else ("write",)
        return max((o.lsn for o in client.ops if o.kind in kinds and o.outcome == OK and o.lsn), default=0)

    def __repr__(self) -> str:
        return f"WaitForPosition(then={self.then!r}, reads={self.reads})"


POLICIES = {
    "leader": Leader,
    "nearest replica": Nearest,
    "any replica": AnyReplica,
    "leader after own write": LeaderAfterWrite,
    "sticky replica": Sticky,
    "wait for position": WaitForPosition,
}
"""The policies by name, each made with its defaults."""


def policy(name: str) -> ReadPolicy:
    """A fresh policy by name (one of ``POLICIES``)."""
    try:
        return POLICIES[name]()
    except (KeyError, TypeError):
        raise ConfigError(f"unknown read policy {name!r}; the policies are {', '.join(POLICIES)}") from None


__all__ = [
    "ReadPolicy",
    "Leader",
    "Nearest",
    "AnyReplica",
    "LeaderAfterWrite",
    "Sticky",
    "WaitForPosition",
    "POLICIES",
    "policy",
    "nearest",
]
