"""The record of one simulation. It only grows: what happened is written as it happens, never rewritten.

- every client operation (:class:`Op`): when the client invoked it and saw it
  complete, the node that answered, the position and epoch of the answer, and the
  outcome, which is settled once and never changes;
- every cluster event (:class:`Event`): crashes, partitions, promotions, rollbacks...;
- per node (:class:`NodeTrack`): each change of its log position, every entry it
  appended (entries are immutable and shared), each rollback and snapshot
  install, and each change of its role, epoch, leader or health.

Lag, availability, divergence and lost writes are computed from this record alone
(``replsim.history.measures``), so a question about the past has one answer.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..log import Entry, epoch_at
from ..log import History as EpochHistory
from .ops import FAIL, INFO, OK, PENDING, SETTLED, Op, RecordError

__all__ = [
    "has_held",
    "History",
    "NodeTrack",
    "Event",
    "State",
    "Op",
    "OK",
    "FAIL",
    "INFO",
    "PENDING",
    "SETTLED",
    "RecordError",
]


class Event(NamedTuple):
    """A cluster event: crash, recover, partition, cut, heal, promote, fenced, rollback, snapshot..."""

    time: float
    kind: str
    node: str | None
    detail: str


class State(NamedTuple):
    """A node's role and health from ``time`` on."""

    time: float
    role: str
    up: bool
    epoch: int
    leader: str | None
    broken: bool


class NodeTrack:
    """One node's recorded past: its positions, the entries it appended, rollbacks, snapshots, states."""

    __slots__ = ("t", "lsn", "appended", "jumps", "states", "busy", "_cache")

    def __init__(self, state: State) -> None:
        self.t = array("d", [0.0])  # time of each position change
        self.lsn = array("q", [0])  # last lsn held after it
        self.appended: list[Entry] = []  # every entry appended, in order (never cut)
        # position changes that were not appends: (index in t/lsn, base after, epoch history, snapshot)
        self.jumps: list[tuple[int, int, EpochHistory | None, Any]] = []
        self.states: list[State] = [state]
        self.busy: list[tuple[float, float]] = []  # (start, end) of each read it served from a queue
        self._cache: tuple | None = None

    def moved(self, now: float, lsn: int) -> None:
        """The node appended entries: it now holds up to ``lsn``."""
        self.t.append(now)
        self.lsn.append(lsn)

    def jumped(
        self, now: float, lsn: int, base: int, history: EpochHistory | None = None, snap: Any = None
    ) -> None:
        """The log was cut back to ``lsn`` (rollback) or reset to a snapshot at ``base`` (with its data)."""
        self.t.append(now)
        self.lsn.append(lsn)
        self.jumps.append((len(self.t) - 1, base, history, snap))

    def state(self, state: State) -> None:
        """Role, epoch, leader or health changed."""
        if state[1:] != self.states[-1][1:]:
            self.states.append(state)

    # --- queries ----------------------------------------------------------
    def _arrays(self) -> tuple:
        """(appended count per record, lsn / epoch / write time per appended entry, search keys or None)."""
        key = (len(self.t), len(self.appended))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        steps = np.diff(np.frombuffer(self.lsn, dtype=np.int64), prepend=0)
        for i, *_ in self.jumps:
            steps[i] = 0  # a rollback or a snapshot moved the position without appending
        a = self.appended
        a_lsn = np.fromiter((e.lsn for e in a), dtype=np.int64, count=len(a))
        a_epoch = np.fromiter((e.epoch for e in a), dtype=np.int64, count=len(a))
        a_time = np.fromiter((e.time for e in a), dtype=np.float64, count=len(a))
        keys = None  # without jumps, the entry appended i-th is at lsn i + 1
        if self.jumps:
            order = np.lexsort((np.arange(len(a)), a_lsn))  # by lsn, then by when appended
            keys = (a_lsn[order] * (len(a) + 1) + order, order)
        out = (np.cumsum(steps), a_lsn, a_epoch, a_time, keys)
        self._cache = (key, out)
        return out

    def index(self, times: Any) -> np.ndarray:
        """For each time, the index of the last position record at or before it."""
        t = np.frombuffer(self.t, dtype=np.float64)
        return np.clip(np.searchsorted(t, np.asarray(times, dtype=float), side="right") - 1, 0, None)

    def position(self, times: Any) -> np.ndarray:
        """Last lsn held at each of ``times``."""
        return np.frombuffer(self.lsn, dtype=np.int64)[self.index(times)]

    def base(self, times: Any) -> tuple[np.ndarray, list]:
        """The log's base at each time, and for each time the epoch history of that base (or None)."""
        idx = self.index(times)
        bases = np.zeros(len(idx), dtype=np.int64)
        hist: list = [None] * len(idx)
        for i, b, h, _ in self.jumps:  # few: rollbacks keep the base, snapshots set it
            if h is None:
                continue
            later = idx >= i
            bases[later] = b
            for k in np.nonzero(later)[0]:
                hist[k] = h
        return bases, hist

    def find(self, lsns: Any, times: Any) -> tuple[np.ndarray, np.ndarray]:
        """Where the entry at each ``lsns[k]`` in this node's log at ``times[k]`` is in ``appended``.

        Returns (found, index); not found: beyond the node's position then, or inside
        a snapshot it installed.
        """
        counts, a_lsn, _, _, keys = self._arrays()
        m = np.asarray(lsns, dtype=np.int64)
        idx = self.index(times)
        n = counts[idx]  # entries appended by then
        pos = np.frombuffer(self.lsn, dtype=np.int64)[idx]
        if len(a_lsn) == 0:
            return np.zeros(len(m), dtype=bool), np.zeros(len(m), dtype=np.int64)
        if keys is None:
            a = m - 1
            found = (m >= 1) & (a < n) & (m <= pos)
        else:  # the last entry appended at lsn m before the count n
            sorted_keys, order = keys
            at = np.searchsorted(sorted_keys, m * (len(a_lsn) + 1) + n, side="left") - 1
            a = order[np.clip(at, 0, None)]
            found = (at >= 0) & (a_lsn[a] == m) & (a < n) & (m >= 1) & (m <= pos) & (m > self.base(times)[0])
        return found, np.where(found, a, 0)

    def entries_at(self, lsns: Any, times: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entry at each ``lsns[k]`` in this node's log at ``times[k]``: (found, epoch, write time)."""
        _, _, a_epoch, a_time, _ = self._arrays()
        found, a = self.find(lsns, times)
        if not len(a_epoch):
            return found, np.zeros(len(a), dtype=np.int64), np.full(len(a), np.nan)
        return found, np.where(found, a_epoch[a], 0), np.where(found, a_time[a], np.nan)

    def holds(self, lsns: Any, epochs: Any, times: Any) -> np.ndarray:
        """Did this node's log hold the entry (lsn, epoch) at each time?"""
        m = np.asarray(lsns, dtype=np.int64)
        e = np.asarray(epochs, dtype=np.int64)
        found, epoch, _ = self.entries_at(m, times)
        out = found & (epoch == e)
        if self.jumps:  # entries inside an installed snapshot: known by the snapshot's epoch history
            bases, hist = self.base(times)
            pos = self.position(times)
            for k in np.nonzero((m <= bases) & (m >= 1) & (m <= pos))[0]:
                out[k] = epoch_at(hist[k], int(m[k])) == int(e[k])
        return out

    def state_at(self, time: float) -> State:
        """The node's role and health at ``time``."""
        s = self.states[0]
        for st in self.states:
            if st.time > time:
                break
            s = st
        return s


class History:
    """The record of one simulation, and the measures the lessons plot."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.events: list[Event] = []
        self.leaders: list[tuple[float, str]] = []  # (time, name) each time a leader is appointed
        self.tracks: dict[str, NodeTrack] = {}
        self.watchers: list[Callable[[Op], None]] = []  # called with each op as it settles
        # called with (op, lsn, epoch) the moment a node acknowledges a write (for a client on the
        # network: when its node sends the reply, not when the reply arrives)
        self.ack_watchers: list[Callable[[Op, int, int], None]] = []
        # (time, partition groups, one-way cuts) each time the network's faults change
        self.networks: list[tuple[float, list[list[str]], list[tuple[str, str]]]] = []

    # --- recording ------------------------------------------------------
    def track(self, name: str, state: State) -> NodeTrack:
        """Start recording a node."""
        tr = self.tracks[name] = NodeTrack(state)
        return tr

    def op(self, kind: str, node: str, key: Any, value: Any, now: float, client: str | None = None) -> Op:
        """Start recording a client operation (pending)."""
        op = Op(len(self.ops), kind, node, key, value, now, client=client)
        self.ops.append(op)
        return op

    def settle(self, op: Op, now: float, outcome: str, error: str | None = None) -> None:
        """Record how ``op`` ended. An outcome is settled once: settling it again is a bug."""
        if op.outcome != PENDING:
            raise RecordError(f"{op!r} was already settled; it cannot become {outcome!r}")
        if outcome not in SETTLED:
            raise RecordError(f"unknown outcome {outcome!r}")
        op.complete, op.outcome = now, outcome
        if error is not None:
            op.error = error
        for w in self.watchers:
            w(op)

    def acknowledged(self, op: Op, lsn: int, epoch: int) -> None:
        """A node acknowledges write ``op`` at position ``lsn`` of ``epoch``, now: tell the ack watchers."""
        for w in self.ack_watchers:
            w(op, lsn, epoch)

    def network(self, now: float, groups: list[list[str]], cuts: list[tuple[str, str]]) -> None:
        """The network's partition groups and cuts from ``now`` on."""
        self.networks.append((now, [list(g) for g in groups], list(cuts)))

    def network_at(self, t: float, names: list[str]) -> tuple[list[list[str]], list[tuple[str, str]]]:
        """Partition groups (of ``names``) and cuts in force at time ``t``."""
        groups: list[list[str]] = [list(names)]
        cuts: list[tuple[str, str]] = []
        for when, g, c in self.networks:
            if when > t:
                break
            groups, cuts = g, c
        members = set(names)
        groups = [[n for n in g if n in members] for g in groups]
        return [g for g in groups if g], cuts

    def event(self, now: float, kind: str, node: str | None = None, detail: str = "") -> Event:
        """Record a cluster event."""
        ev = Event(now, kind, node, detail)
        self.events.append(ev)
        if kind in ("start", "promote", "elected"):
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
        return self.tracks[node].position(times)

    def state_at(self, node: str, time: float) -> State:
        """Role, health, epoch and leader of ``node`` at ``time``."""
        return self.tracks[node].state_at(time)

    # measures, computed from the record (more in measures.py)
    def lag(self, node: str, times: Any) -> tuple[np.ndarray, np.ndarray]:
        """Lag of ``node`` behind the leader of the moment: (entries behind, seconds behind).

        Seconds behind = how long ago the leader wrote the oldest entry this node
        still lacks (0 when it holds everything), like PostgreSQL's replay lag.
        """
        times = np.asarray(times, dtype=float)
        appointed = np.array([when for when, _ in self.leaders], dtype=float)
        names = [name for _, name in self.leaders]
        which = np.clip(np.searchsorted(appointed, times, side="right") - 1, 0, None)
        mine = self.position(node, times)
        behind = np.zeros(len(times), dtype=np.int64)
        seconds = np.zeros(len(times), dtype=float)
        for ref in sorted(set(names) - {node}):
            mask = np.isin(which, [i for i, name in enumerate(names) if name == ref])
            if not mask.any():
                continue
            track = self.tracks[ref]
            at = times[mask]
            b = np.maximum(track.position(at) - mine[mask], 0)
            behind[mask] = b
            found, _, written = track.entries_at(mine[mask] + 1, at)
            seconds[mask] = np.where((b > 0) & found, np.maximum(at - np.nan_to_num(written), 0.0), 0.0)
        return behind, seconds

    def write_availability(self, bin_seconds: float = 1.0, until: float | None = None) -> tuple:
        """Per time bin: (bin starts, share of the writes attempted in the bin that were acknowledged).

        A write refused, still waiting for confirmations, or whose outcome is unknown was not
        acknowledged: its client never heard "done". A bin with no write attempts has NaN.
        """
        writes = self.writes()
        end = until if until is not None else max((o.invoke for o in writes), default=0.0)
        nbins = max(int(np.ceil(end / bin_seconds)), 1)
        tried = np.zeros(nbins)
        accepted = np.zeros(nbins)
        for o in writes:
            b = min(int(o.invoke // bin_seconds), nbins - 1)
            tried[b] += 1
            accepted[b] += o.outcome == OK
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(tried > 0, accepted / np.maximum(tried, 1), np.nan)
        return np.arange(nbins) * bin_seconds, share


def has_held(track: Any, entry: Any) -> bool:
    """Did this node ever append this exact entry (the same object the leader wrote)?"""
    appended = track.appended
    i = entry.lsn - 1
    if not track.jumps:  # without rollbacks or snapshots, the i-th entry appended is at lsn i + 1
        return i < len(appended) and appended[i] is entry
    return any(e is entry for e in reversed(appended))
