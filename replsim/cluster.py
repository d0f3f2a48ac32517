"""The cluster: nodes, network, clients and the record behind one small API.

Typical use::

    c = Cluster(leader="Anchor", followers=["Channel A", "Channel B"], delay=0.05, seed=1)
    c.write("headline", "Tuesday")
    c.advance(1.0)
    c.read("headline", node="Channel A")   # -> 'Tuesday'

Every action happens at the current virtual time ``c.now``; ``advance`` and
``run`` move time on and let messages travel.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .clients import Client, Writer, check_key
from .control import Control
from .engine import Network, Simulator
from .engine.network import _names, check_link
from .engine.sim import MAX_TIME, check_time
from .errors import (
    ConfigError,
    NodeDownError,
    NodeStateError,
    ReplsimError,
    StoreError,
    UnknownKeyError,
    UnknownNodeError,
)
from .history import FAIL, OK, History, Op, State, checks, measures
from .host import NodeHost
from .node import FOLLOWER, LEADER, Node
from .node.commit import CommitPolicy
from .stores import KVStore, Store
from .validate import whole
from .view import NodeView, View, status_table

MIN_HEARTBEAT = 0.001


class Cluster(Control):
    """One leader and its followers, simulated deterministically from ``seed``.

    ``delay``/``jitter`` are one-way link delays in seconds (delay +/- jitter),
    ``loss`` the chance a message is dropped, ``heartbeat`` how often a leader
    announces its position (seconds; ``None`` for never; followers that lost
    something ask again on each heartbeat), ``sync_replicas`` how many followers
    must hold a write before the client is told it succeeded (0 = asynchronous,
    the default of PostgreSQL, MySQL and Redis). ``store``: a function making each
    node's store (default: a key-value table). ``keep_log``: how many entries a
    leader keeps for followers that fall behind (``None``: all; like PostgreSQL's
    ``wal_keep_size``), and ``slots=True`` keeps whatever a known follower still
    needs (replication slots). ``read_time``: seconds each read from a client on the network keeps
    a node busy (reads queue behind each other). ``keep_messages``: how many messages the journal keeps.
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
        store: Callable[[], Store] = KVStore,
        keep_log: int | None = None,
        slots: bool = False,
        read_time: float = 0.0,
    ) -> None:
        if isinstance(followers, str):
            followers = [followers]
        followers = _names(followers, "followers")
        names = [leader, *followers]
        for n in names:
            if not isinstance(n, str) or not n.strip():
                raise ConfigError(f"node names must be non-empty strings, got {n!r}")
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"node names must be unique; repeated: {', '.join(map(repr, dup))}")
        check_link(delay, jitter, loss)
        if heartbeat is not None:
            heartbeat = check_time("heartbeat", heartbeat, positive=True)
            if not MIN_HEARTBEAT <= heartbeat <= 3600:
                raise ConfigError(
                    f"heartbeat must be between {MIN_HEARTBEAT} and 3600 seconds, or None; got {heartbeat!r}"
                )
        if isinstance(sync_replicas, bool) or not isinstance(sync_replicas, int):
            raise ConfigError(f"sync_replicas must be a whole number, got {sync_replicas!r}")
        if not 0 <= sync_replicas <= len(followers):
            raise ConfigError(
                f"sync_replicas must be between 0 and the number of followers ({len(followers)}), "
                f"got {sync_replicas}"
            )
        if keep_log is not None:
            whole("keep_log", keep_log, 1)
        if not isinstance(slots, bool):
            raise ConfigError(f"slots must be True or False, got {slots!r}")
        self.read_time = check_time("read_time", read_time)
        if not callable(store):
            raise ConfigError(
                f"store must be a function that makes a node's store (like KVStore), got {store!r}"
            )
        self.sim = Simulator(seed)
        self.network = Network(self.sim, delay, jitter, loss, keep_messages)
        self.nodes: dict[str, Node] = {}
        self.clients: dict[str, Client] = {}
        self.history = History()
        self.heartbeat_interval = heartbeat
        self.sync_replicas = sync_replicas
        self._store = store
        self._sql = False  # the nodes hold SQL databases (a store that executes SQL)
        self._keep_log = keep_log
        self._slots = slots
        self._leader = leader
        self._epoch = 1
        self._written: set = set()  # every key a client has tried to write
        self.failover: Any = None  # an automatic failover, if any (replsim.failover, replsim.node.election)
        self._commit: CommitPolicy | None = None  # set_commit(): what leaders wait for
        self._host = NodeHost(self)
        for n in names:
            self._add_node(
                n, role=LEADER if n == leader else FOLLOWER, followers=followers if n == leader else None
            )
        self.history.event(0.0, "start", leader, f"{leader!r} leads epoch 1")

    def _add_node(self, name: str, role: str, followers: list[str] | None = None) -> Node:
        store = self._store()
        self._sql = getattr(store, "execute", None) is not None
        bind = getattr(store, "bind", None)
        if bind is not None:  # a store that needs its node's name, clock and random stream (SQLite)
            bind(name, self.sim)
        node = Node(
            name,
            self._host,
            role=role,
            leader=self._leader,
            followers=followers,
            sync_replicas=self.sync_replicas,
            heartbeat=self.heartbeat_interval,
            store=store,
            keep_log=self._keep_log,
            slots=self._slots,
            track=self.history.track(name, State(self.now, role, True, 1, self._leader, False)),
        )
        node.read_time = self.read_time
        if self._commit is not None:
            node.set_commit(self._commit)
        self.nodes[name] = node
        self.network.add(node)
        return node

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

    def view(self, at: float | None = None) -> View:
        """The cluster now, or at a past time ``at`` rebuilt from the record alone."""
        h = self.history
        if at is None:
            nodes = {}
            for n, node in self.nodes.items():
                trouble = "replication stopped" if node.broken else ""
                if not trouble and node.needs_rebuild is not None:
                    trouble = "needs rebuild"
                nodes[n] = NodeView(node.role, node.up, node.epoch, node.lsn, node.leader, trouble)
            net = self.network
            return View(self.now, self._leader, nodes, net.groups(), net.cuts(), len(h.leaders))
        at = check_time("at", at)
        if at > self.now:
            raise ConfigError(f"at must not be in the future (now is {self.now:g} s), got {at!r}")
        nodes = {}
        for n, track in h.tracks.items():
            if track.states[0].time > at:
                continue  # not in the cluster yet
            st = track.state_at(at)
            lsn = int(track.position([at])[0])
            nodes[n] = NodeView(
                st.role, st.up, st.epoch, lsn, st.leader, "replication stopped" if st.broken else ""
            )
        groups, cuts = h.network_at(at, list(nodes))
        appointed = sum(1 for t, _ in h.leaders if t <= at)
        return View(at, h.leader_at(at), nodes, groups, cuts, appointed)

    def lag(self) -> dict[str, int]:
        """How many log entries each other node is behind the leader, now."""
        return self.view().lag()

    def status(self, at: float | None = None) -> list[dict[str, Any]]:
        """One row per node: name, role, up, epoch, lsn, entries behind the leader, and any trouble.

        ``at``: as it was at that past time (rebuilt from the record).
        """
        v = self.view(at)
        lag = v.lag()
        return [
            {
                "node": n,
                "role": nv.role,
                "up": nv.up,
                "epoch": nv.epoch,
                "lsn": nv.lsn,
                "behind": lag.get(n, 0),
                "trouble": nv.trouble,
            }
            for n, nv in v.nodes.items()
        ]

    def table(self, at: float | None = None) -> str:
        """The status as a small text table, one line per node (``at``: as it was then)."""
        head, rows = status_table(self.status(at))
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [head, *rows]]
        return f"t = {self.now if at is None else at:.3f} s\n" + "\n".join(lines)

    # --- time -----------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass."""
        seconds = check_time("advance() seconds", seconds)
        self.run(self.now + seconds)

    def step(self) -> float | None:
        """Run the next event alone (a message arriving, a heartbeat, a client's write).

        Returns the time it happened, or None if nothing is scheduled.
        """
        return self.sim.now if self.sim.step() else None

    def run(self, until: float) -> None:
        """Let time pass until virtual time ``until`` (seconds)."""
        until = check_time("run(until=...)", until)
        if until < self.now:
            raise ConfigError(f"run(until=...) needs a time >= now ({self.now:g} s), got {until!r}")
        if until > MAX_TIME:
            raise ConfigError(f"run(until=...) can go up to {MAX_TIME:,.0f} s of virtual time, got {until!r}")
        self.sim.run(until)

    # --- clients --------------------------------------------------------
    def write(self, key: Any, value: Any, node: str | None = None) -> Op:
        """A client next to ``node`` (default: the leader) writes ``key = value``.

        Returns the recorded operation. Raises ReadOnlyError if the node is a
        follower, NodeDownError if it has crashed; the refusal is recorded too.
        """
        name = self._leader if node is None else node
        target = self.nodes.get(name) if isinstance(name, str) else None
        if target is None:
            target = self.node(name)  # raises the helpful UnknownNodeError
        try:
            if key not in self._written:
                self._written.add(key)
        except TypeError:
            check_key(key)  # raises the helpful ConfigError
        history = self.history
        now = self.sim.now
        op = history.op("write", name, key, value, now)
        try:
            entry = target.client_write((key, value), op.id)
        except ReplsimError as exc:
            history.settle(op, now, FAIL, str(exc))
            if isinstance(exc, NodeDownError):
                raise NodeDownError(str(exc) + self._down_hint(name)) from None
            raise
        op.lsn, op.epoch = entry.lsn, entry.epoch
        if not target.waiting(entry.lsn):  # else acknowledged once followers confirm
            if history.ack_watchers:
                history.acknowledged(op, entry.lsn, entry.epoch)
            if history.watchers:
                history.settle(op, now, OK)
            else:
                op.complete, op.outcome = now, OK
        return op

    def execute(self, sql: str, node: str | None = None) -> Op:
        """A client next to ``node`` (default: the leader) runs SQL that changes data (SQLite stores).

        Recorded as a write of key ``"sql"``; SQLite's own error (bad SQL) fails it with StoreError.
        """
        if not isinstance(sql, str) or not sql.strip():
            raise ConfigError(f"execute() takes SQL text, got {sql!r}")
        if not self._sql:
            raise ConfigError(
                "execute() runs SQL on nodes that hold SQL databases (Cluster(store=...) with "
                "replsim.stores.sqlite.sql_store); this cluster's nodes hold key-value tables: "
                "use write(key, value)"
            )
        return self.write("sql", sql, node)

    def read(self, key: Any, node: str | None = None) -> Any:
        """A client next to ``node`` (default: the leader) reads ``key``: that node's value, stale or not.

        Returns None if the key has not reached that node yet.
        """
        name = self._leader if node is None else node
        target = self.node(name)
        check_key(key)
        if not target.up:
            op = self.history.op("read", name, key, None, self.now)
            self.history.settle(op, self.now, FAIL, f"{name!r} is down (crashed); it cannot answer reads")
            raise NodeDownError(op.error + self._down_hint(name))
        if self._sql:
            if not isinstance(key, str) or not key.strip():
                raise ConfigError(
                    f"read() on nodes that hold SQL databases takes a SELECT query, got {key!r}"
                )
            try:
                value = target.read(key)
            except ReplsimError:
                raise
            except Exception as exc:  # the database refused the query
                raise StoreError(f"{name!r} refused the query: {type(exc).__name__}: {exc}") from None
            op = self.history.op("read", name, key, value, self.now)
            op.lsn, op.epoch = target.lsn, target.epoch
            self.history.settle(op, self.now, OK)
            return value
        if key not in self._written:  # every key in any store came through a client's write
            written = sorted(repr(k) for k in self._written)
            raise UnknownKeyError(
                f"key {key!r} was never written to any node; keys written so far: "
                + (", ".join(written) if written else "none")
            )
        op = self.history.op("read", name, key, target.read(key), self.now)
        op.lsn, op.epoch = target.lsn, target.epoch
        self.history.settle(op, self.now, OK)
        return op.value

    def client(
        self,
        name: str,
        *,
        near: str | None = None,
        delays: dict[str, float] | None = None,
        timeout: float = 1.0,
        retries: int = 0,
        backoff: float = 0.5,
        idempotent: bool = False,
    ) -> Client:
        """A client on the network, ``near`` a node or with its own one-way ``delays`` to nodes (seconds).

        ``retries``, ``backoff``, ``idempotent``: how it retries a write it got no answer for (``Client``).
        """
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"a client's name must be a non-empty string, got {name!r}")
        if name in self.nodes or name in self.clients:
            raise ConfigError(f"the name {name!r} is taken; pick another for the client")
        c = self.clients[name] = Client(
            self,
            name,
            near=near,
            delays=delays,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            idempotent=idempotent,
        )
        return c

    def start_writes(
        self,
        rate: float,
        count: int | None = None,
        keys: Sequence[Any] = ("x",),
        *,
        name: str | None = None,
        node: str | None = None,
    ) -> Writer:
        """Start a client that writes ``rate`` times per second, cycling over ``keys``.

        Values are 1, 2, 3, ... Writes go to the leader of the moment (or always to
        ``node``); refused ones are recorded, not raised. ``name`` is recorded as each
        write's client. Stops after ``count`` writes or on ``stop()``.
        """
        writer = Writer(self, rate, count, keys, name, node)
        self._written.update(writer.keys)
        return writer

    def _down_hint(self, name: str) -> str:
        if name == self._leader:
            return "; no new writes until a follower is promoted (promote) or it recovers (recover)"
        return "; recover it, or use another node"

    # --- faults and operator actions --------------------------------------
    def crash(self, name: str) -> None:
        """Crash a node: it stops at once; its log and data survive on disk."""
        node = self.node(name)
        if not node.up:
            raise NodeStateError(f"{name!r} is already down; recover({name!r}) brings it back")
        node.crash()
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
        self._record_network()

    def cut(self, src: str, dst: str) -> None:
        """Stop messages from ``src`` to ``dst`` (one way only)."""
        self.network.cut(src, dst)
        self.history.event(self.now, "cut", src, f"{src} -> {dst}")
        self._record_network()

    def heal(self) -> None:
        """Remove every partition and cut."""
        self.network.heal()
        self.history.event(self.now, "heal", None, "network healed")
        self._record_network()

    def _record_network(self) -> None:
        self.history.network(self.now, self.network.groups(), self.network.cuts())

    def set_link(self, a: str, b: str, **settings: Any) -> None:
        """Change a link's ``delay``, ``jitter`` or ``loss`` (both ways unless ``both_ways=False``)."""
        allowed = {"delay", "jitter", "loss", "both_ways"}
        bad = sorted(set(settings) - allowed)
        if bad:
            raise ConfigError(f"set_link() takes {', '.join(sorted(allowed))}; not {', '.join(bad)}")
        self.network.set_link(a, b, **settings)

    def set_commit(self, policy: CommitPolicy) -> None:
        """What a leader waits for before acknowledging a write: a policy from ``replsim.node.commit``
        (``Async()``, ``Sync(k)``, ``SemiSync(...)``, ``First(k, names)``, ``Quorum(k, names)``), instead of
        ``sync_replicas``. Every node gets its own copy (so a promoted node brings its own)."""
        if not isinstance(policy, CommitPolicy):
            raise ConfigError(
                "set_commit() takes a policy from replsim.node.commit "
                f"(Async, Sync, SemiSync, First, Quorum), got {policy!r}"
            )
        if self.sync_replicas:
            raise ConfigError(
                f"this cluster waits for sync_replicas={self.sync_replicas}; make it with sync_replicas=0 "
                "to use a commit policy instead"
            )
        if any(n.unconfirmed for n in self.nodes.values()):
            raise NodeStateError("writes are waiting for confirmations: change the policy when none are")
        policy.check(self.names)
        self._commit = policy
        for node in self.nodes.values():
            node.set_commit(policy)
        self.history.event(self.now, "commit", None, policy.describe())

    def set_stages(self, name: str, flush: float = 0.0, apply: float = 0.0) -> None:
        """Give follower ``name`` separate stages: ``flush`` seconds from receiving the stream to having
        it on disk, and ``apply`` seconds to apply each entry (a busy replica falls behind). It confirms
        each stage to the leader, so commit policies can wait for received, flushed or applied."""
        node = self.node(name)
        flush = check_time("flush", flush)
        apply = check_time("apply", apply)
        if flush > 60 or apply > 60:
            raise ConfigError(f"flush and apply must be at most 60 seconds, got {flush!r} and {apply!r}")
        node.set_stages(flush, apply)

    def fork(self) -> Cluster:
        """An independent copy of the whole simulation, to try another choice from this moment on.

        A deep copy of everything (nodes, messages in flight, clients, the record, the journal), so its
        cost grows with what has happened: about 10 ms for 3 nodes after 300 writes and 1,400 messages
        journaled (``benchmarks/engine.py`` measures it).
        """
        return copy.deepcopy(self)

    # --- checks ---------------------------------------------------------
    def lost_writes(self, at: float | None = None) -> list[Op]:
        """Writes acknowledged by time ``at`` (default: now) that the leader of that moment did not hold."""
        if at is not None:
            at = check_time("at", at)
            if at > self.now:
                raise ConfigError(f"at must not be in the future (now is {self.now:g} s), got {at!r}")
        return measures.lost_writes(self.history, self.now if at is None else at)

    def divergence(
        self, names: list[str] | None = None, at: float | None = None
    ) -> dict[Any, dict[str, Any]]:
        """Keys whose values differ between nodes (all nodes by default), now or at time ``at``."""
        if names is not None:
            names = _names(names, "names")
            for n in names:
                self.node(n)
        if at is not None:
            at = check_time("at", at)
            if at > self.now or math.isnan(at):
                raise ConfigError(f"at must not be in the future (now is {self.now:g} s), got {at!r}")
        return checks.divergence(self.nodes, names, self.history, at)
