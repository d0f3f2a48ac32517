"""What happened: every client operation and cluster event, and measures derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .node import Node

OK, FAIL, INFO, PENDING = "ok", "fail", "info", "pending"


@dataclass(slots=True)
class Op:
    """One client operation: a read or a write, when it started and ended, and how.

    ``outcome`` is ``"ok"``, ``"fail"`` (refused; it had no effect), ``"pending"``
    (waiting for replica acknowledgements) or ``"info"`` (unknown: the node crashed
    before answering, like Jepsen's indeterminate operations).
    """

    id: int
    kind: str
    node: str
    key: Any
    value: Any
    invoke: float
    complete: float | None = None
    outcome: str = PENDING
    lsn: int | None = None
    epoch: int | None = None
    error: str | None = None

    def __repr__(self) -> str:
        end = "…" if self.complete is None else f"{self.complete:.6g}"
        where = f" lsn={self.lsn}" if self.lsn is not None else ""
        return (
            f"Op#{self.id}({self.kind} {self.key!r}={self.value!r} at {self.node!r}, "
            f"t={self.invoke:.6g}..{end}, {self.outcome}{where})"
        )


class Event(NamedTuple):
    """A cluster event: crash, recover, partition, cut, heal, promote, fenced, rollback."""

    time: float
    kind: str
    node: str | None
    detail: str


class History:
    """The record of one simulation, and the measures the lessons plot."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self.nodes = nodes
        self.ops: list[Op] = []
        self.events: list[Event] = []
        self.leaders: list[tuple[float, str]] = []  # (time, name) each time a leader is appointed

    # --- recording ------------------------------------------------------
    def op(self, kind: str, node: str, key: Any, value: Any, now: float) -> Op:
        """Start recording a client operation."""
        op = Op(len(self.ops), kind, node, key, value, now)
        self.ops.append(op)
        return op

    def event(self, now: float, kind: str, node: str | None = None, detail: str = "") -> Event:
        """Record a cluster event."""
        ev = Event(now, kind, node, detail)
        self.events.append(ev)
        if kind in ("start", "promote"):
            self.leaders.append((now, node))  # type: ignore[arg-type]
        return ev

    # --- queries --------------------------------------------------------
    def writes(self, outcome: str | None = None) -> list[Op]:
        """Write operations, optionally only those with one outcome."""
        return [o for o in self.ops if o.kind == "write" and (outcome is None or o.outcome == outcome)]

    def reads(self) -> list[Op]:
        """Read operations."""
        return [o for o in self.ops if o.kind == "read"]

    def leader_at(self, t: float) -> str:
        """The node appointed leader most recently at time ``t``."""
        name = self.leaders[0][1]
        for when, who in self.leaders:
            if when > t:
                break
            name = who
        return name

    def position(self, node: str, times: Any) -> np.ndarray:
        """Log position (last LSN held) of ``node`` at each of ``times``."""
        n = self.nodes[node]
        t = np.frombuffer(n.pos_t, dtype=np.float64)
        lsn = np.frombuffer(n.pos_lsn, dtype=np.int64)
        idx = np.searchsorted(t, np.asarray(times, dtype=float), side="right") - 1
        return lsn[np.clip(idx, 0, None)]

    def lag(self, node: str, times: Any) -> tuple[np.ndarray, np.ndarray]:
        """Lag of ``node`` behind the leader of the moment: (entries behind, seconds behind).

        Seconds behind = how long ago the leader wrote the oldest entry this node
        still lacks (0 when it holds everything), like PostgreSQL's replay lag.
        """
        times = np.asarray(times, dtype=float)
        appointed = np.array([when for when, _ in self.leaders], dtype=float)
        which = np.clip(np.searchsorted(appointed, times, side="right") - 1, 0, None)
        mine = self.position(node, times)
        behind = np.zeros(len(times), dtype=np.int64)
        seconds = np.zeros(len(times), dtype=float)
        for ref in sorted({name for _, name in self.leaders} - {node}):
            mask = np.isin(which, [i for i, (_, name) in enumerate(self.leaders) if name == ref])
            if not mask.any():
                continue
            b = np.maximum(self.position(ref, times[mask]) - mine[mask], 0)
            behind[mask] = b
            entries = self.nodes[ref].log.entries
            m = mine[mask]
            need = (b > 0) & (m < len(entries))
            first, where = np.unique(m[need], return_inverse=True)
            written = np.array([entries[int(k)].time for k in first], dtype=float)
            sec = np.zeros(len(b))
            sec[need] = np.maximum(times[mask][need] - written[where], 0.0)
            seconds[mask] = sec
        return behind, seconds

    def write_availability(self, bin_seconds: float = 1.0, until: float | None = None) -> tuple:
        """Per time bin: (bin starts, share of writes attempted in the bin that were accepted).

        A bin with no write attempts has NaN.
        """
        writes = self.writes()
        end = until if until is not None else max((o.invoke for o in writes), default=0.0)
        nbins = max(int(np.ceil(end / bin_seconds)), 1)
        tried = np.zeros(nbins)
        accepted = np.zeros(nbins)
        for o in writes:
            b = min(int(o.invoke // bin_seconds), nbins - 1)
            tried[b] += 1
            accepted[b] += o.outcome != FAIL
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(tried > 0, accepted / np.maximum(tried, 1), np.nan)
        return np.arange(nbins) * bin_seconds, share
