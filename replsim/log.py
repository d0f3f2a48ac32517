"""The replication log: numbered entries (LSN = position, starting at 1), each tagged with its epoch."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any


class Entry:
    """One change in the log: position, epoch of the leader that wrote it, commit time, key, value."""

    __slots__ = ("lsn", "epoch", "time", "key", "value")

    def __init__(self, lsn: int, epoch: int, time: float, key: Any, value: Any) -> None:
        self.lsn = lsn
        self.epoch = epoch
        self.time = time
        self.key = key
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return (self.lsn, self.epoch, self.key, self.value) == (
            other.lsn,
            other.epoch,
            other.key,
            other.value,
        )

    def __hash__(self) -> int:
        return hash((self.lsn, self.epoch))

    def __repr__(self) -> str:
        return f"Entry(lsn={self.lsn}, epoch={self.epoch}, t={self.time:.6g}, {self.key!r}={self.value!r})"


class Log:
    """An append-only list of entries; only a rollback (after a failover) cuts its tail."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    @property
    def last_lsn(self) -> int:
        """Position of the newest entry (0 when empty)."""
        return len(self.entries)

    @property
    def last_epoch(self) -> int:
        """Epoch of the newest entry (0 when empty)."""
        return self.entries[-1].epoch if self.entries else 0

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, lsn: int) -> Entry:
        """The entry at position ``lsn`` (1-based, like a WAL position)."""
        if not 1 <= lsn <= len(self.entries):
            raise IndexError(f"no entry at lsn {lsn}: the log holds lsn 1..{len(self.entries)}")
        return self.entries[lsn - 1]

    def after(self, lsn: int) -> tuple[Entry, ...]:
        """The entries after position ``lsn``, oldest first."""
        return tuple(self.entries[lsn:])

    def truncate(self, lsn: int) -> list[Entry]:
        """Drop every entry after ``lsn`` and return them (oldest first)."""
        dropped = self.entries[lsn:]
        del self.entries[lsn:]
        return dropped

    def segments(self) -> tuple[tuple[int, int], ...]:
        """The epoch history: ``((epoch, first_lsn), ...)``, like PostgreSQL's timeline history."""
        out: list[tuple[int, int]] = []
        last = None
        for e in self.entries:
            if e.epoch != last:
                out.append((e.epoch, e.lsn))
                last = e.epoch
        return tuple(out)


def epoch_at(history: tuple[tuple[int, int], ...], lsn: int) -> int:
    """The epoch of position ``lsn`` according to an epoch history (0 before the first)."""
    i = bisect_right(history, lsn, key=lambda seg: seg[1])
    return history[i - 1][0] if i else 0
