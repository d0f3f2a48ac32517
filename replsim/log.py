"""The replication log: numbered entries (LSN = position), each tagged with its leader's epoch.

The log may start after a *base*: the position of a snapshot. Entries up to the
base are gone (compacted, or never received because the node was cloned from a
snapshot), so ``after(lsn)`` below the base raises :class:`Compacted`, the way
PostgreSQL answers a standby whose WAL was removed. All position arithmetic lives
here; no other module indexes ``entries`` by LSN.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

from .errors import ReplsimError


class Compacted(ReplsimError):
    """The log no longer holds that position: it lies at or below the log's base."""


class Entry:
    """One change in the log: position, epoch, the leader's write time, the change, its bytes."""

    __slots__ = ("lsn", "epoch", "time", "change", "size")

    def __init__(self, lsn: int, epoch: int, time: float, change: Any, size: int = 0) -> None:
        self.lsn = lsn
        self.epoch = epoch
        self.time = time
        self.change = change
        self.size = size

    @property
    def key(self) -> Any:
        """The key a key-value change sets (``change[0]``)."""
        return self.change[0]

    @property
    def value(self) -> Any:
        """The value a key-value change sets (``change[1]``)."""
        return self.change[1]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return (self.lsn, self.epoch, self.change) == (other.lsn, other.epoch, other.change)

    def __hash__(self) -> int:
        return hash((self.lsn, self.epoch))

    def __repr__(self) -> str:
        return f"Entry(lsn={self.lsn}, epoch={self.epoch}, t={self.time:.6g}, {self.change!r})"


History = tuple[tuple[int, int], ...]
"""An epoch history: ``((epoch, first_lsn), ...)``, like PostgreSQL's timeline history file."""


def epoch_at(history: History, lsn: int) -> int:
    """The epoch of position ``lsn`` according to an epoch history (0 before the first)."""
    i = bisect_right(history, lsn, key=lambda seg: seg[1])
    return history[i - 1][0] if i else 0


def segment_start(history: History, lsn: int) -> int:
    """The first position of the history segment holding ``lsn`` (1 before the first)."""
    i = bisect_right(history, lsn, key=lambda seg: seg[1])
    return history[i - 1][1] if i else 1


class Log:
    """Entries ``base+1 .. last_lsn``, oldest first; a rollback cuts the tail, compaction the head.

    ``last_lsn`` and ``last_epoch`` are kept up to date by every change (they are
    read on every message, so they are attributes, not computed).
    """

    __slots__ = ("entries", "base", "base_epoch", "history", "last_lsn", "last_epoch")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.base = 0  # position of the snapshot the log starts after
        self.base_epoch = 0  # epoch of the entry at the base
        self.history: History = ()  # epoch history of every position up to last_lsn
        self.last_lsn = 0  # position of the newest entry (the base when there is none after it)
        self.last_epoch = 0  # epoch of the newest entry

    def __len__(self) -> int:
        """How many entries the log holds (after its base)."""
        return len(self.entries)

    def __getitem__(self, lsn: int) -> Entry:
        """The entry at position ``lsn``."""
        if not self.base < lsn <= self.last_lsn:
            if 0 < lsn <= self.base:
                raise Compacted(f"lsn {lsn} was compacted away: the log starts after lsn {self.base}")
            raise IndexError(f"no entry at lsn {lsn}: the log holds lsn {self.base + 1}..{self.last_lsn}")
        return self.entries[lsn - self.base - 1]

    def term(self, lsn: int) -> int:
        """The epoch of the entry at ``lsn`` (0 for position 0; the base's epoch at the base)."""
        if lsn == self.base:
            return self.base_epoch
        return self[lsn].epoch

    def holds(self, lsn: int, epoch: int) -> bool:
        """True if the node holds the entry at ``lsn`` written in ``epoch`` (in its log, or below its base
        in the snapshot it started from)."""
        if not 0 < lsn <= self.last_lsn:
            return False
        if lsn < self.base:  # in the snapshot the log starts from: its epoch history still says
            return epoch_at(self.history, lsn) == epoch
        return self.term(lsn) == epoch

    def after(self, lsn: int) -> tuple[Entry, ...]:
        """The entries after position ``lsn``, oldest first."""
        if lsn < self.base:
            raise Compacted(f"entries after lsn {lsn} are gone: the log starts after lsn {self.base}")
        return tuple(self.entries[lsn - self.base :])

    def add(self, entry: Entry) -> None:
        """Add the next entry (at ``last_lsn + 1``)."""
        self.entries.append(entry)
        self.last_lsn += 1
        if entry.epoch != self.last_epoch or not self.history:
            self.history = self.history + ((entry.epoch, entry.lsn),)
            self.last_epoch = entry.epoch

    def extend(self, entries: Iterable[Entry]) -> None:
        """Add the next entries, in order."""
        for e in entries:
            self.add(e)

    def truncate(self, lsn: int) -> list[Entry]:
        """Drop every entry after ``lsn`` and return them (oldest first)."""
        if lsn < self.base:
            raise Compacted(f"cannot cut the log back to lsn {lsn}: it starts after lsn {self.base}")
        i = lsn - self.base
        dropped = self.entries[i:]
        del self.entries[i:]
        self.history = tuple(seg for seg in self.history if seg[1] <= lsn)
        self.last_lsn = lsn
        self.last_epoch = self.entries[-1].epoch if self.entries else self.base_epoch
        return dropped

    def compact(self, upto: int) -> int:
        """Forget the entries up to ``upto`` (kept in a snapshot elsewhere); return how many went."""
        upto = min(upto, self.last_lsn)
        if upto <= self.base:
            return 0
        self.base_epoch = self.term(upto)
        n = upto - self.base
        del self.entries[:n]
        self.base = upto
        return n

    def reset(self, base: int, base_epoch: int, history: History) -> None:
        """Start again after a snapshot at ``base`` (a new follower, or one rebuilt from a fresh copy)."""
        del self.entries[:]
        self.base = self.last_lsn = base
        self.base_epoch = self.last_epoch = base_epoch
        self.history = tuple(seg for seg in history if seg[1] <= base)

    def segments(self) -> History:
        """The epoch history: ``((epoch, first_lsn), ...)``, like PostgreSQL's timeline history."""
        return self.history

    def __repr__(self) -> str:
        return f"Log(lsn {self.base + 1}..{self.last_lsn}, history={self.history})"
