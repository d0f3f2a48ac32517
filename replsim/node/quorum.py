"""Quorums: the one place that says how many is a majority, and which position k confirmations reach."""

from __future__ import annotations

from collections.abc import Iterable


def majority(nodes: int) -> int:
    """How many of ``nodes`` make a majority (the leader included): more than half."""
    return nodes // 2 + 1


def kth_highest(positions: Iterable[int], k: int) -> int:
    """The newest position that at least ``k`` of ``positions`` have reached (0 if fewer than ``k``).

    A write at or below it is held by ``k`` of them: the commit point of "wait for k confirmations".
    """
    at = sorted(positions, reverse=True)
    return at[k - 1] if 0 < k <= len(at) else 0


__all__ = ["majority", "kth_highest"]
