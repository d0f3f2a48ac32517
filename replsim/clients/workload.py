"""Workloads: clients that keep writing on their own (``Cluster.start_writes``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, ReplsimError
from .port import ClusterPort, WritePort

MAX_RATE = 100_000.0
"""The fastest a writer may go, in writes per second of virtual time."""


def check_key(key: Any) -> Any:
    """``key`` if it can name a row (hashable); a ConfigError saying so otherwise."""
    try:
        hash(key)
    except TypeError:
        raise ConfigError(
            f"a key must be a string or a number (hashable), got {type(key).__name__} {key!r}"
        ) from None
    return key


class Writer:
    """A client next to the leader writing at a steady rate, cycling over keys; values are 1, 2, 3, ...

    Writes go to the leader of the moment, or always to ``node`` if given (a client whose
    connections stay on one server); refused ones are recorded, not raised. ``name`` is
    recorded as the client of each write. With ``client`` (a ``Client``), the writes go
    over the network from that client instead (and carry its name).
    """

    def __init__(
        self,
        cluster: ClusterPort,
        rate: float,
        count: int | None,
        keys: Sequence[Any],
        name: str | None = None,
        node: str | None = None,
        client: WritePort | None = None,
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= MAX_RATE:
            raise ConfigError(
                f"rate must be a number of writes per second in (0, {MAX_RATE:,.0f}], got {rate!r}"
            )
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise ConfigError(f"count must be a whole number >= 0 or None, got {count!r}")
        if isinstance(keys, str):
            raise ConfigError(
                f"keys must be a list of keys, got the string {keys!r}; did you mean [{keys!r}]?"
            )
        try:
            keys = list(keys)
        except TypeError:
            raise ConfigError(f"keys must be a list of keys, got {keys!r}") from None
        if not keys:
            raise ConfigError("keys must name at least one key")
        for k in keys:
            check_key(k)
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ConfigError(f"a writer's name must be a non-empty string, got {name!r}")
        if node is not None:
            cluster.node(node)
        self.name = name
        self.node = node
        self.client = client
        self.cluster = cluster
        self.interval = 1.0 / rate
        self.remaining = count
        self.keys = keys
        self.sent = 0
        self.running = True
        cluster.sim.schedule(0.0, self._tick)

    def stop(self) -> None:
        """Stop writing."""
        self.running = False

    def _tick(self) -> None:
        if not self.running or self.remaining == 0:
            self.running = False
            return
        c = self.cluster
        self.sent += 1
        if self.remaining is not None:
            self.remaining -= 1
        key = self.keys[(self.sent - 1) % len(self.keys)]
        if self.client is not None:
            self.client.write(key, self.sent, self.node)
        elif self.name is None and self.node is None:
            try:
                c.write(key, self.sent)
            except ReplsimError:  # refused writes are in the history; the client keeps going
                pass
        else:
            self._named_write(key)
        c.sim.schedule(self.interval, self._tick)

    def _named_write(self, key: Any) -> None:
        c = self.cluster
        ops = c.history.ops
        first = len(ops)
        try:
            c.write(key, self.sent, node=self.node)
        except ReplsimError:
            pass
        if self.name is not None:
            for op in ops[first:]:
                op.client = self.name

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"Writer({1 / self.interval:g}/s, {self.sent} sent, {state})"
