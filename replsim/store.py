"""A node's data: what a client reads. Built only by applying log entries in order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .log import Entry


class KVStore:
    """A key-value table; each log entry sets one key."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}

    def apply(self, entry: Entry) -> None:
        """Apply one log entry."""
        self.data[entry.key] = entry.value

    def rebuild(self, entries: Iterable[Entry]) -> None:
        """Start empty and apply ``entries`` again (after a rollback cut the log)."""
        self.data = {}
        for e in entries:
            self.data[e.key] = e.value

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` if this node has not seen it."""
        return self.data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def snapshot(self) -> dict[Any, Any]:
        """A copy of the whole table."""
        return dict(self.data)
