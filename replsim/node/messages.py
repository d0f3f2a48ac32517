"""Every message nodes and clients exchange, with its named fields: the one definition of each.

A message is a tuple whose first field is its sender's name; the network delivers it as
``handler(*msg)``, so each handler's parameters are the fields below, in order (a test
checks it). Rare messages are built as these named tuples; the three of the replication
stream's hot path (``append``, ``ack``, ``confirm``) are built as plain tuples in the same
field order, which costs a tenth as much (``benchmarks/engine.py``). The message journal
shows each kind's main fields (:func:`describe`), decoded here by name.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..engine.journal import describe

HEADER = 32  # bytes of a message's header on the wire


class Append(NamedTuple):
    """Leader -> follower: the entries after ``prev_lsn`` (none: a heartbeat), and the leader's epoch
    history. Built as a plain tuple on the hot path."""

    src: str
    epoch: int
    prev_lsn: int
    prev_epoch: int
    entries: tuple
    history: tuple


class Ack(NamedTuple):
    """Follower -> leader. ``ok``: "my log matches yours up to ``lsn``" (counted for commits);
    else "please send what follows ``lsn``". Built as a plain tuple on the hot path."""

    src: str
    epoch: int
    lsn: int
    ok: bool


class Confirm(NamedTuple):
    """Follower with stages -> leader: received (``flushed``: and flushed) up to ``lsn``, not yet applied.
    Built as a plain tuple on the hot path."""

    src: str
    epoch: int
    lsn: int
    flushed: bool


class Stale(NamedTuple):
    """To an old leader: "a newer epoch exists" (fencing)."""

    src: str
    epoch: int


class Snapshot(NamedTuple):
    """Leader -> follower: a copy of the whole store at ``lsn`` (``pg_basebackup``)."""

    src: str
    epoch: int
    lsn: int
    base_epoch: int
    history: tuple
    data: Any


class NoLog(NamedTuple):
    """Leader -> follower: "my log starts after ``base``; I no longer hold what you need"."""

    src: str
    epoch: int
    base: int


class Request(NamedTuple):
    """Client -> node: a read or a write; ``after``: answer a read once holding that position;
    ``rid``: the write's idempotency key."""

    src: str
    op: int
    kind: str
    key: Any
    value: Any
    after: int = 0
    rid: Any = None


class Reply(NamedTuple):
    """Node -> client: the outcome of request ``op``."""

    src: str
    op: int
    outcome: str
    value: Any
    lsn: int | None
    epoch: int | None
    error: str | None


class Vote(NamedTuple):
    """Candidate -> every node: "vote for me in ``term``"; its last log position and that entry's epoch."""

    src: str
    term: int
    last_lsn: int
    last_epoch: int


class Voted(NamedTuple):
    """Voter -> candidate: its term, and whether it grants its vote."""

    src: str
    term: int
    granted: bool


class Ping(NamedTuple):
    """Failover monitor -> node: "how are you?"."""

    src: str


class Pong(NamedTuple):
    """Node -> failover monitor: its role, epoch, position, the epoch of its last entry, its leader."""

    src: str
    role: str
    epoch: int
    lsn: int
    last_epoch: int
    leader: str | None


KINDS: dict[str, type] = {
    "append": Append,
    "ack": Ack,
    "confirm": Confirm,
    "stale": Stale,
    "snapshot": Snapshot,
    "nolog": NoLog,
    "request": Request,
    "reply": Reply,
    "vote": Vote,
    "voted": Voted,
    "ping": Ping,
    "pong": Pong,
}
"""Message kind -> its type."""


def decode(kind: str, msg: tuple) -> Any:
    """A message of ``kind`` with named fields (a plain tuple of the hot path becomes its named tuple)."""
    return msg if type(msg) is not tuple else KINDS[kind]._make(msg)  # type: ignore[attr-defined]


def _append(m: tuple) -> dict[str, Any]:
    a = decode("append", m)
    return {"epoch": a.epoch, "lsns": (a.prev_lsn + 1, a.prev_lsn + len(a.entries)) if a.entries else None}


def _request(m: tuple) -> dict[str, Any]:
    r = decode("request", m)
    return {"op": r.op, "kind": r.kind, "key": r.key, "after": r.after}


# What the message journal shows of each kind (a swimlane diagram's labels).
describe("append")(_append)
describe("ack")(lambda m: {k: v for k, v in decode("ack", m)._asdict().items() if k != "src"})
describe("confirm")(lambda m: {k: v for k, v in decode("confirm", m)._asdict().items() if k != "src"})
describe("stale")(lambda m: {"epoch": decode("stale", m).epoch})
describe("snapshot")(lambda m: {"epoch": decode("snapshot", m).epoch, "lsn": decode("snapshot", m).lsn})
describe("nolog")(lambda m: {"epoch": decode("nolog", m).epoch, "base": decode("nolog", m).base})
describe("request")(_request)
describe("reply")(lambda m: {"op": m[1], "outcome": m[2], "lsn": m[4]})
describe("vote")(lambda m: {"epoch": m[1], "lsn": m[2], "last_epoch": m[3]})
describe("voted")(lambda m: {"epoch": m[1], "granted": m[2]})
describe("ping")(lambda m: {})
describe("pong")(lambda m: {"role": m[1], "epoch": m[2], "lsn": m[3], "leader": m[5]})

__all__ = [
    "HEADER",
    "Append",
    "Ack",
    "Confirm",
    "Stale",
    "Snapshot",
    "NoLog",
    "Request",
    "Reply",
    "Vote",
    "Voted",
    "Ping",
    "Pong",
    "KINDS",
    "decode",
]
