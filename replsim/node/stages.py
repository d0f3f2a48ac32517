"""Stages of a follower: it receives the leader's stream, flushes it to disk, then applies it.

By default a follower applies what it receives at once, and its one acknowledgement
(``ack``) says it has the entries. ``Node.set_stages(flush, apply)`` separates the
three steps, as a PostgreSQL standby does (``pg_stat_replication``'s write, flush and
replay positions): the follower confirms receipt at once and the flush once done, with
``confirm`` messages, and acknowledges each entry once applied; reads see only what it
has applied, so a busy follower's readers fall behind while its disk is up to date.

It confirms only the next entries of the stream it has already checked in this
epoch (the same rule as ``ack``); anything else waits its turn, unconfirmed, and is
checked when applied. It still answers every message at once, as a standby answers
keepalives: a ``confirm`` of what it has checked so far (0 when nothing), which tells
a leader checking its quorum that it is alive, however long applying takes. What
waits from an epoch it has since left (it voted in a later term) is refused at once,
as it would be once applied. Everything received is kept through a crash (a process crash:
the operating system has it) and applied before a promotion, as PostgreSQL replays all
the WAL it received before it is promoted.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..log import Entry, History

from .messages import HEADER


class Stages:
    """A follower's stages, part of :class:`~replsim.node.Node` (the leader's side: ``Node.on_confirm``)."""

    def _init_stages(self) -> None:
        self.flush_time = 0.0  # seconds from receiving a message to having it on disk
        self.apply_time = 0.0  # seconds to apply one entry (one at a time)
        self._inbox: deque[tuple] = deque()  # appends received, not yet applied
        self._tail: int | None = None  # last lsn received in this leader's stream (None: unknown)
        self._top = 0  # the highest lsn waiting in the inbox
        self._flush_due = self._apply_due = 0.0
        self._staged = False  # True once set_stages gave it a flush or apply time

    def set_stages(self, flush: float = 0.0, apply: float = 0.0) -> None:
        """Receive, flush, then apply: ``flush`` seconds from receiving a message to having it on disk,
        ``apply`` seconds to apply each entry (one at a time, so a busy follower falls behind).

        With both 0 (the default) a follower applies what it receives at once. Otherwise it
        confirms receipt at once and the flush when done (``confirm``), and acknowledges each
        entry (``ack``) once applied; reads see only what it has applied.
        """
        if self._inbox:
            self._drain()
        self.flush_time, self.apply_time = float(flush), float(apply)
        self._staged = bool(flush or apply)
        self._wire()

    @property
    def received_lsn(self) -> int:
        """Position of the newest entry this node has received from its leader (applied or not).

        Like PostgreSQL's ``pg_last_wal_receive_lsn()``: what a standby will hold once it has
        replayed everything, so what it would bring to a promotion.
        """
        if self._inbox and self._tail is not None:
            return max(self._tail, self.log.last_lsn)
        return self.log.last_lsn

    @property
    def applied_by(self) -> float:
        """The virtual time by which this follower will have applied all it has received (now, or
        earlier, when nothing waits)."""
        return self._apply_due if self._inbox else min(self._apply_due, self.sim.now)

    def holds_received(self, lsn: int, epoch: int) -> bool:
        """Does this node hold the entry (lsn, epoch) in its log, or has it received it and not yet
        applied it?"""
        if self.log.holds(lsn, epoch):
            return True
        return any(e.lsn == lsn and e.epoch == epoch for m in self._inbox for e in m[4])

    def _receive(
        self,
        src: str,
        epoch: int,
        prev_lsn: int,
        prev_epoch: int,
        entries: tuple[Entry, ...],
        history: History,
    ) -> None:
        """Follower with stages: take an append in, confirm it, and apply it later, in order."""
        if not self.up:
            self.host.dead_letter(self.name, "append", src)
            return
        inbox = self._inbox
        if inbox and inbox[0][1] < self.epoch:
            self._purge()
        tail = self._tail if inbox else self.log.last_lsn
        ours = src == self._stream and epoch == self.epoch  # the stream checked in this epoch
        if (not inbox and not entries) or epoch < self.epoch:
            self.on_append(src, epoch, prev_lsn, prev_epoch, entries, history)  # nothing to wait for
            return
        sim = self.sim
        now = sim.now
        due = self._flush_due
        if entries:
            due = max(due, now + self.flush_time)
            self._flush_due = due
        if ours and tail is not None and entries and prev_lsn == tail:
            # the next entries of a stream already checked: say so now, and once flushed
            last = entries[-1].lsn
            self._tail = last
            self.send(src, "confirm", (self.name, epoch, last, False), HEADER)
            sim.at(due, self._flushed, src, epoch, last)
        else:
            if not (ours and not entries):  # a heartbeat of our stream changes nothing we know
                self._tail = None  # known again once the inbox is empty
            # answer at once, however long applying takes, as a standby answers a keepalive: "alive, in
            # your epoch" (a leader's check-quorum counts it), with no position it has not checked
            checked = tail if ours and tail is not None else 0
            self.send(src, "confirm", (self.name, epoch, checked, False), HEADER)
        # only entries beyond those already held or waiting take time to apply (a resend repeats some)
        top = self._top if inbox else self.log.last_lsn
        fresh = len(entries) if not ours else sum(e.lsn > top for e in entries)
        if entries and entries[-1].lsn > top:
            self._top = entries[-1].lsn
        elif not inbox:
            self._top = top
        msg = (src, epoch, prev_lsn, prev_epoch, entries, history)
        inbox.append(msg)
        # at an absolute time: ``now + (done - now)`` can round below an earlier message's time
        self._apply_due = done = max(due, self._apply_due, now) + self.apply_time * fresh
        sim.at(done, self._apply_next, msg)

    def _purge(self) -> None:
        """This node has since taken on a later epoch (a vote): refuse what waits from earlier ones now,
        as it would once applied, and apply the rest sooner."""
        epoch, sim = self.epoch, self.sim
        waiting = list(self._inbox)
        keep = [m for m in waiting if m[1] >= epoch]
        for m in waiting:
            if m[1] < epoch:
                self.on_append(*m)  # "stale": a newer epoch exists
        self._inbox.clear()
        self._inbox.extend(keep)
        due = max(self._flush_due, sim.now)
        top = self.log.last_lsn
        for m in keep:  # each still applied in turn, by an event of its own
            entries = m[4]
            due += self.apply_time * sum(e.lsn > top for e in entries)
            if entries:
                top = max(top, entries[-1].lsn)
            sim.at(due, self._apply_next, m)
        self._apply_due, self._top, self._tail = due, top, None
        if keep:
            self._find_tail()

    def _flushed(self, src: str, epoch: int, lsn: int) -> None:
        if self.up and epoch == self.epoch and src == self.leader:
            self.send(src, "confirm", (self.name, epoch, lsn, True), HEADER)

    def _apply_next(self, msg: tuple) -> None:
        """Apply ``msg`` (its time has come), and anything received before it still waiting."""
        inbox = self._inbox
        if not inbox or (inbox[0] is not msg and not any(m is msg for m in inbox)):
            return  # applied already (a drain)
        while True:
            m = inbox.popleft()
            self.on_append(*m)
            if m is msg:
                break
        if self._tail is None and inbox and self.up:
            self._find_tail()

    def _find_tail(self) -> None:
        """After an unchecked message was applied: if all still waiting follows on, confirm it now."""
        tail = self.log.last_lsn
        stream, epoch = self._stream, self.epoch
        for src, e, prev_lsn, _, entries, _ in self._inbox:
            if src != stream or e != epoch or (entries and prev_lsn != tail):
                return  # still unknown
            if entries:
                tail = entries[-1].lsn
        if stream is not None and tail > self.log.last_lsn:
            self._tail = tail
            self.send(stream, "confirm", (self.name, epoch, tail, False), HEADER)
            self.sim.at(max(self._flush_due, self.sim.now), self._flushed, stream, epoch, tail)

    def _drain(self) -> None:
        """Apply everything received, now (before a crash, a promotion or a repointing)."""
        inbox = self._inbox
        while inbox:
            self.on_append(*inbox.popleft())
        self._flush_due = self._apply_due = self.sim.now
