"""Measures computed from the record alone: utilisation, lost writes, past data.

(Lag and write availability are the record's own methods: ``History.lag``, ``History.write_availability``.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ops import OK, Op
from .record import History


def utilisation(history: History, node: str, bin_seconds: float = 1.0, until: float = 0.0) -> tuple:
    """Per time bin: (bin starts, share of the bin ``node`` spent serving reads from its queue)."""
    busy = history.tracks[node].busy
    end = max([until, *(b for _, b in busy)])
    nbins = max(int(np.ceil(end / bin_seconds)), 1)
    starts = np.arange(nbins) * bin_seconds
    used = np.zeros(nbins)
    for a, b in busy:  # spread each busy interval over the bins it overlaps
        lo, hi = int(a // bin_seconds), min(int(b // bin_seconds), nbins - 1)
        for k in range(lo, hi + 1):
            used[k] += max(0.0, min(b, starts[k] + bin_seconds) - max(a, starts[k]))
    return starts, used / bin_seconds


def lost_writes(history: History, at: float, leader: str | None = None) -> list[Op]:
    """Writes acknowledged by time ``at`` that the leader of that moment did not hold then.

    A write is held if the leader's log had the entry at its LSN from the same
    epoch; anything else was lost in a failover (or discarded in a rollback).
    """
    leader = history.leader_at(at) if leader is None else leader
    acked = [
        o
        for o in history.ops
        if o.kind == "write"
        and o.outcome == OK
        and o.lsn is not None
        and o.complete is not None
        and o.complete <= at
    ]
    if not acked:
        return []
    held = history.tracks[leader].holds(
        [o.lsn for o in acked], [o.epoch for o in acked], np.full(len(acked), float(at))
    )
    return [o for o, h in zip(acked, held) if not h]


def values_at(history: History, node: str, at: float) -> dict[Any, Any]:
    """The key-value data ``node`` held at time ``at``, rebuilt from its record (key-value stores only)."""
    track = history.tracks[node]
    pos = int(track.position([at])[0])
    bases, _ = track.base([at])
    base = int(bases[0])
    data: dict[Any, Any] = {}
    i_at = int(track.index([at])[0])
    for i, _, h, snap in track.jumps:  # the newest snapshot installed by then
        if i <= i_at and h is not None:
            data = dict(snap or {})
    lsns = np.arange(base + 1, pos + 1)
    found, index = track.find(lsns, np.full(len(lsns), float(at)))
    for ok, k in zip(found, index):
        if ok:
            change = track.appended[k].change  # (key, value), or (key, value, request id)
            data[change[0]] = change[1]
    return data
