"""A database node: its role, its log, its data, and how it reacts to messages.

The node never reads a clock of its own or touches the network: it is handed a
``clock`` (anything with ``.now``) and a ``send(dst, kind, msg)`` function; every
message ``msg`` is a tuple whose first field is the sender's name.
So a test can step one node by hand, and the cluster can run many at speed.

What survives a crash: the log, the data built from it, the epoch, the role and
whom the node follows (all durable, as if fsynced). What is lost: the leader's
view of its followers' positions, and clients' writes still waiting for
replica acknowledgements (their outcome becomes unknown).

Messages (kind, then arguments after the sender's name):
- ``append(epoch, prev_lsn, prev_epoch, entries, epoch_history)``: leader -> follower;
  with no entries it is a heartbeat.
- ``ack(epoch, lsn, need)``: follower -> leader, "I hold up to ``lsn``";
  ``need`` asks for a resend from there.
- ``stale(epoch)``: follower -> an old leader, "a newer epoch exists" (fencing).
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from .errors import NodeDownError, ReadOnlyError
from .log import Entry, Log, epoch_at
from .store import KVStore

LEADER = "leader"
FOLLOWER = "follower"
CANDIDATE = "candidate"  # reserved for elections


class Clock(Protocol):
    now: float


Send = Callable[[str, str, tuple], None]
Broadcast = Callable[[list[str], str, tuple], None]


class Node:
    """One database server in the cluster."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        send: Send,
        role: str = FOLLOWER,
        leader: str | None = None,
        followers: list[str] | None = None,
        sync_replicas: int = 0,
        broadcast: Broadcast | None = None,
    ) -> None:
        self.name = name
        self.clock = clock
        self.send = send
        self.broadcast = broadcast or self._broadcast
        self.role = role
        self.leader = leader if role == FOLLOWER else name
        self.followers: list[str] = list(followers or [])
        self.epoch = 1
        self.log = Log()
        self.store = KVStore()
        self.up = True
        self.sync_replicas = sync_replicas
        self.epoch_history: tuple[tuple[int, int], ...] = ((1, 1),)  # (epoch, first lsn), as led
        # volatile state (lost in a crash)
        self.match: dict[str, int] = {}
        self.pending: deque[tuple[int, Any]] = deque()
        self._asked: int | None = None
        self._synced_epoch = 0
        self._stream: str | None = None  # the leader whose stream this node has checked, for the fast path
        self.rolled_back: list[Entry] = []
        # callbacks the cluster sets
        self.on_commit: Callable[[Any, float], None] = lambda token, now: None
        self.on_event: Callable[[str, str], None] = lambda kind, detail: None
        # position over time, for lag plots: (time, last lsn applied)
        self.pos_t = array("d", [0.0])
        self.pos_lsn = array("q", [0])
        self.handlers = {"append": self.on_append, "ack": self.on_ack, "stale": self.on_stale}

    def __repr__(self) -> str:
        state = "up" if self.up else "down"
        return f"Node({self.name!r}, {self.role}, epoch={self.epoch}, lsn={self.log.last_lsn}, {state})"

    @property
    def lsn(self) -> int:
        """Position of the newest entry this node holds (and has applied)."""
        return len(self.log.entries)

    def _broadcast(self, dsts: list[str], kind: str, msg: tuple) -> None:
        for dst in dsts:
            self.send(dst, kind, msg)

    def _record(self) -> None:
        self.pos_t.append(self.clock.now)
        self.pos_lsn.append(len(self.log.entries))

    # --- client side ----------------------------------------------------
    def client_write(self, key: Any, value: Any, token: Any = None) -> Entry:
        """Append a client's write (leader only); return its entry.

        If ``sync_replicas`` is 0 the write is acknowledged at once; otherwise
        ``on_commit(token, now)`` fires when enough followers hold it.
        """
        if not self.up:
            raise NodeDownError(f"{self.name!r} is down (crashed); it cannot take writes")
        if self.role != LEADER:
            raise ReadOnlyError(
                f"cannot execute INSERT in a read-only transaction: {self.name!r} is a {self.role}"
                + (f" of {self.leader!r}" if self.leader else "")
                + "; send writes to the leader"
            )
        entries = self.log.entries
        lsn = len(entries) + 1
        prev_epoch = entries[-1].epoch if entries else 0
        entry = Entry(lsn, self.epoch, self.clock.now, key, value)
        entries.append(entry)
        self.store.apply(entry)
        self.pos_t.append(entry.time)  # _record(), inlined
        self.pos_lsn.append(lsn)
        msg = (self.name, self.epoch, lsn - 1, prev_epoch, (entry,), self.epoch_history)
        self.broadcast(self.followers, "append", msg)
        if self.sync_replicas:
            self.pending.append((lsn, token))
        return entry

    # --- leader side ----------------------------------------------------
    def heartbeat(self) -> None:
        """Leader: tell every follower the current position (an empty append)."""
        if self.role != LEADER or not self.up:
            return
        last = len(self.log.entries)
        msg = (self.name, self.epoch, last, self.log.last_epoch, (), self.epoch_history)
        self.broadcast(self.followers, "append", msg)

    def on_ack(self, src: str, epoch: int, lsn: int, need: bool) -> None:
        """Leader: a follower reports its position, maybe asking for a resend.

        Only a node that follows this leader sends it acks (to whoever sent it entries).
        """
        if epoch == self.epoch and not need and self.role is LEADER and self.up:  # the common case
            self.match[src] = lsn
            if self.pending:
                self._commit()
            return
        if not self.up or self.role != LEADER:
            return
        if epoch > self.epoch:
            self._step_down(epoch, f"{src!r} reports epoch {epoch}")
            return
        self.match[src] = lsn
        if need:  # resend what it lacks (or, if it is ahead of us, let it reconcile)
            entries = self.log.entries
            prev = min(lsn, len(entries))
            prev_epoch = entries[prev - 1].epoch if prev else 0
            batch = tuple(entries[prev:])
            self.send(src, "append", (self.name, self.epoch, prev, prev_epoch, batch, self.epoch_history))
        if self.pending:
            self._commit()

    def _commit(self) -> None:
        positions = sorted(self.match.values(), reverse=True)
        k = self.sync_replicas
        if len(positions) < k:
            return
        committed = positions[k - 1]
        now = self.clock.now
        while self.pending and self.pending[0][0] <= committed:
            _, token = self.pending.popleft()
            self.on_commit(token, now)

    def on_stale(self, src: str, epoch: int) -> None:
        """Old leader: a follower refused our append because a newer epoch exists."""
        if self.up and self.role == LEADER and epoch > self.epoch:
            self._step_down(epoch, f"{src!r} refused epoch {self.epoch}: epoch {epoch} exists")

    def _step_down(self, epoch: int, why: str) -> None:
        self.follow(None)
        self.epoch = epoch
        self.on_event("fenced", why)

    def follow(self, leader: str | None) -> None:
        """Become a follower of ``leader`` (an operator's repointing; None: of nobody yet)."""
        self.role = FOLLOWER
        self.leader = leader
        self.followers = []
        self.match.clear()
        self._stream = None

    def become_leader(self, epoch: int, followers: list[str]) -> None:
        """Take over as leader of a new epoch (a promotion) and announce it."""
        self.role = LEADER
        self.leader = self.name
        self.epoch = epoch
        self.followers = list(followers)
        self.epoch_history = self.log.segments() + ((epoch, self.lsn + 1),)
        self.match.clear()
        self._asked = None
        self._stream = None
        self.heartbeat()

    # --- follower side --------------------------------------------------
    def on_append(
        self,
        src: str,
        epoch: int,
        prev_lsn: int,
        prev_epoch: int,
        entries: tuple[Entry, ...],
        history: tuple[tuple[int, int], ...],
    ) -> None:
        """Follower: take entries from the leader, in log order, and report the position."""
        log = self.log.entries
        if src == self._stream and epoch == self._synced_epoch and prev_lsn == len(log) and entries:
            # The common case: the next entries, in order, from the leader this node follows and
            # has reconciled with in this epoch (so the logs match up to prev_lsn).
            apply = self.store.apply
            for e in entries:
                log.append(e)
                apply(e)
            last = len(log)
            self._asked = None
            self.pos_t.append(self.clock.now)
            self.pos_lsn.append(last)
            self.send(src, "ack", (self.name, epoch, last, False))
            return
        if not self.up:
            return
        if epoch < self.epoch:
            self.send(src, "stale", (self.name, self.epoch))
            return
        if epoch == self.epoch and src != self.leader:
            return  # not the leader this node follows
        if epoch > self.epoch or self.role != FOLLOWER:
            if self.role == LEADER:
                self._step_down(epoch, f"{src!r} leads epoch {epoch}")
            self.role = FOLLOWER
            self.epoch = epoch
            self.leader = src
        if self._synced_epoch != epoch:
            self._reconcile(history, prev_lsn + len(entries))
            self._synced_epoch = epoch
        self._stream = src
        last = len(log)
        if prev_lsn > last:
            self._ask(src, epoch, last)
            return
        if prev_lsn and log[prev_lsn - 1].epoch != prev_epoch:
            self._reconcile(history, prev_lsn + len(entries))
            self._ask(src, epoch, len(log))
            return
        applied = False
        apply = self.store.apply
        for e in entries:
            n = len(log)
            if e.lsn <= n:
                if log[e.lsn - 1].epoch == e.epoch:
                    continue  # already have it
                self._rollback(e.lsn - 1)
            log.append(e)
            apply(e)
            applied = True
        last = len(log)
        if applied:
            self._asked = None
            self.pos_t.append(self.clock.now)
            self.pos_lsn.append(last)
            self.send(src, "ack", (self.name, epoch, last, False))
        elif not entries:  # heartbeat: report the position
            self.send(src, "ack", (self.name, epoch, last, False))

    def _ask(self, src: str, epoch: int, last: int) -> None:
        if self._asked != last:
            self._asked = last
            self.send(src, "ack", (self.name, epoch, last, True))

    def _reconcile(self, history: tuple[tuple[int, int], ...], leader_last: int) -> None:
        """Cut off entries the new leader's log does not have (they were never replicated)."""
        log = self.log.entries
        m = min(len(log), leader_last)
        while m and log[m - 1].epoch != epoch_at(history, m):
            m -= 1
        if m < len(log):
            self._rollback(m)

    def _rollback(self, lsn: int) -> None:
        dropped = self.log.truncate(lsn)
        self.store.rebuild(self.log.entries)
        self._record()
        self.on_event("rollback", f"discarded lsn {lsn + 1}..{lsn + len(dropped)} ({len(dropped)} entries)")
        self.rolled_back.extend(dropped)

    # --- faults ---------------------------------------------------------
    def crash(self) -> list[Any]:
        """Stop; lose volatile state. Returns the tokens of writes left unacknowledged."""
        self.up = False
        self.match.clear()
        lost = [token for _, token in self.pending]
        self.pending.clear()
        self._asked = None
        self._synced_epoch = 0
        self._stream = None
        return lost

    def recover(self) -> None:
        """Start again from durable state; a follower asks its leader to catch it up."""
        self.up = True
        if self.role == FOLLOWER and self.leader is not None:
            self._asked = self.lsn
            self.send(self.leader, "ack", (self.name, self.epoch, self.lsn, True))
        elif self.role == LEADER:
            self.heartbeat()
