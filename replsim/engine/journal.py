"""The message journal: who sent what to whom, when it arrived, and what became of it.

Bounded: it keeps the most recent ``keep`` messages (``Cluster(keep_messages=...)``,
10,000 by default, at most 1,000,000); older ones are forgotten, the counts in
:class:`~replsim.engine.network.Network` are not. Enough for a swimlane diagram.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

DELIVERED, LOST, PARTITIONED, CUT, CRASHED, IN_FLIGHT = (
    "delivered",
    "lost",
    "partitioned",
    "cut",
    "crashed",
    "in flight",
)
FATES = (DELIVERED, LOST, PARTITIONED, CUT, CRASHED, IN_FLIGHT)
"""What can become of a message: arrived and handled, dropped by random loss, stopped by a
partition or a one-way cut, arrived at a crashed node, or still travelling."""

MAX_KEEP = 1_000_000

FIELDS: dict[str, Callable[[tuple], dict[str, Any]]] = {}
"""Per message kind, a function from the message's tuple to its main fields (epoch, LSNs, vote...)."""


def describe(kind: str) -> Callable[[Callable[[tuple], dict[str, Any]]], Callable[[tuple], dict[str, Any]]]:
    """Decorator: register how the journal shows the main fields of messages of ``kind``."""

    def deco(fn: Callable[[tuple], dict[str, Any]]) -> Callable[[tuple], dict[str, Any]]:
        FIELDS[kind] = fn
        return fn

    return deco


class Message(NamedTuple):
    """One message: sent and arrival times, endpoints, kind, size in bytes, fate and main fields."""

    sent: float
    arrives: float
    src: str
    dst: str
    kind: str
    size: int
    fate: str
    fields: dict[str, Any]

    @property
    def lost(self) -> bool:
        """True if it never reached a running node."""
        return self.fate not in (DELIVERED, IN_FLIGHT)


class Journal:
    """The most recent messages, recorded cheaply as they are sent and decoded on demand.

    Each is kept as ``(sent, arrives, msg, size, dst, kind, fate)``; ``fate`` is None for a
    message handed to the simulator, and is worked out (delivered, crashed, in flight) when
    the journal is read.
    """

    __slots__ = ("_recs", "_crashed", "keep")

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._recs: deque[tuple] = deque(maxlen=keep)
        self._crashed: set[tuple[float, str, str, str]] = set()

    def dropped(
        self, sent: float, arrives: float, dst: str, kind: str, size: int, msg: tuple, fate: str
    ) -> None:
        """Record a message that the network did not deliver."""
        if self.keep:
            self._recs.append((sent, arrives, msg, size, dst, kind, fate))

    def crashed(self, arrives: float, src: str, dst: str, kind: str) -> None:
        """Mark the message arriving now from ``src`` at crashed ``dst`` (the node reports it)."""
        if self.keep:
            self._crashed.add((arrives, src, dst, kind))

    def messages(self, now: float) -> list[Message]:
        """The journal, oldest first, with each message's fate as of time ``now``."""
        out = []
        crashed = self._crashed
        for sent, arrives, msg, size, dst, kind, fate in self._recs:
            src = msg[0]
            if fate is None:
                if arrives > now:
                    fate = IN_FLIGHT
                elif (arrives, src, dst, kind) in crashed:
                    fate = CRASHED
                else:
                    fate = DELIVERED
            fields = FIELDS.get(kind)
            out.append(Message(sent, arrives, src, dst, kind, size, fate, fields(msg) if fields else {}))
        return out

    def __len__(self) -> int:
        return len(self._recs)
