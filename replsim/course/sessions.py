"""Sessions: clients that each write and read, one operation at a time, reading under a read policy.

Each client waits for the answer to one operation, thinks for a while (exponential,
mean ``think`` seconds), then sends the next: a write of a random key from ``keys``
(share ``writes``) to the leader, or a read of one, where the read policy says. Values
are unique (``"<client>#<n>"``), so the anomaly checkers can tell which write a read
saw. Random choices come from each client's own seeded stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..clients.client import Client
from ..clients.policies import ReadPolicy
from ..clients.workload import check_key
from ..engine.sim import check_time
from ..errors import ConfigError
from ..history.anomalies import count, find_anomalies

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..history.record import Op


class Sessions:
    """Drive ``clients`` until virtual time ``until``: see the module's description."""

    def __init__(
        self,
        clients: Sequence[Client],
        policy: ReadPolicy,
        *,
        keys: Sequence[Any] = ("x",),
        writes: float = 0.3,
        think: float = 0.1,
        until: float = 10.0,
    ) -> None:
        if isinstance(clients, str) or not isinstance(clients, (list, tuple)) or not clients:
            raise ConfigError(
                f"Sessions needs at least one client: a list of cluster.client(...), got {clients!r}"
            )
        for c in clients:
            if not isinstance(c, Client):
                raise ConfigError(
                    f"Sessions needs clients made with cluster.client(name, ...), got {c!r} among them"
                )
        if not isinstance(policy, ReadPolicy):
            raise ConfigError(f"policy must be a read policy (replsim.clients.policies), got {policy!r}")
        if isinstance(keys, str) or not list(keys):
            raise ConfigError(f"keys must be a non-empty list of keys, got {keys!r}")
        if isinstance(writes, bool) or not isinstance(writes, (int, float)) or not 0 <= writes <= 1:
            raise ConfigError(f"writes must be a share between 0 and 1, got {writes!r}")
        self.keys = [check_key(k) for k in keys]
        self.cluster = cluster = clients[0].cluster
        self.clients = list(clients)
        self.policy = policy
        self.writes = float(writes)
        self.think = check_time("think", think, positive=True)
        self.until = check_time("until", until)
        self._rng = {c.name: cluster.sim.stream(f"sessions:{c.name}") for c in self.clients}
        self._sent = dict.fromkeys(self._rng, 0)
        self._waiting: dict[int, Client] = {}  # op id -> its client
        cluster._written.update(self.keys)
        cluster.history.watchers.append(self._settled)
        for c in self.clients:
            cluster.sim.schedule(self._rng[c.name].uniform(0, self.think), self._next, c)

    @property
    def ops(self) -> list[Op]:
        """Every operation the sessions' clients made, in the order invoked."""
        names = set(self._rng)
        return [o for o in self.cluster.history.ops if o.client in names]

    def _next(self, client: Client) -> None:
        c = self.cluster
        if c.now > self.until:
            return
        rng = self._rng[client.name]
        key = rng.choice(self.keys)
        if rng.random() < self.writes:
            self._sent[client.name] += 1
            op = client.write(key, f"{client.name}#{self._sent[client.name]}")
        else:
            op = self.policy.read(client, key)
        self._waiting[op.id] = client

    def _settled(self, op: Op) -> None:
        client = self._waiting.pop(op.id, None)
        if client is not None:
            delay = self._rng[client.name].expovariate(1.0 / self.think)
            self.cluster.sim.schedule(delay, self._next, client)


def read_stats(ops: Iterable[Op], leader: str | None = None) -> dict[str, float]:
    """Reads answered: how many, mean and 99th-percentile latency (ms), share (%) the leader served."""
    reads = [o for o in ops if o.kind == "read" and o.outcome == "ok" and o.complete is not None]
    lat = np.array([o.complete - o.invoke for o in reads]) * 1000 if reads else np.zeros(1)
    on_leader = sum(o.node == leader for o in reads) if leader is not None else 0
    return {
        "reads": len(reads),
        "mean ms": float(lat.mean()),
        "p99 ms": float(np.percentile(lat, 99)),
        "on leader %": 100.0 * on_leader / max(len(reads), 1),
    }


def compare(
    make_cluster: Callable[[], Cluster],
    make_clients: Callable[[Cluster], Sequence[Client]],
    policies: Mapping[str, Callable[[], ReadPolicy]],
    **settings: Any,
) -> list[dict[str, Any]]:
    """The same workload (same seed, same clients) under each policy: one row per policy with the
    anomalies found (``counts``, ``anomalies``) and the reads' latency (see :func:`read_stats`).

    ``settings`` go to :class:`Sessions` (``keys``, ``writes``, ``think``, ``until``).
    """
    rows = []
    for name, make in policies.items():
        cluster = make_cluster()
        clients = make_clients(cluster)
        s = Sessions(clients, make(), **settings)
        cluster.run(until=s.until + 2.0)  # and let the last answers arrive
        ops = s.ops
        found = find_anomalies(ops)
        rows.append(
            {"policy": name, "counts": count(found), "anomalies": found, "ops": ops}
            | read_stats(ops, cluster.leader)
        )
    return rows


def one_key(
    cluster: Cluster,
    clients: Sequence[Client],
    read_from: Sequence[str],
    count: int = 300,
    writes: float = 0.4,
) -> None:
    """``count`` operations on key ``"x"``: at random moments (0-30 ms apart) a random client writes the next
    number, or reads ``x`` from a random node of ``read_from`` (a register workload for the linearizability
    checker). Runs the cluster until every answer is in; seeded by the cluster's seed."""
    rng = cluster.sim.stream("one-key workload")
    for i in range(count):
        who = rng.choice(list(clients))
        if rng.random() < writes:
            who.write("x", i)
        else:
            who.read("x", node=rng.choice(list(read_from)))
        cluster.advance(rng.uniform(0, 0.03))
    cluster.advance(max(c.timeout for c in clients))


__all__ = ["Sessions", "read_stats", "compare", "one_key"]
