"""Checks that find what went wrong in a history: lost writes, divergence between nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .history import OK, History, Op

if TYPE_CHECKING:
    from .node import Node

MISSING = "<missing>"


def lost_writes(history: History, leader: Node) -> list[Op]:
    """Writes a client was told succeeded that ``leader``'s log does not hold.

    A write is held if the leader's log has an entry at its LSN from the same
    epoch; anything else was lost in a failover (or discarded in a rollback).
    """
    entries = leader.log.entries
    lost = []
    for op in history.ops:
        if op.kind != "write" or op.outcome != OK or op.lsn is None:
            continue
        if op.lsn > len(entries) or entries[op.lsn - 1].epoch != op.epoch:
            lost.append(op)
    return lost


def divergence(nodes: dict[str, Node], names: list[str] | None = None) -> dict[Any, dict[str, Any]]:
    """Keys whose values differ between nodes: ``{key: {node: value or '<missing>'}}``, sorted by key."""
    names = list(nodes) if names is None else names
    stores = {n: nodes[n].store for n in names}
    keys: set = set()
    for s in stores.values():
        keys.update(s.data)
    out: dict[Any, dict[str, Any]] = {}
    for k in sorted(keys, key=repr):
        vals = {n: s.data.get(k, MISSING) for n, s in stores.items()}
        if len({repr(v) for v in vals.values()}) > 1:
            out[k] = vals
    return out
