"""The interface every store implements: apply changes, snapshot and restore, a digest to compare."""

from __future__ import annotations

from typing import Any, Protocol


class Store(Protocol):
    """A node's data. ``apply`` must either apply a change whole or raise and change nothing."""

    def apply(self, change: Any) -> None:
        """Apply one change from the log (raise to refuse it; the store is then unchanged)."""

    def size(self, change: Any) -> int:
        """How many bytes the change takes in the log and on the wire."""

    def verb(self, change: Any) -> str:
        """The SQL command the change is (``"INSERT"``, ``"UPDATE"``...), for a read-only refusal."""

    def read(self, query: Any) -> Any:
        """Answer a client's read (for the key-value store: the value of a key, or None)."""

    def snapshot(self) -> Any:
        """A copy of the whole state, that ``restore`` takes back."""

    def restore(self, snapshot: Any) -> None:
        """Replace the whole state by a snapshot."""

    def snapshot_size(self, snapshot: Any) -> int:
        """How many bytes shipping the snapshot takes."""

    def digest(self) -> str:
        """A short fingerprint of the state: equal stores have equal digests."""

    def fresh(self) -> Store:
        """A new, empty store of the same kind and settings (for a scratch copy or a new node)."""
