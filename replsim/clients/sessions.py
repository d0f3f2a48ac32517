"""Sessions: clients that each write and read, one operation at a time, reading under a read policy.

Each client waits for the answer to one operation, thinks for a while (exponential,
mean ``think`` seconds), then sends the next: a write of a random key from ``keys``
(share ``writes``) to the leader, or a read of one, where the read policy says. Values
are unique (``"<client>#<n>"``), so the anomaly checkers can tell which write a read
saw. Random choices come from each client's own seeded stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..engine.sim import check_time
from ..errors import ConfigError
from .policies import ReadPolicy
from .workload import check_key

if TYPE_CHECKING:
    from ..history.record import Op
    from .client import Client


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
        if not clients:
            raise ConfigError("Sessions needs at least one client")
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


__all__ = ["Sessions"]
