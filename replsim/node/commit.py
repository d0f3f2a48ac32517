"""Commit policies: what a leader waits for before it tells a client that a write succeeded.

Give one to a cluster with ``Cluster.set_commit(policy)``; each node gets its own copy,
used while it leads. Without one, ``Cluster(sync_replicas=k)`` gives each node ``Sync(k)``
(none for 0: asynchronous).

- :class:`Async`: nothing; the write is acknowledged as soon as the leader has it
  (the default of PostgreSQL, MySQL and Redis).
- :class:`Sync`: any ``k`` followers have applied the write (``sync_replicas=k``).
- :class:`SemiSync`: MySQL's semi-synchronous replication. Any ``k`` replicas must
  confirm they have the write (MySQL: written to the relay log and flushed); after
  ``timeout`` seconds without that (``rpl_semi_sync_source_timeout``, 10 s by default)
  the leader stops waiting and acknowledges writes asynchronously, until a replica has
  caught up with the write that timed out.
- :class:`First`: PostgreSQL's ``synchronous_standby_names = 'FIRST k (s1, s2, ...)'``.
  The first ``k`` listed standbys that are connected and streaming are synchronous; the
  others wait their turn. A standby the leader has not heard from for ``timeout`` seconds
  (``wal_sender_timeout``, 60 s by default) is not connected, and the next one in the
  list takes its place; when it is heard from again it counts once it has caught up
  (PostgreSQL's ``catchup`` state, then ``streaming``). With fewer than ``k``, writes wait.
- :class:`Quorum`: ``ANY k (s1, s2, ...)``: any ``k`` of the listed standbys.

``stage`` says what a confirmation means (PostgreSQL's ``synchronous_commit``):
``"received"`` (``remote_write``: the standby has it, not yet on disk), ``"flushed"``
(``on``: on the standby's disk) or ``"applied"`` (``remote_apply``: replayed, so reads on
the standby see it). The stages differ only on followers that have them
(``Cluster.set_stages``); others apply what they receive at once, and their one
acknowledgement stands for all three.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

from ..engine.sim import Simulator
from ..errors import ConfigError
from ..log import Log
from .messages import HEADER
from .quorum import kth_highest


class Leader(Protocol):
    """What a commit policy sees of the node it serves (a ``replsim.node.Node``, while it leads)."""

    name: str
    sim: Simulator
    up: bool
    role: str
    epoch: int
    epoch_history: tuple
    log: Log
    followers: list[str]
    match: dict[str, int]  # follower -> position it acknowledged (applied), this epoch
    progress: dict[str, tuple[int, int]]  # follower -> (received, flushed), from its confirmations
    pending: deque  # (lsn, token, client) of the writes waiting for confirmations
    _retries: list  # retried writes waiting for a commit
    heartbeat_interval: float | None
    commit: Any  # the policy in force (is it still this one?)

    def broadcast(self, dsts: list[str], kind: str, msg: tuple, size: int = 0) -> None: ...
    def set_commit(self, policy: Any) -> None: ...
    def _commit(self) -> None: ...  # acknowledge what is committed now
    def _event(self, kind: str, detail: str) -> None: ...


STAGES = {"received": "remote_write", "flushed": "on", "applied": "remote_apply"}
"""What a confirmation means, and PostgreSQL's ``synchronous_commit`` setting for it."""

_EPS = 1e-9


def stage_position(node: Leader, follower: str, stage: str) -> int:
    """The position ``follower`` has confirmed to leader ``node`` at ``stage`` (in this epoch)."""
    applied = node.match.get(follower, 0)
    if stage == "applied":
        return applied
    received, flushed = node.progress.get(follower, (0, 0))
    return max(applied, received if stage == "received" else flushed)


def _count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}")
    return value


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ConfigError(f"{name} must be a number of seconds > 0, got {value!r}")
    return float(value)


class CommitPolicy:
    """What a leader waits for before acknowledging a write (a base class: see the module's list)."""

    k = 0
    listens: str | None = None
    """``"before"`` or ``"after"``: the node calls :meth:`hear` before (after) it handles each
    acknowledgement or confirmation; None: the policy hears nothing."""

    def __init__(self, stage: str = "flushed") -> None:
        if stage not in STAGES:
            known = ", ".join(f"{s!r} ({pg})" for s, pg in STAGES.items())
            raise ConfigError(f"stage must be one of {known}; got {stage!r}")
        self.stage = stage
        self.node: Leader | None = None

    # --- set-up -------------------------------------------------------------
    def check(self, names: Sequence[str]) -> None:
        """Raise ConfigError if this policy does not fit a cluster of nodes ``names``."""

    def bind(self, node: Leader) -> CommitPolicy:
        """A copy of this policy for ``node``, with its own state."""
        mine = copy.copy(self)
        mine.node = node
        mine._start(node)
        return mine

    def _start(self, node: Leader) -> None:
        """Set up per-node state (timers)."""

    def hear(self, src: str, epoch: int) -> None:
        """An acknowledgement or confirmation from ``src`` about ``epoch`` (see ``listens``)."""

    # --- what the node asks -------------------------------------------------
    def waits(self, node: Leader, lsn: int) -> bool:
        """Does the write just appended at ``lsn`` wait for confirmations?"""
        return True

    def position(self, node: Leader) -> int:
        """The newest position that may be acknowledged now."""
        raise NotImplementedError

    def required(self, node: Leader) -> int:
        """How many confirmations a write acknowledged now must have."""
        return self.k

    def candidates(self, node: Leader) -> list[str]:
        """The standbys whose confirmations count now."""
        return [f for f in node.followers if f != node.name]

    def confirmed_by(self, node: Leader, lsn: int) -> list[str]:
        """The standbys whose confirmations of ``lsn`` count now (sorted)."""
        return sorted(f for f in self.candidates(node) if stage_position(node, f, self.stage) >= lsn)

    def promises_all(self, nodes: int) -> bool:
        """Does a write acknowledged under this policy stand applied on every other node of a cluster of
        ``nodes`` (it waits for all of them to apply it)?"""
        return self.stage == "applied" and self.k >= nodes - 1

    def describe(self) -> str:
        """The setting in words, like a database's configuration."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"


class Async(CommitPolicy):
    """Acknowledge at once; replicate afterwards."""

    def __init__(self) -> None:
        super().__init__("flushed")

    def waits(self, node: Leader, lsn: int) -> bool:
        return False

    def position(self, node: Leader) -> int:
        return node.log.last_lsn

    def confirmed_by(self, node: Leader, lsn: int) -> list[str]:
        return []

    def describe(self) -> str:
        return "asynchronous"


class Sync(CommitPolicy):
    """``sync_replicas=k``: any ``k`` followers have the write, applied (they acknowledged it)."""

    def __init__(self, k: int) -> None:
        super().__init__("applied")
        self.k = _count("k", k, 1)

    def check(self, names: Sequence[str]) -> None:
        if self.k > len(names) - 1:
            raise ConfigError(f"k ({self.k}) is more than the {len(names) - 1} followers a leader can have")

    def position(self, node: Leader) -> int:
        return kth_highest(node.match.values(), self.k)

    def confirmed_by(self, node: Leader, lsn: int) -> list[str]:
        return sorted(f for f, at in node.match.items() if at >= lsn)

    def describe(self) -> str:
        return f"{self.k} synchronous replica{'s' if self.k != 1 else ''} (any, applied)"


class Quorum(CommitPolicy):
    """``ANY k (names)``: any ``k`` of the listed standbys confirm (``names=None``: any followers)."""

    def __init__(self, k: int, names: Sequence[str] | None = None, stage: str = "flushed") -> None:
        super().__init__(stage)
        self.k = _count("k", k, 1)
        self.names = _names(names) if names is not None else None
        if self.names is not None and self.k > len(self.names):
            raise ConfigError(f"k ({k}) is more than the {len(self.names)} standbys named")

    def check(self, names: Sequence[str]) -> None:
        _known(self.names, names)
        if self.k > len(names) - 1:
            raise ConfigError(f"k ({self.k}) is more than the {len(names) - 1} followers a leader can have")

    def candidates(self, node: Leader) -> list[str]:
        if self.names is None:
            return super().candidates(node)
        return [n for n in self.names if n != node.name]

    def position(self, node: Leader) -> int:
        return kth_highest((stage_position(node, f, self.stage) for f in self.candidates(node)), self.k)

    def describe(self) -> str:
        who = "any follower" if self.names is None else ", ".join(self.names)
        return f"ANY {self.k} ({who}), {STAGES[self.stage]}"


class First(CommitPolicy):
    """``FIRST k (names)``: the first ``k`` connected standbys in the list confirm, in priority order."""

    def __init__(self, k: int, names: Sequence[str], stage: str = "flushed", timeout: float = 60.0) -> None:
        super().__init__(stage)
        self.k = _count("k", k, 1)
        self.names = _names(names)
        if self.k > len(self.names):
            raise ConfigError(f"k ({k}) is more than the {len(self.names)} standbys named")
        self.timeout = _seconds("timeout", timeout)

    def check(self, names: Sequence[str]) -> None:
        _known(self.names, names)

    listens = "before"  # a confirmation counts from a standby heard from now

    def _start(self, node: Leader) -> None:
        self._heard: dict[str, float] = {}
        self._behind: set[str] = set()  # went silent: they count again once caught up
        self._epoch = node.epoch
        self._since = node.sim.now
        self._sim = node.sim
        self._timer = node.sim.timer(self._recheck)
        # PostgreSQL's walsender sends an idle standby a keepalive after wal_sender_timeout / 2, and
        # the standby answers: a leader whose own heartbeats are rarer does the same here
        self._keepalive = node.sim.timer(self._keep_alive)
        hb = node.heartbeat_interval
        if hb is None or hb > self.timeout / 2:
            self._keepalive.set(self.timeout / 2)

    def _keep_alive(self) -> None:
        node = self.node
        self._keepalive.set(self.timeout / 2)
        if node is None or not node.up or node.role != "leader" or node.commit is not self:
            return
        self._fresh(node)
        now = node.sim.now
        quiet = [
            n
            for n in self.names
            if n in node.followers and now - self._heard.get(n, self._since) >= self.timeout / 2 - _EPS
        ]
        if quiet:
            log = node.log
            msg = (node.name, node.epoch, log.last_lsn, log.last_epoch, (), node.epoch_history)
            node.broadcast(quiet, "append", msg, HEADER)

    def hear(self, src: str, epoch: int) -> None:
        if epoch != self._epoch:
            self._fresh(self.node)  # type: ignore[arg-type]
            if epoch != self._epoch:
                return  # about another epoch: not streaming from us
        self._heard[src] = self._sim.now

    def _fresh(self, node: Leader) -> None:
        if node.epoch != self._epoch:  # leading a new epoch: nobody heard from yet
            self._epoch, self._since, self._heard, self._behind = node.epoch, node.sim.now, {}, set()

    def connected(self, node: Leader) -> list[str]:
        """The listed standbys connected and streaming: heard from within ``timeout`` (all, early in a
        leadership), and, if one went silent before, caught up since (it has received every write waiting)."""
        self._fresh(node)
        now = node.sim.now
        out = []
        for n in self.names:
            if n == node.name:
                continue
            if now - self._heard.get(n, self._since) >= self.timeout - _EPS:
                self._behind.add(n)
                continue
            if n in self._behind:
                target = node.pending[0][0] if node.pending else node.log.last_lsn
                if stage_position(node, n, "received") < target:
                    continue  # still catching up
                self._behind.discard(n)
            out.append(n)
        return out

    def candidates(self, node: Leader) -> list[str]:
        return self.connected(node)[: self.k]

    def position(self, node: Leader) -> int:
        sync = self.candidates(node)
        if len(sync) < self.k:
            return 0
        if node.pending:  # look again when one of them would stop counting as connected
            due = min(self._heard.get(n, self._since) for n in sync) + self.timeout
            timer = self._timer
            if not timer.armed or timer.due > due:  # an early look re-arms it for later
                timer.set(max(due - node.sim.now, 0.0))
        return min(stage_position(node, f, self.stage) for f in sync)

    def _recheck(self) -> None:
        node = self.node
        if node is not None and (node.pending or node._retries) and node.up:
            node._commit()

    def describe(self) -> str:
        return f"FIRST {self.k} ({', '.join(self.names)}), {STAGES[self.stage]}"


class SemiSync(CommitPolicy):
    """MySQL's semi-synchronous replication: any ``k`` replicas confirm, unless ``timeout`` passes."""

    def __init__(self, k: int = 1, timeout: float = 10.0, stage: str = "flushed") -> None:
        super().__init__(stage)
        self.k = _count("k", k, 1)
        self.timeout = _seconds("timeout", timeout)

    def check(self, names: Sequence[str]) -> None:
        if self.k > len(names) - 1:
            raise ConfigError(f"k ({self.k}) is more than the {len(names) - 1} followers a leader can have")

    listens = "after"  # a replica that has just caught up switches waiting back on

    def promises_all(self, nodes: int) -> bool:
        return False  # after a timeout it acknowledges without anyone

    def _start(self, node: Leader) -> None:
        self.on = True
        self._epoch = node.epoch
        self._target = 0  # while off: the position a replica must reach to switch back on
        self._timer = node.sim.timer(self._tick)

    def _fresh(self, node: Leader) -> None:
        if node.epoch != self._epoch:
            self._epoch, self.on, self._target = node.epoch, True, 0

    def waits(self, node: Leader, lsn: int) -> bool:
        self._fresh(node)
        if not self.on:
            return False
        if not self._timer.armed:
            self._timer.set(self.timeout)
        return True

    def position(self, node: Leader) -> int:
        if not self.on:
            return node.log.last_lsn
        return kth_highest((stage_position(node, f, self.stage) for f in self.candidates(node)), self.k)

    def confirmed_by(self, node: Leader, lsn: int) -> list[str]:
        return super().confirmed_by(node, lsn) if self.on else []

    def required(self, node: Leader) -> int:
        return self.k if self.on else 0

    def _tick(self) -> None:
        node = self.node
        if node is None or not self.on or not node.pending or not node.up:
            return
        oldest = node.pending[0][0]
        try:
            waited = node.sim.now - node.log[oldest].time
        except (IndexError, KeyError):
            waited = self.timeout
        if waited < self.timeout - _EPS:
            self._timer.set(self.timeout - waited)
            return
        self.on = False
        self._target = node.pending[-1][0]
        node._event(
            "semi-sync off",
            f"no replica confirmed lsn {oldest} within {self.timeout:g} s: acknowledging without waiting",
        )
        node._commit()

    def hear(self, src: str, epoch: int) -> None:
        node = self.node
        if node is None or self.on or epoch != node.epoch:
            return
        if stage_position(node, src, self.stage) >= self._target:
            self.on = True
            node._event(
                "semi-sync on", f"{src!r} caught up to lsn {self._target}: waiting for replicas again"
            )

    def describe(self) -> str:
        return f"semi-sync, {self.k} of any replicas, timeout {self.timeout:g} s"


def _names(names: Any) -> list[str]:
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ConfigError(f"names must be a list of standby names, got {names!r}")
    if not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"names must be a non-empty list of standby names, got {names!r}")
    if len(set(names)) != len(names):
        raise ConfigError(f"names must name each standby once, got {list(names)!r}")
    return list(names)


def _known(mine: list[str] | None, names: Sequence[str]) -> None:
    unknown = [n for n in mine or () if n not in names]
    if unknown:
        known = ", ".join(map(repr, names))
        raise ConfigError(f"unknown standby {unknown[0]!r} in the commit policy; the nodes are {known}")


def unbind(node: Leader) -> None:
    """Take ``node``'s chosen commit policy away: back to ``sync_replicas``."""
    node.set_commit(None)


__all__ = [
    "CommitPolicy",
    "Async",
    "Sync",
    "SemiSync",
    "First",
    "Quorum",
    "STAGES",
    "stage_position",
    "unbind",
]
