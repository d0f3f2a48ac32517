"""Serving clients: writes at the leader (with idempotency keys), reads anywhere, and their answers.

A retry whose idempotency key the leader's log already holds is answered once that entry is
committed by the commit rule in force (``Node._committed``), never from the log alone: a crash,
a step-down or a repointing forgets which writes were waiting, while the log keeps them.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..errors import NodeDownError, ReadOnlyError, ReplsimError, StoreError
from ..log import Entry
from .messages import HEADER, Reply
from .roles import LEADER


class Serving:
    """A node's client side, part of :class:`~replsim.node.Node`."""

    def check_writable(self, change: Any) -> None:
        """Raise the error a client would get for a write here (down, or not the leader)."""
        if not self.up:
            raise NodeDownError(f"{self.name!r} is down (crashed); it cannot take writes")
        if self.role != LEADER:
            raise ReadOnlyError(
                f"cannot execute {self.store.verb(change)} in a read-only transaction: "
                f"{self.name!r} is a {self.role}"
                + (f" of {self.leader!r}" if self.leader else "")
                + "; send writes to the leader"
            )

    def client_write(self, change: Any, token: Any = None, client: str | None = None) -> Entry:
        """Apply a client's change and append it to the log (leader only); return its entry.

        With ``sync_replicas`` 0 the write is acknowledged at once; otherwise the
        host's ``committed(name, token)`` runs (or, for a ``client`` on the network,
        a reply is sent) when enough followers hold it.
        """
        if not self.up or self.role != LEADER:
            self.check_writable(change)
        store = self.store
        try:
            if self._execute is None:
                store.apply(change)
            else:
                change = self._execute(change)
        except ReplsimError:
            raise
        except Exception as exc:  # the store refused it (bad SQL, ...): the client gets its error
            raise StoreError(f"{self.name!r} refused the change: {type(exc).__name__}: {exc}") from None
        log = self.log
        prev, prev_epoch = log.last_lsn, log.last_epoch
        size = store.size(change)
        now = self.sim.now
        entry = Entry(prev + 1, self.epoch, now, change, size)
        log.add(entry)
        self._appended.append(entry)
        self._pos_t(now)
        self._pos_lsn(prev + 1)
        msg = (self.name, self.epoch, prev, prev_epoch, (entry,), self.epoch_history)
        self.broadcast(self.followers, "append", msg, HEADER + size)
        if self.commit is not None and self.commit.waits(self, prev + 1):
            self.pending.append((prev + 1, token, client))
        if self.keep_log is not None and len(log.entries) > 2 * self.keep_log + 64:
            self._compact()
        return entry

    def waiting(self, lsn: int) -> bool:
        """Does the write just logged at ``lsn`` wait for confirmations before it is acknowledged?"""
        pending = self.pending
        return bool(pending) and pending[-1][0] == lsn

    def read(self, query: Any) -> Any:
        """Answer a client's read from this node's data (stale or not)."""
        if not self.up:
            raise NodeDownError(f"{self.name!r} is down (crashed); it cannot answer reads")
        return self.store.read(query)

    def on_request(
        self, src: str, op: int, kind: str, key: Any, value: Any, after: int = 0, rid: Any = None
    ) -> None:
        """A client on the network: do its read or write and reply (a sync write: once committed).

        A read waits until this node holds position ``after`` (a client that wants to
        see its own write), then queues behind the reads before it (``read_time`` each).
        A write with an idempotency key ``rid`` that this leader's log already holds is
        answered with that entry, and not applied again.
        """
        if not self.up:
            self.host.dead_letter(self.name, "request", src)
            return
        if kind != "write":
            if self.log.last_lsn < after:
                self._waiting.append((after, src, op, key))
            else:
                self._serve_read(src, op, key)
            return
        try:
            if rid is not None:
                self.check_writable((key, value))  # only a leader answers, even for a write it holds
                done = self._find_request(rid)
                if done is not None:  # answered once committed by the policy in force, maybe now
                    self._retries.append((done, op, src))
                    self._answer_retries(self._committed())
                    return
            entry = self.client_write((key, value) if rid is None else (key, value, rid), op, src)
            if self.waiting(entry.lsn):
                return  # replied when enough followers hold it
            self.host.acknowledged(self.name, op, entry.lsn, entry.epoch)
            answer = Reply(self.name, op, "ok", value, entry.lsn, entry.epoch, None)
        except ReplsimError as exc:
            answer = Reply(self.name, op, "fail", None, None, None, str(exc))
        self.send(src, "reply", answer, HEADER)

    def _find_request(self, rid: Any) -> Entry | None:
        """The entry of the write with idempotency key ``rid``, if this node's log holds it."""
        log = self.log
        rids = self._rids
        upto = max(self._rids_upto, log.base)
        for e in log.entries[upto - log.base :]:  # index what was logged since the last look
            c = e.change
            if type(c) is tuple and len(c) > 2:
                rids[c[2]] = e
        self._rids_upto = log.last_lsn
        e = rids.get(rid)
        if e is not None and log.base < e.lsn <= log.last_lsn and log[e.lsn] is e:
            return e
        return None

    def _serve_read(self, src: str, op: int, key: Any) -> None:
        """Serve a read now, or after the reads already queued here (each takes ``read_time``)."""
        if not self.read_time:
            self._answer_read(src, op, key)
            return
        now = self.sim.now
        start = max(now, self._busy_until)
        self._busy_until = done = start + self.read_time
        self.track.busy.append((start, done))
        self.sim.schedule(done - now, self._answer_read, src, op, key)

    def _answer_read(self, src: str, op: int, key: Any) -> None:
        if self.up:  # a node that crashed meanwhile never answers
            try:
                value = self.store.read(key)
            except Exception as exc:  # the store refused the query (bad SQL): the client gets its error
                why = f"{self.name!r} refused the read: {type(exc).__name__}: {exc}"
                self.send(src, "reply", Reply(self.name, op, "fail", None, None, None, why), HEADER)
                return
            answer = Reply(self.name, op, "ok", value, self.log.last_lsn, self.epoch, None)
            self.send(src, "reply", answer, HEADER)

    def _release_reads(self) -> None:
        """Serve the waiting reads whose position this node now holds."""
        last = self.log.last_lsn
        ready = [w for w in self._waiting if w[0] <= last]
        if ready:
            self._waiting = [w for w in self._waiting if w[0] > last]
            for _, src, op, key in ready:
                self._serve_read(src, op, key)

    def _answer_retries(self, committed: int) -> None:
        """Tell each client whose retry found its write in the log, once that entry is committed."""
        waiting = []
        for e, op, src in self._retries:
            if e.lsn > committed:
                waiting.append((e, op, src))
                continue
            self.host.acknowledged(self.name, op, e.lsn, e.epoch)
            self.send(src, "reply", Reply(self.name, op, "ok", e.change[1], e.lsn, e.epoch, None), HEADER)
        self._retries = waiting

    def _settle(self, token: Any, client: str | None, lsn: int) -> None:
        if client is None:
            self.host.committed(self.name, token)
        else:
            self.host.acknowledged(self.name, token, lsn, self.epoch)
            self.send(client, "reply", Reply(self.name, token, "ok", None, lsn, self.epoch, None), HEADER)

    def _abort_pending(self, why: str) -> None:
        """Writes still waiting for acknowledgements: their outcome becomes unknown."""
        pending, self.pending = self.pending, deque()
        self._retries = []  # their clients learn nothing either: they time out
        for _, token, client in pending:
            if client is None:
                self.host.unknown(self.name, token, why)
            # a client on the network learns nothing: its own timeout makes the outcome unknown
