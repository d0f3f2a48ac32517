"""Leading: heartbeats, counting acknowledgements towards commits, resending, snapshots, stepping down."""

from __future__ import annotations

from .messages import HEADER, NoLog, Snapshot
from .roles import FOLLOWER, LEADER


class Leading:
    """A node's leader side (and becoming or ceasing to be a leader), part of :class:`~replsim.node.Node`."""

    def _heartbeat_tick(self) -> None:
        if self.role == LEADER and self.up:
            self.heartbeat()
            self.heartbeat_timer.set(self.heartbeat_interval)

    def heartbeat(self) -> None:
        """Leader: tell every follower the current position (an empty append)."""
        if self.role != LEADER or not self.up:
            return
        log = self.log
        msg = (self.name, self.epoch, log.last_lsn, log.last_epoch, (), self.epoch_history)
        self.broadcast(self.followers, "append", msg, HEADER)

    def on_ack(self, src: str, epoch: int, lsn: int, ok: bool) -> None:
        """Leader: a follower reports the position it holds, or asks for what follows a position."""
        if ok and epoch == self.epoch and self.role is LEADER and self.up:  # the common case
            self.match[src] = lsn
            if self.pending or self._retries:
                self._commit()
            return
        if not self.up:
            self.host.dead_letter(self.name, "ack", src)
            return
        if self.role != LEADER:
            return
        if epoch > self.epoch:
            if self.fencing:
                self._step_down(epoch, f"{src!r} reports epoch {epoch}")
            return
        if ok:
            return  # a position checked against an older epoch's leader: it says nothing about our log
        if src not in self.followers:  # a node that still points here asks for the stream: serve it
            self.followers.append(src)
        self._resend(src, lsn)

    def on_confirm(self, src: str, epoch: int, lsn: int, flushed: bool) -> None:
        """Leader: a follower with stages has received (``flushed``: and flushed) the stream up to ``lsn``."""
        if not self.up:
            self.host.dead_letter(self.name, "confirm", src)
            return
        if epoch != self.epoch or self.role != LEADER:
            return  # about another epoch's stream: says nothing about ours
        received, done = self.progress.get(src, (0, 0))
        self.progress[src] = (max(received, lsn), max(done, lsn) if flushed else done)
        if self.pending or self._retries:
            self._commit()

    def _resend(self, dst: str, lsn: int) -> None:
        log = self.log
        prev = min(lsn, log.last_lsn)
        if prev < log.base:
            self.send(dst, "nolog", NoLog(self.name, self.epoch, log.base), HEADER)
            return
        batch = log.after(prev)
        size = HEADER + sum(e.size for e in batch)
        self.send(
            dst, "append", (self.name, self.epoch, prev, log.term(prev), batch, self.epoch_history), size
        )

    def _committed(self) -> int:
        """The newest position committed under the commit rule in force (leader only).

        With elections (Raft), an entry of an earlier term counts as committed only once an
        entry of this term at or after it is (Ongaro and Ousterhout, section 5.4.2).
        """
        committed = self.commit.position(self) if self.commit is not None else self.log.last_lsn
        if self.elector is not None and committed and self.log.term(committed) != self.epoch:
            return 0
        return committed

    @property
    def unconfirmed(self) -> int:
        """How many writes this leader holds back until enough replicas confirm them."""
        return len(self.pending)

    def _commit(self) -> None:
        """Acknowledge the waiting writes (and retries) that are now committed."""
        committed = self._committed()
        pending = self.pending
        while pending and pending[0][0] <= committed:
            lsn, token, client = pending.popleft()
            self._settle(token, client, lsn)
        if self._retries:
            self._answer_retries(committed)

    def send_snapshot(self, dst: str) -> None:
        """Leader: send ``dst`` a copy of the whole store and the position it is at (``pg_basebackup``)."""
        snap = self.store.snapshot()
        log = self.log
        msg = Snapshot(self.name, self.epoch, log.last_lsn, log.last_epoch, self.epoch_history, snap)
        self.send(dst, "snapshot", msg, HEADER + self.store.snapshot_size(snap))
        if dst not in self.followers:
            self.followers.append(dst)

    def _compact(self) -> None:
        """Leader: forget entries no follower should still need (``wal_keep_size``; slots hold it back)."""
        log = self.log
        upto = log.last_lsn - self.keep_log
        if self.slots is not None:
            self._save_slots()
            upto = min([upto, *(self.slots.get(f, 0) for f in self.followers)])
        if upto <= log.base:
            return
        scratch = self.store.fresh()  # the store as of ``upto``: base snapshot + entries up to it
        scratch.restore(self.base_snapshot)
        for e in log.entries[: upto - log.base]:
            scratch.apply(e.change)
        self.base_snapshot = scratch.snapshot()
        log.compact(upto)

    def _save_slots(self) -> None:
        """Replication slots: the positions followers confirmed, kept across crashes (``match`` is not)."""
        if self.slots is not None:
            for f, lsn in self.match.items():
                self.slots[f] = max(self.slots.get(f, 0), lsn)

    def on_stale(self, src: str, epoch: int) -> None:
        """Old leader: a follower refused our append because a newer epoch exists."""
        if not self.up:
            self.host.dead_letter(self.name, "stale", src)
        elif self.role == LEADER and epoch > self.epoch and self.fencing:
            self._step_down(epoch, f"{src!r} refused epoch {self.epoch}: epoch {epoch} exists")

    def _step_down(self, epoch: int, why: str) -> None:
        self._abort_pending(f"{self.name!r} was deposed before enough replicas confirmed: outcome unknown")
        self._become_follower(None)
        self.epoch = epoch
        self._changed()
        self._event("fenced", why)

    def _become_follower(self, leader: str | None) -> None:
        self.role = FOLLOWER
        self.leader = leader
        self.followers = []
        self.match.clear()
        self.progress.clear()
        self._stream = None
        self._asked = None
        self.heartbeat_timer.cancel()

    def follow(self, leader: str | None, epoch: int | None = None) -> None:
        """Become a follower of ``leader`` (an operator's repointing; None: of nobody yet).

        ``epoch``: the leader's epoch, which the node takes on (a standby told the new timeline),
        so that a message still on its way from a leader deposed before cannot take it back.
        """
        if self._inbox:
            self._drain()
        self._abort_pending(
            f"{self.name!r} stopped leading before enough replicas confirmed: outcome unknown"
        )
        self._become_follower(leader)
        if epoch is not None and epoch > self.epoch:
            self.epoch = epoch
        self.needs_rebuild = None
        self._changed()

    def become_leader(self, epoch: int, followers: list[str]) -> None:
        """Take over as leader of a new epoch (a promotion) and announce it."""
        if self._inbox:
            self._drain()  # like a standby replaying all the WAL it received before it is promoted
        self.role = LEADER
        self.leader = self.name
        self.epoch = epoch
        self.followers = list(followers)
        self.epoch_history = self.log.segments() + ((epoch, self.lsn + 1),)
        self.match.clear()
        self.progress.clear()
        self.pending.clear()
        self._retries = []
        self._asked = None
        self._stream = None
        self.needs_rebuild = None
        self._changed()
        self.heartbeat()
        if self.heartbeat_interval:
            self.heartbeat_timer.set(self.heartbeat_interval)
