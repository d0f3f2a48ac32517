"""A client operation (:class:`Op`) and its outcomes: the unit of the record, of its measures and checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK, FAIL, INFO, PENDING = "ok", "fail", "info", "pending"
SETTLED = (OK, FAIL, INFO)


class RecordError(AssertionError):
    """The engine broke a rule of the record (an outcome changed after it was settled): a bug in replsim."""


@dataclass(slots=True)
class Op:
    """One client operation: a read or a write, when it started and ended, and how.

    ``outcome`` is ``"ok"``, ``"fail"`` (refused; it had no effect), ``"pending"``
    (not answered yet) or ``"info"`` (unknown: the client never learned what
    happened, like Jepsen's indeterminate operations). Times are as the client saw
    them; ``client`` is None for a client standing next to the node.
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
    client: str | None = None

    def __repr__(self) -> str:
        end = "…" if self.complete is None else f"{self.complete:.6g}"
        where = f" lsn={self.lsn}" if self.lsn is not None else ""
        who = f" by {self.client!r}" if self.client else ""
        return (
            f"Op#{self.id}({self.kind} {self.key!r}={self.value!r} at {self.node!r}{who}, "
            f"t={self.invoke:.6g}..{end}, {self.outcome}{where})"
        )


__all__ = ["Op", "OK", "FAIL", "INFO", "PENDING", "SETTLED", "RecordError"]
