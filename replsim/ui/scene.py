"""The live view's data: what the browser draws, built from the record alone (nothing is re-run).

Two kinds of data, both plain JSON:

* :func:`layout`: where things are (nodes, clients, lesson 4's cities), sent when it changes;
* :class:`Recorder`: what happened, sent a little at a time: :meth:`Recorder.delta` returns only
  what is new since its last call (states, log positions, the epochs of log entries, messages,
  client operations, network faults), so one click sends a few kilobytes, never the whole past.

The browser keeps every delta and draws any moment from them: messages moving along their
link between sending and arrival, each node's log, the clients. :func:`frame` is the same
picture computed in Python for one moment (what is in flight and where, each log with its
marks): the tests compare it with hand-worked values, and the browser test compares the
browser's drawing with it.

Times are sent in microseconds (whole numbers: short, and exact to compare).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..engine.journal import CRASHED, CUT, DELIVERED, IN_FLIGHT, LOST, PARTITIONED

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..engine.journal import Message

US = 1_000_000  # times are sent in microseconds

KINDS = (
    "append",
    "heartbeat",
    "ack",
    "vote request",
    "vote",
    "client request",
    "client response",
    "snapshot",
    "refusal",
    "ping",
    "other",
)
"""What the view calls each message, by the journal's kind (an append without entries is a heartbeat)."""

_KIND_OF = {
    "ack": "ack",
    "confirm": "ack",
    "vote": "vote request",
    "voted": "vote",
    "request": "client request",
    "reply": "client response",
    "snapshot": "snapshot",
    "stale": "refusal",
    "nolog": "refusal",
    "ping": "ping",
    "pong": "ping",
}
FATES = (DELIVERED, IN_FLIGHT, LOST, PARTITIONED, CUT, CRASHED)
"""A message's fate as the journal says it (codes are indexes into this tuple)."""

DROPPED_AT = 0.5
"""How far along its link a message lost on the way (random loss, partition, cut) is drawn stopping."""
FADE = 0.25
"""How long a dropped message stays drawn after it stopped, as a share of its flight time."""

ROLES = ("leader", "follower", "candidate")
OUTCOMES = ("ok", "fail", "info", "pending")

# Lesson 4's cities (degrees; north and east positive), for a map with the Pacific in the middle.
CITY_PLACES = {
    "San Francisco": (37.77, -122.42),
    "New York": (40.71, -74.01),
    "London": (51.51, -0.13),
    "Tokyo": (35.68, 139.69),
}


def kind_of(m: Message) -> str:
    """The view's name for a message's kind (see ``KINDS``)."""
    if m.kind == "append":
        return "append" if m.fields.get("lsns") else "heartbeat"
    return _KIND_OF.get(m.kind, "other")


def label_of(m: Message) -> str:
    """A message's short label: ``+3`` for three entries, ``t2`` for a vote request in term 2, ``t2 yes``
    for the vote, the op's kind for a client request, the outcome for its reply; ``""`` when the kind
    says it all."""
    f = m.fields
    if m.kind == "append" and f.get("lsns"):
        first, last = f["lsns"]
        return f"+{last - first + 1}"
    if m.kind == "vote":
        return f"t{f['epoch']}" if "epoch" in f else ""
    if m.kind == "voted":
        return (f"t{f['epoch']} " if "epoch" in f else "") + ("yes" if f.get("granted") else "no")
    if m.kind == "request":
        return str(f.get("kind", ""))
    if m.kind == "reply":
        return str(f.get("outcome", ""))
    return ""


def _us(t: float) -> int:
    return int(round(t * US))


# --- where things are ---------------------------------------------------------------
def _ring(names: list[str]) -> dict[str, tuple[float, float]]:
    """The first node on top in the middle, the others along a shallow arc below it (x, y in 0..1)."""
    pos = {names[0]: (0.5, 0.14)}
    rest = names[1:]
    for i, n in enumerate(rest):
        share = 0.5 if len(rest) == 1 else i / (len(rest) - 1)
        pos[n] = (round(0.15 + 0.7 * share, 4), round(0.8 - 0.16 * math.sin(math.pi * share), 4))
    return pos


def _map(names: list[str]) -> dict[str, tuple[float, float]]:
    """Cities from west to east with the Pacific in the middle (Tokyo first, London last), evenly
    spaced and up and down in turn so that their labels have room (not to scale)."""
    order = sorted(names, key=lambda n: CITY_PLACES[n][1] % 360)
    return {
        n: (round(0.15 + 0.7 * i / max(len(order) - 1, 1), 4), 0.72 if i % 2 else 0.45)
        for i, n in enumerate(order)
    }


def clients_of(cluster: Cluster) -> list[dict[str, Any]]:
    """The clients to draw: those on the network (by name), and one beside each node that a client
    standing next to it wrote to or read from (``Cluster.write``, a steady writer)."""
    out = []
    for name, client in cluster.clients.items():
        near = getattr(client, "near", None)
        city = next((c for c in CITY_PLACES if name.startswith(c) and c in cluster.nodes), None)
        out.append({"name": name, "near": near or city, "local": False})
    named = set(cluster.clients)
    local = sorted({o.node for o in cluster.history.ops if o.client is None or o.client not in named})
    out += [{"name": f"client at {n}", "near": n, "local": True} for n in cluster.names if n in local]
    return out


def layout(cluster: Cluster) -> dict[str, Any]:
    """Where the view draws each node and client (x, y between 0 and 1), and whether it is a map."""
    names = cluster.names
    geo = all(n in CITY_PLACES for n in names)
    pos = _map(names) if geo else _ring(names)
    nodes = [{"name": n, "x": pos[n][0], "y": pos[n][1]} for n in names]
    clients = []
    beside: dict[str | None, int] = {}
    for cl in clients_of(cluster):
        k = beside[cl["near"]] = beside.get(cl["near"], 0) + 1
        if geo and cl["near"] in pos:  # a city's users: above their city
            x, y = pos[cl["near"]]
            place = (round(x + 0.05 * (k - 1), 4), round(y - 0.27, 4))
        elif cl["near"] in pos:  # beside its node, on the side away from the middle, then on the other
            x, y = pos[cl["near"]]
            side = (1 if x >= 0.5 else -1) * (1 if k % 2 else -1)
            if not 0.08 <= x + side * 0.16 <= 0.92:
                side = -side
            place = (round(x + side * 0.16, 4), round(min(y + 0.16 * ((k - 1) // 2), 0.97), 4))
        else:  # a client on the network, next to no node: along the left edge
            place = (0.04, round(0.15 + 0.18 * (k - 1), 4))
        clients.append({**cl, "x": place[0], "y": place[1]})
    return {"nodes": nodes, "clients": clients, "geo": geo, "kinds": KINDS, "fates": FATES, "roles": ROLES}


# --- what happened, a little at a time --------------------------------------------------
class _Reading(NamedTuple):
    """How far a node's record has been read: position records, state records, the current log."""

    records: int  # position records read
    appended: int  # entries appended, read
    states: int  # state records read
    runs: tuple[tuple[int, int], ...]  # the current log as (first lsn, epoch) runs
    last: int  # its last lsn
    fresh: bool  # the next append starts a new run record (after a rollback or a snapshot)


class Recorder:
    """Reads a cluster's record and returns, on each :meth:`delta`, only what is new since the last one.

    ``window``: (start, end) in seconds: only the messages sent then (a timeline of a few moments).
    """

    def __init__(self, cluster: Cluster, window: tuple[float, float] | None = None) -> None:
        self.cluster = cluster
        self.window = None if window is None else (_us(window[0]), _us(window[1]))  # only messages sent then
        self.seq = 0
        self.since: float | None = None  # the time of the last delta
        self._nodes: dict[str, _Reading] = {}
        self._events = 0
        self._networks = 0
        self._leaders = 0
        self._ops = 0  # the first op not settled at the last delta (resent: its outcome may change)
        self._again: tuple | None = None  # what the last delta resent (messages in flight, ops pending)

    def delta(self) -> dict[str, Any] | None:
        """What happened since the last call (everything on the first): plain JSON-ready data; None if
        nothing happened (time did not move and nothing was recorded).

        ``since``/``now``: the interval it covers (microseconds; ``since`` is -1 the first time).
        Messages: every one arriving after ``since`` (their fate may have changed), the browser
        replaces its own from ``since`` on. Ops: from index ``ops_from`` on, likewise. Lists of
        records carry each time as the difference from the one before (short numbers).
        """
        c, h = self.cluster, self.cluster.history
        names = c.names
        index = {n: i for i, n in enumerate(names)}
        since = -1 if self.since is None else _us(self.since)
        out: dict[str, Any] = {"seq": self.seq, "since": since, "now": _us(c.now)}
        nodes = {n: self._node(n, h.tracks[n]) for n in names if n in h.tracks}
        out["nodes"] = {n: {k: v for k, v in d.items() if v} for n, d in nodes.items() if any(d.values())}
        out["leaders"] = [[_us(t), index[n]] for t, n in h.leaders[self._leaders :] if n in index]
        self._leaders = len(h.leaders)
        out["network"] = [
            [
                _us(t),
                [[index[n] for n in g if n in index] for g in groups],
                [[index[a], index[b]] for a, b in cuts if a in index and b in index],
            ]
            for t, groups, cuts in h.networks[self._networks :]
        ]
        self._networks = len(h.networks)
        out["events"] = [
            [_us(e.time), e.kind, e.node or "", e.detail]
            for e in h.events[self._events :]
            if e.kind != "start"
        ]
        self._events = len(h.events)
        out["messages"] = self._messages(c.network.messages, since, c.clients, index)
        clients = {cl["name"]: i for i, cl in enumerate(clients_of(c))}
        out["ops_from"], out["ops"] = self._ops, self._client_ops(clients, index)
        if since == out["now"] and not any(
            out[k] for k in ("nodes", "leaders", "network", "events", "messages", "ops")
        ):
            return None  # nothing new: nothing to send
        self.seq += 1
        self.since = c.now
        return out

    def _messages(self, msgs: Iterable[Message], since: int, clients: Any, index: dict[str, int]) -> list:
        """``[sent - previous sent, flight time, src, dst, kind, fate(, label)]`` for each message arriving
        after ``since``, by time sent (nodes by index, clients as -1 - their index)."""
        ends = {**index, **{n: -1 - i for i, n in enumerate(clients)}}
        kinds = {k: i for i, k in enumerate(KINDS)}
        fates = {f: i for i, f in enumerate(FATES)}
        out, last = [], 0
        after = -math.inf if since < 0 else (since + 0.5) / US  # compare in seconds first: most are old
        for m in msgs:  # the journal is in the order of sending
            if m.arrives <= after or m.src not in ends or m.dst not in ends:
                continue
            arrives, sent = _us(m.arrives), _us(m.sent)
            if arrives <= since or (self.window and not self.window[0] <= sent <= self.window[1]):
                continue
            row = [sent - last, arrives - sent, ends[m.src], ends[m.dst], kinds[kind_of(m)], fates[m.fate]]
            label = label_of(m)
            out.append([*row, label] if label else row)
            last = sent
        return out

    def _client_ops(self, clients: dict[str, int], index: dict[str, int]) -> list:
        """Each client operation from ``self._ops`` on: ``[invoke - previous invoke, time to complete or -1,
        client, node, 0 write / 1 read, outcome, lsn, epoch]`` (lsn and epoch -1 when none); a client
        standing next to a node is ``client at <node>``."""
        ops = self.cluster.history.ops
        named = set(self.cluster.clients)
        out, last, first_pending = [], 0, None
        for i in range(self._ops, len(ops)):
            o = ops[i]
            if o.outcome == "pending" and first_pending is None:
                first_pending = i
            who = o.client if o.client in named else f"client at {o.node}"
            invoke = _us(o.invoke)
            out.append(
                [
                    invoke - last,
                    -1 if o.complete is None else _us(o.complete) - invoke,
                    clients.get(who, -1),
                    index.get(o.node, -1),
                    0 if o.kind == "write" else 1,
                    OUTCOMES.index(o.outcome),
                    -1 if o.lsn is None else o.lsn,
                    -1 if o.epoch is None else o.epoch,
                ]
            )
            last = invoke
        self._ops = len(ops) if first_pending is None else first_pending
        return out

    def _node(self, name: str, track: Any) -> dict[str, list]:
        """A node's new records: states, positions (``[t - previous t, lsn]``), epoch runs
        (``[t, first lsn, epoch]``: from then on, entries from that lsn on are of that epoch), bases."""
        r = self._nodes.get(name) or _Reading(0, 0, 0, (), 0, True)
        states = [
            [
                _us(s.time),
                ROLES.index(s.role) if s.role in ROLES else 1,
                int(s.up),
                s.epoch,
                s.leader or "",
                int(bool(s.broken)),
            ]
            for s in track.states[r.states :]
        ]
        jumps = {i: (base, hist) for i, base, hist, _ in track.jumps}
        pos, epochs, bases = [], [], []
        runs, last, fresh, used = list(r.runs), r.last, r.fresh, r.appended
        previous = 0
        for i in range(r.records, len(track.t)):
            t, lsn = _us(track.t[i]), int(track.lsn[i])
            pos.append([t - previous, lsn])
            previous = t
            if i in jumps:
                base, hist = jumps[i]
                if hist is not None:  # a snapshot installed: the log starts after ``base``
                    runs = [(max(first, 1), epoch) for epoch, first in hist if first <= base]
                    epochs += [[t, first, epoch] for first, epoch in runs]
                    bases.append([t, base])
                runs = [(first, epoch) for first, epoch in runs if first <= lsn]
                last, fresh = lsn, True
                continue
            if i == 0:
                continue
            for e in track.appended[used : used + lsn - last]:
                if fresh or not runs or runs[-1][1] != e.epoch:
                    runs.append((e.lsn, e.epoch))
                    epochs.append([t, e.lsn, e.epoch])
                    fresh = False
            used += max(lsn - last, 0)
            last = lsn
        self._nodes[name] = _Reading(len(track.t), used, len(track.states), tuple(runs), last, fresh)
        return {"states": states, "pos": pos, "epochs": epochs, "bases": bases}


def scene(cluster: Cluster) -> dict[str, Any]:
    """Everything the view needs, from t = 0 to now: the layout and one delta holding the whole past."""
    return {"layout": layout(cluster), "delta": Recorder(cluster).delta()}


# --- one moment, as the browser draws it -------------------------------------------------
class Flight(NamedTuple):
    """A message drawn at one moment: its endpoints, kind, fate, label, and how far along (0..1)."""

    src: str
    dst: str
    kind: str
    fate: str
    label: str
    along: float
    stopped: bool  # dropped on the way (or at a crashed node): drawn still and fading


class Strip(NamedTuple):
    """A node's log at one moment, as drawn: ``cells`` from lsn ``first`` on, each
    ``(epoch or None, acknowledged, to be discarded)``; and its marks."""

    first: int
    cells: tuple[tuple[int | None, bool, bool], ...]
    applied: int  # the last lsn it holds (the record's position)
    acknowledged: int  # the highest lsn acknowledged to a client, cluster-wide, by then
    base: int  # entries up to here are in a snapshot (not in the log)


def in_flight(cluster: Cluster, t: float) -> list[Flight]:
    """The messages drawn at time ``t``: travelling, or dropped and still fading, in journal order."""
    out = []
    for m in cluster.network.messages:
        span = max(m.arrives - m.sent, 1e-9)
        if m.fate in (LOST, PARTITIONED, CUT):
            stop = m.sent + DROPPED_AT * span
            if m.sent <= t < stop + FADE * span:
                along = min((t - m.sent) / span, DROPPED_AT)
                out.append(Flight(m.src, m.dst, kind_of(m), m.fate, label_of(m), along, t >= stop))
        elif m.fate == CRASHED:
            if m.sent <= t < m.arrives + FADE * span:
                out.append(
                    Flight(
                        m.src,
                        m.dst,
                        kind_of(m),
                        m.fate,
                        label_of(m),
                        min((t - m.sent) / span, 1.0),
                        t >= m.arrives,
                    )
                )
        elif m.sent <= t < m.arrives:
            out.append(Flight(m.src, m.dst, kind_of(m), m.fate, label_of(m), (t - m.sent) / span, False))
    return out


def acknowledged_by(cluster: Cluster, t: float) -> set[tuple[int, int]]:
    """(lsn, epoch) of every write acknowledged to its client by time ``t``."""
    return {
        (o.lsn, o.epoch)
        for o in cluster.history.writes("ok")
        if o.complete is not None and o.complete <= t and o.lsn is not None
    }


def strips(cluster: Cluster, t: float, width: int = 24) -> dict[str, Strip]:
    """Each node's log at ``t``, the last ``width`` positions of the longest log, aligned by lsn.

    An entry is marked to be discarded when the leader of the moment (the one appointed most
    recently) holds another entry at that lsn, or holds none there: a divergent suffix.
    """
    import numpy as np

    v = cluster.view(t)
    h = cluster.history
    hi = max((nv.lsn for nv in v.nodes.values()), default=0)
    first = max(hi - width + 1, 1)
    lsns = np.arange(first, hi + 1)
    times = np.full(len(lsns), t)
    acked = acknowledged_by(cluster, t)
    top = max((lsn for lsn, _ in acked), default=0)
    lead = h.tracks[v.leader]
    lead_found, lead_epoch, _ = lead.entries_at(lsns, times)
    out = {}
    for name, nv in v.nodes.items():
        track = h.tracks[name]
        found, epoch, _ = track.entries_at(lsns, times)
        base = int(track.base([t])[0][0])
        cells = []
        for k, lsn in enumerate(lsns):
            if not found[k]:
                cells.append((None, False, False))
                continue
            e = int(epoch[k])
            away = name != v.leader and (not lead_found[k] or int(lead_epoch[k]) != e)
            cells.append((e, (int(lsn), e) in acked, away))
        out[name] = Strip(first, tuple(cells), nv.lsn, top, base)
    return out


class Frame(NamedTuple):
    """The view at one moment: the cluster (``cluster.view``), what is in flight, and each log."""

    time: float
    view: Any
    messages: list[Flight]
    logs: dict[str, Strip]


def frame(cluster: Cluster, t: float | None = None, width: int = 24) -> Frame:
    """What the view draws at time ``t`` (default: now), computed in Python from the record."""
    t = cluster.now if t is None else t
    return Frame(
        t, cluster.view(None if t >= cluster.now else t), in_flight(cluster, t), strips(cluster, t, width)
    )


__all__ = [
    "KINDS",
    "FATES",
    "layout",
    "Recorder",
    "scene",
    "frame",
    "Frame",
    "Flight",
    "Strip",
    "in_flight",
    "strips",
]
