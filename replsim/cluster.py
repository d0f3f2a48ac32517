"""The cluster: nodes, network and history behind one small API.

Typical use::

    c = Cluster(leader="Anchor", followers=["Channel A", "Channel B"], delay=0.05, seed=1)
    c.write("headline", "Tuesday")
    c.advance(1.0)
    c.read("headline", node="Channel A")   # -> 'Tuesday'

Every action happens at the current virtual time ``c.now``; ``advance`` and
``run`` move time on and let messages travel.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import Any

from . import checks
from .errors import (
    ConfigError,
    NodeDownError,
    NodeStateError,
    ReplsimError,
    UnknownKeyError,
    UnknownNodeError,
)
from .history import FAIL, INFO, OK, PENDING, History, Op
from .network import Network, check_link
from .node import FOLLOWER, LEADER, Node
from .sim import Simulator


class Cluster:
    """One leader and its followers, simulated deterministically from ``seed``.

    ``delay``/``jitter`` are one-way link delays in seconds (delay +/- jitter),
    ``loss`` the chance a message is dropped, ``heartbeat`` how often the leader
    announces its position (seconds; ``None`` for never), and ``sync_replicas``
    how many followers must hold a write before the client is told it succeeded
    (0 = asynchronous, the default of PostgreSQL, MySQL and Redis).
    """

    def __init__(
        self,
        leader: str = "leader",
        followers: Sequence[str] = ("follower-1", "follower-2"),
        *,
        delay: float = 0.005,
        jitter: float = 0.0,
        loss: float = 0.0,
        heartbeat: float | None = 0.5,
        sync_replicas: int = 0,
        seed: int = 0,
        keep_messages: int = 10_000,
    ) -> None:
        if isinstance(followers, str):
            followers = [followers]
        names = [leader, *followers]
        for n in names:
            if not isinstance(n, str) or not n.strip():
                raise ConfigError(f"node names must be non-empty strings, got {n!r}")
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"node names must be unique; repeated: {', '.join(map(repr, dup))}")
        check_link(delay, jitter, loss)
        if heartbeat is not None and not heartbeat > 0:
            raise ConfigError(f"heartbeat must be > 0 seconds or None, got {heartbeat!r}")
        if isinstance(sync_replicas, bool) or not isinstance(sync_replicas, int):
            raise ConfigError(f"sync_replicas must be an integer, got {sync_replicas!r}")
        if not 0 <= sync_replicas <= len(followers):
            raise ConfigError(
                f"sync_replicas must be between 0 and the number of followers ({len(followers)}), "
                f"got {sync_replicas}"
            )
        self.sim = Simulator(seed)
        self.network = Network(self.sim, delay, jitter, loss, keep_messages)
        self.nodes: dict[str, Node] = {}
        self.history = History(self.nodes)
        self.heartbeat_interval = heartbeat
        self._leader = leader
        self._epoch = 1
        self._pending: dict[int, Op] = {}
        self._written: set = set()  # every key a client has tried to write
        for n in names:
            node = Node(
                n,
                self.sim,
                self.network.send,
                role=LEADER if n == leader else FOLLOWER,
                leader=leader,
                followers=list(followers) if n == leader else None,
                sync_replicas=sync_replicas,
                broadcast=self.network.broadcast,
            )
            node.on_commit = self._committed
            node.on_event = self._node_event(n)
            self.nodes[n] = node
            self.network.add(node)
        self.history.event(0.0, "start", leader, f"{leader!r} leads epoch 1")
        if heartbeat is not None:
            self.sim.schedule(heartbeat, self._tick)

    def __repr__(self) -> str:
        return f"Cluster(leader={self._leader!r}, nodes={len(self.nodes)}, t={self.now:.6g}s)"

    # --- state ----------------------------------------------------------
    @property
    def now(self) -> float:
        """The current virtual time in seconds."""
        return self.sim.now

    @property
    def leader(self) -> str:
        """The node clients send writes to: the one appointed leader most recently."""
        return self._leader

    @property
    def names(self) -> list[str]:
        """All node names, leader first as created."""
        return list(self.nodes)

    def node(self, name: str) -> Node:
        """The node called ``name`` (error if there is none)."""
        try:
            return self.nodes[name]
        except (KeyError, TypeError):
            known = ", ".join(repr(n) for n in self.nodes)
            raise UnknownNodeError(f"unknown node {name!r}; the nodes are {known}") from None

    def leaders(self) -> list[str]:
        """Every running node that believes it is a leader (more than one means split brain)."""
        return [n for n, node in self.nodes.items() if node.up and node.role == LEADER]

    def lag(self) -> dict[str, int]:
        """How many log entries each other node is behind the leader, now."""
        lead = self.nodes[self._leader].lsn
        return {n: max(lead - node.lsn, 0) for n, node in self.nodes.items() if n != self._leader}

    def status(self) -> list[dict[str, Any]]:
        """One row per node: name, role, up, epoch, lsn, and entries behind the leader."""
        lag = self.lag()
        return [
            {
                "node": n,
                "role": node.role,
                "up": node.up,
                "epoch": node.epoch,
                "lsn": node.lsn,
                "behind": lag.get(n, 0),
            }
            for n, node in self.nodes.items()
        ]

    def table(self) -> str:
        """The status as a small text table, one line per node."""
        rows = [("node", "role", "state", "epoch", "lsn", "behind")]
        for r in self.status():
            state = "up" if r["up"] else "DOWN"
            rows.append((r["node"], r["role"], state, str(r["epoch"]), str(r["lsn"]), str(r["behind"])))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        return f"t = {self.now:.3f} s\n" + "\n".join(lines)

    # --- time -----------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
            raise ConfigError(f"advance() takes a number of seconds >= 0, got {seconds!r}")
        self.sim.advance(seconds)

    def step(self) -> float | None:
        """Run the next event alone (a message arriving, a heartbeat, a client's write).

        Returns the time it happened, or None if nothing is scheduled.
        """
        return self.sim.now if self.sim.step() else None

    def run(self, until: float) -> None:
        """Let time pass until virtual time ``until`` (seconds)."""
        if isinstance(until, bool) or not isinstance(until, (int, float)) or not until >= self.now:
            raise ConfigError(f"run(until=...) needs a time >= now ({self.now:g} s), got {until!r}")
        self.sim.run(until)

    def _tick(self) -> None:
        for node in self.nodes.values():
            if node.up and node.role == LEADER:
                node.heartbeat()
        self.sim.schedule(self.heartbeat_interval, self._tick)

    # --- clients --------------------------------------------------------
    def write(self, key: Any, value: Any, node: str | None = None) -> Op:
        """A client writes ``key = value`` on ``node`` (default: the leader).

        Returns the recorded operation. Raises ReadOnlyError if the node is a
        follower, NodeDownError if it has crashed; the refusal is recorded too.
        """
        name = self._leader if node is None else node
        try:
            target = self.nodes[name]
        except (KeyError, TypeError):
            target = self.node(name)  # raises the helpful UnknownNodeError
        self._written.add(key)
        ops = self.history.ops
        try:
            entry = target.client_write(key, value, len(ops))  # the token: this op's id
        except ReplsimError as exc:
            self._fail(self.history.op("write", name, key, value, self.now), str(exc))
            if isinstance(exc, NodeDownError):
                raise NodeDownError(str(exc) + self._down_hint(name)) from None
            raise
        now = self.sim.now
        if target.sync_replicas:  # acknowledged later, when enough followers hold it
            op = Op(len(ops), "write", name, key, value, now, None, PENDING, entry.lsn, entry.epoch)
            self._pending[op.id] = op
        else:
            op = Op(len(ops), "write", name, key, value, now, now, OK, entry.lsn, entry.epoch)
        ops.append(op)
        return op

    def read(self, key: Any, node: str | None = None) -> Any:
        """A client reads ``key`` on ``node`` (default: the leader): that node's value, stale or not.

        Returns None if the key has not reached that node yet.
        """
        name = self._leader if node is None else node
        target = self.node(name)
        if not target.up:
            op = self.history.op("read", name, key, None, self.now)
            self._fail(op, f"{name!r} is down (crashed); it cannot answer reads")
            raise NodeDownError(op.error + self._down_hint(name))
        if key not in self._written:  # every key in any store came through write()
            written = sorted(repr(k) for k in self._written)
            raise UnknownKeyError(
                f"key {key!r} was never written to any node; keys written so far: "
                + (", ".join(written) if written else "none")
            )
        op = self.history.op("read", name, key, target.store.get(key), self.now)
        op.complete, op.outcome, op.lsn, op.epoch = self.now, OK, target.lsn, target.epoch
        return op.value

    def start_writes(self, rate: float, count: int | None = None, keys: Sequence[Any] = ("x",)) -> Writer:
        """Start a client that writes ``rate`` times per second, cycling over ``keys``.

        Values are 1, 2, 3, ... Writes go to the leader of the moment; refused ones
        are recorded, not raised. Stops after ``count`` writes or on ``stop()``.
        """
        return Writer(self, rate, count, keys)

    def _fail(self, op: Op, why: str) -> None:
        op.complete, op.outcome, op.error = self.now, FAIL, why

    def _down_hint(self, name: str) -> str:
        if name == self._leader:
            return "; no new writes until a follower is promoted (promote) or it recovers (recover)"
        return "; recover it, or use another node"

    def _committed(self, token: Any, now: float) -> None:
        op = self._pending.pop(token, None)
        if op is not None:
            op.complete, op.outcome = now, OK

    # --- faults and operator actions --------------------------------------
    def crash(self, name: str) -> None:
        """Crash a node: it stops at once; its log and data survive on disk."""
        node = self.node(name)
        if not node.up:
            raise NodeStateError(f"{name!r} is already down; recover({name!r}) brings it back")
        for token in node.crash():
            op = self._pending.pop(token, None)
            if op is not None:
                op.complete, op.outcome = self.now, INFO
                op.error = f"{name!r} crashed before enough replicas confirmed: outcome unknown"
        self.history.event(self.now, "crash", name, f"{name!r} ({node.role}) crashed")

    def recover(self, name: str) -> None:
        """Restart a crashed node from its durable log; a follower then catches up."""
        node = self.node(name)
        if node.up:
            raise NodeStateError(f"{name!r} is not down; only a crashed node can recover")
        node.recover()
        self.history.event(self.now, "recover", name, f"{name!r} restarted as {node.role}")

    def partition(self, *groups: Iterable[str]) -> None:
        """Split the network into groups that cannot reach each other (one group: it vs the rest)."""
        self.network.partition(*groups)
        desc = " | ".join(", ".join(g) for g in self.network.groups())
        self.history.event(self.now, "partition", None, desc)

    def cut(self, src: str, dst: str) -> None:
        """Stop messages from ``src`` to ``dst`` (one way only)."""
        self.network.cut(src, dst)
        self.history.event(self.now, "cut", src, f"{src} -> {dst}")

    def heal(self) -> None:
        """Remove every partition and cut."""
        self.network.heal()
        self.history.event(self.now, "heal", None, "network healed")

    def set_link(self, a: str, b: str, **settings: float) -> None:
        """Change a link's ``delay``, ``jitter`` or ``loss`` (both ways unless ``both_ways=False``)."""
        allowed = {"delay", "jitter", "loss", "both_ways"}
        bad = sorted(set(settings) - allowed)
        if bad:
            raise ConfigError(f"set_link() takes {', '.join(sorted(allowed))}; not {', '.join(bad)}")
        self.network.set_link(a, b, **settings)

    def promote(self, name: str, followers: Iterable[str] | None = None) -> None:
        """Make follower ``name`` the leader of a new epoch (a manual failover).

        ``followers``: the nodes an operator repoints to the new leader (default:
        every other node, the old leader included, as fencing would). Leave the
        old leader out to model a failover that cannot reach it.
        """
        node = self.node(name)
        if not node.up:
            raise NodeStateError(f"cannot promote {name!r}: it is down; recover it first")
        if node.role == LEADER:
            raise NodeStateError(f"{name!r} is already a leader (epoch {node.epoch})")
        others = [n for n in self.nodes if n != name] if followers is None else list(followers)
        for n in others:
            self.node(n)
            if n == name:
                raise ConfigError(f"{name!r} cannot follow itself")
        self._epoch = max(self._epoch, *(n.epoch for n in self.nodes.values())) + 1
        for n in others:
            self.nodes[n].follow(name)
        node.become_leader(self._epoch, others)
        self._leader = name
        self.history.event(
            self.now, "promote", name, f"{name!r} leads epoch {self._epoch} from lsn {node.lsn}"
        )

    def rejoin(self, name: str) -> None:
        """Make ``name`` follow the current leader again, like ``pg_rewind`` and a restart as standby.

        Entries that only ``name`` holds (never replicated before a failover, or
        written while it wrongly led) are discarded when it reconciles.
        """
        node = self.node(name)
        if name == self._leader:
            raise NodeStateError(f"{name!r} is the current leader; rejoin() is for the other nodes")
        lead = self.nodes[self._leader]
        for _, token in node.pending:
            op = self._pending.pop(token, None)
            if op is not None:
                op.complete, op.outcome = self.now, INFO
                op.error = f"{name!r} stopped leading before enough replicas confirmed: outcome unknown"
        node.pending.clear()
        node.follow(self._leader)
        if name not in lead.followers:
            lead.followers.append(name)
        self.history.event(self.now, "rejoin", name, f"{name!r} follows {self._leader!r} again")
        if node.up:
            node.recover()

    def _node_event(self, name: str):
        def record(kind: str, detail: str) -> None:
            self.history.event(self.now, kind, name, detail)

        return record

    # --- checks ---------------------------------------------------------
    def lost_writes(self) -> list[Op]:
        """Acknowledged writes that the current leader does not hold."""
        return checks.lost_writes(self.history, self.nodes[self._leader])

    def divergence(self, names: list[str] | None = None) -> dict[Any, dict[str, Any]]:
        """Keys whose values differ between nodes (all nodes by default)."""
        if names is not None:
            for n in names:
                self.node(n)
        return checks.divergence(self.nodes, names)


class Writer:
    """A client writing at a steady rate (see ``Cluster.start_writes``)."""

    def __init__(self, cluster: Cluster, rate: float, count: int | None, keys: Sequence[Any]) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise ConfigError(f"rate must be > 0 writes per second, got {rate!r}")
        if count is not None and (not isinstance(count, int) or count < 0):
            raise ConfigError(f"count must be a whole number >= 0 or None, got {count!r}")
        keys = list(keys)
        if not keys:
            raise ConfigError("keys must name at least one key")
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
        try:
            c.write(key, self.sent)
        except ReplsimError:  # refused writes are in the history; the client keeps going
            pass
        sim = c.sim
        sim._seq += 1
        heapq.heappush(sim._heap, (sim.now + self.interval, sim._seq, self._tick, ()))
