"""The default store: a key-value table, where each change sets one key."""

from __future__ import annotations

import hashlib
from typing import Any

ENTRY_HEADER = 24
"""Bytes of log-record header per change (PostgreSQL's WAL record header is 24 bytes)."""


class KVStore:
    """A key-value table; a change is a ``(key, value)`` pair that sets the key."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}

    def apply(self, change: tuple[Any, Any]) -> None:
        """Set ``key = value``."""
        self.data[change[0]] = change[1]

    def size(self, change: tuple[Any, Any]) -> int:
        """Header plus the lengths of the key and the value as text."""
        return ENTRY_HEADER + len(str(change[0])) + len(str(change[1]))

    def verb(self, change: tuple[Any, Any]) -> str:
        """``UPDATE`` for a key this store holds, else ``INSERT``."""
        return "UPDATE" if change[0] in self.data else "INSERT"

    def read(self, key: Any) -> Any:
        """The value of ``key``, or None if this node has not seen it."""
        return self.data.get(key)

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` if this node has not seen it."""
        return self.data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def snapshot(self) -> dict[Any, Any]:
        """A copy of the whole table."""
        return dict(self.data)

    def restore(self, snapshot: dict[Any, Any]) -> None:
        """Replace the table by a copy of ``snapshot``."""
        self.data = dict(snapshot)

    def snapshot_size(self, snapshot: dict[Any, Any]) -> int:
        """The bytes of all its keys and values as text."""
        return sum(self.size(kv) for kv in snapshot.items())

    def digest(self) -> str:
        """SHA-1 of the sorted items' text (12 hex digits)."""
        text = "\n".join(sorted(f"{k!r}={v!r}" for k, v in self.data.items()))
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def fresh(self) -> KVStore:
        """A new, empty table."""
        return KVStore()

    def __repr__(self) -> str:
        return f"KVStore({len(self.data)} keys)"
