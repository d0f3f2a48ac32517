"""Read anomalies found in the clients' own histories, each with the operations that show it.

A replica holds a prefix of the leader's log, so a read of key ``k`` that returned the
value of write ``w`` saw the log up to some position between ``w``'s position and the
position before the next write to ``k``. From the operations alone (the clients' reads
and writes, with the positions the leader gave the writes) four anomalies can be told:

- **stale read**: the read returned an older value of ``k`` than one whose write had
  already been acknowledged (to anyone) before the read began;
- **read-your-writes violation**: the same, where the client itself made that write;
- **monotonic-reads violation**: a client read ``k``, then read ``k`` again and got an
  older value (time went backwards for it);
- **consistent-prefix violation**: a client saw a write (the answer), then read
  another key and found it missing a write the log holds *before* that one (the
  question): it saw an effect before its cause.

"Before" between two operations of a client means the first completed before the
second began. Writes must have distinct values per key (as the course's workloads do),
so that a value read names its write; a read of a value whose write has no known
position (its outcome was unknown) is left out. The order of writes is their log
position: meant for histories without a failover, after which positions are reused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from ..errors import ReplsimError
from .record import OK, Op

STALE = "stale read"
RYW = "read-your-writes violation"
MONOTONIC = "monotonic-reads violation"
PREFIX = "consistent-prefix violation"
KINDS = (STALE, RYW, MONOTONIC, PREFIX)
"""The anomalies, in the order they are reported."""


class AnomalyInputError(ReplsimError, ValueError):
    """Operations the checkers cannot judge (two writes of one value to one key, ...)."""


class Anomaly(NamedTuple):
    """One anomaly: its kind, the client that saw it, and the operations that show it (oldest first)."""

    kind: str
    client: str | None
    ops: tuple[Op, ...]
    detail: str
    stale_by: float = 0.0  # a stale read: how long before it began the first write it missed was acknowledged

    def __str__(self) -> str:
        return f"{self.kind} ({self.client}): {self.detail}"


class _Versions:
    """Per key: the writes with a known position, in log order; what a read's value says about it."""

    def __init__(self, ops: list[Op]) -> None:
        self.writes: dict[Any, list[Op]] = defaultdict(list)
        self.by_value: dict[tuple[Any, Any], Op] = {}
        for o in ops:
            if o.kind == "write" and o.lsn is not None and o.outcome == OK:
                key = (o.key, _hashable(o.value))
                if key in self.by_value:
                    raise AnomalyInputError(
                        f"two writes of {o.value!r} to {o.key!r} (op {self.by_value[key].id} and op {o.id}): "
                        "the checkers need distinct values per key to tell which write a read saw"
                    )
                self.by_value[key] = o
                self.writes[o.key].append(o)
        for ws in self.writes.values():
            ws.sort(key=lambda w: (w.lsn, w.epoch or 0))

    def seen(self, read: Op) -> tuple[Op | None, int, int, Op | None] | None:
        """(the write it saw or None, lowest and highest log position it saw, the next write it missed).

        None if the value read names no write with a known position.
        """
        if read.value is None:
            w, low = None, 0
        else:
            w = self.by_value.get((read.key, _hashable(read.value)))
            if w is None:
                return None
            low = w.lsn
        nxt = next((x for x in self.writes.get(read.key, ()) if x.lsn > low), None)
        high = nxt.lsn - 1 if nxt is not None else float("inf")
        return w, low, high, nxt  # type: ignore[return-value]


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _reads(ops: list[Op]) -> list[Op]:
    return [o for o in ops if o.kind == "read" and o.outcome == OK and o.complete is not None]


def _t(x: float) -> str:
    return f"{x:.3f} s"


def _name(w: Op | None, key: Any) -> str:
    return f"{key}={w.value!r} (lsn {w.lsn})" if w is not None else f"{key} empty"


def stale_reads(ops: Iterable[Op]) -> list[Anomaly]:
    """Reads that returned an older value than one acknowledged before they began (and, among them,
    read-your-writes violations when the reader made that write)."""
    ops = list(ops)
    versions = _Versions(ops)
    out = []
    for r in _reads(ops):
        seen = versions.seen(r)
        if seen is None:
            continue
        _, low, _, _ = seen
        newer = [
            w
            for w in versions.writes.get(r.key, ())
            if w.lsn > low and w.complete is not None and w.complete < r.invoke
        ]
        if not newer:
            continue
        first = min(newer, key=lambda w: (w.complete, w.lsn))
        newest = max(newer, key=lambda w: w.lsn)
        out.append(
            Anomaly(
                STALE,
                r.client,
                (first, r),
                f"read {_name(seen[0], r.key)} at {_t(r.invoke)}, but {r.key}={newest.value!r} "
                f"(lsn {newest.lsn}) was acknowledged by then; stale by {r.invoke - first.complete:.3f} s",
                r.invoke - first.complete,
            )
        )
        mine = [w for w in newer if w.client is not None and w.client == r.client]
        if mine:
            w = max(mine, key=lambda w: w.lsn)
            out.append(
                Anomaly(
                    RYW,
                    r.client,
                    (w, r),
                    f"wrote {r.key}={w.value!r} (acknowledged at {_t(w.complete)}), "
                    f"then read {_name(seen[0], r.key)} at {_t(r.invoke)}",
                )
            )
    return out


def session_anomalies(ops: Iterable[Op]) -> list[Anomaly]:
    """Per client: monotonic-reads and consistent-prefix violations (a later read saw an older state)."""
    ops = list(ops)
    versions = _Versions(ops)
    by_client: dict[Any, list[Op]] = defaultdict(list)
    for r in _reads(ops):
        if r.client is not None:
            by_client[r.client].append(r)
    out = []
    for client in sorted(by_client, key=str):
        reads = sorted(by_client[client], key=lambda o: (o.invoke, o.id))
        done = sorted(reads, key=lambda o: (o.complete, o.id))
        best_key: dict[Any, tuple[int, Op, Op | None]] = {}  # key -> (lowest position seen, read, write)
        best_all: tuple[int, Op, Op | None] | None = None  # the newest state seen, over every key
        i = 0
        for r in reads:
            while i < len(done) and done[i].complete < r.invoke:  # reads that finished before r began
                prior = done[i]
                i += 1
                s = versions.seen(prior)
                if s is None:
                    continue
                mark = (s[1], prior, s[0])
                if prior.key not in best_key or mark[0] > best_key[prior.key][0]:
                    best_key[prior.key] = mark
                if best_all is None or mark[0] > best_all[0]:
                    best_all = mark
            s = versions.seen(r)
            if s is None:
                continue
            w, low, high, missed = s
            same = best_key.get(r.key)
            if same is not None and same[0] > low:
                out.append(
                    Anomaly(
                        MONOTONIC,
                        client,
                        (same[1], r),
                        f"read {_name(same[2], r.key)} at {_t(same[1].invoke)}, "
                        f"then the older {_name(w, r.key)} at {_t(r.invoke)}",
                    )
                )
            elif best_all is not None and high < best_all[0]:
                _, earlier, cause_seen = best_all
                out.append(
                    Anomaly(
                        PREFIX,
                        client,
                        (earlier, r),
                        f"saw {_name(cause_seen, earlier.key)} at {_t(earlier.invoke)}, then at "
                        f"{_t(r.invoke)} found {_name(w, r.key)}: it lacked {r.key}={missed.value!r} "
                        f"(lsn {missed.lsn}), written before what it had seen",
                    )
                )
    return out


def find_anomalies(ops: Iterable[Op]) -> list[Anomaly]:
    """Every anomaly in ``ops`` (a History's ``ops``, or a client's), by kind then time."""
    ops = list(ops)
    found = stale_reads(ops) + session_anomalies(ops)
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(found, key=lambda a: (order[a.kind], a.ops[-1].invoke, a.ops[-1].id))


def count(anomalies: Iterable[Anomaly]) -> dict[str, int]:
    """How many of each kind (every kind listed, zeros included)."""
    out = dict.fromkeys(KINDS, 0)
    for a in anomalies:
        out[a.kind] += 1
    return out


__all__ = [
    "Anomaly",
    "AnomalyInputError",
    "find_anomalies",
    "stale_reads",
    "session_anomalies",
    "count",
    "KINDS",
    "STALE",
    "RYW",
    "MONOTONIC",
    "PREFIX",
]
