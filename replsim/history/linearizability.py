"""Is a history of registers linearizable? A checker in the style of Knossos and Porcupine.

A history is linearizable if every operation can be given one instant between its
invocation and its completion at which it took effect, such that the register read
at those instants gives every read the value it returned (Herlihy and Wing, 1990).
The search is Wing and Gong's (1993) with Lowe's memoisation (2017), as Porcupine
does it: operations are taken in real-time order, each tried as the next to take
effect; a state (set of operations taken, register value) already explored is never
explored again. Keys are independent registers and are checked one at a time
(linearizability is local: a history is linearizable if each key's part is).

Operations (:class:`Operation`) are reads, writes and compare-and-sets; an operation
whose outcome is unknown (``info``: the client never heard back) may have taken
effect at any instant after its invocation, or never. A failed operation (``fail``)
did not happen and is left out.

The JSON lines format (one operation per line; blank lines are skipped)::

    {"process": "alice", "f": "write", "value": 1, "invoke": 0.0, "complete": 0.12, "outcome": "ok"}
    {"process": "bob", "f": "read", "value": 1, "invoke": 0.05, "complete": 0.2, "outcome": "ok"}
    {"process": "carol", "f": "cas", "value": [1, 2], "invoke": 0.3, "complete": null, "outcome": "info"}

- ``process``: who ran it (a string or a whole number);
- ``f``: ``"read"``, ``"write"`` or ``"cas"`` (compare-and-set);
- ``value``: the value written; the value a read returned (``null``: the register was
  empty); for a cas, ``[expected, new]``;
- ``invoke``, ``complete``: times in seconds (``complete`` >= ``invoke``; ``null`` or
  absent for an ``info`` operation; if given, it is when the client gave up, and the
  operation may still take effect later);
- ``outcome``: ``"ok"``, ``"fail"`` or ``"info"``;
- ``key`` (optional): which register (default: one register).

A malformed line raises :class:`HistoryFormatError` naming the line and what was expected.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, ReplsimError
from ..validate import whole
from .record import Op

FUNCTIONS = ("read", "write", "cas")
OUTCOMES = ("ok", "fail", "info")
MAX_STEPS = 20_000_000
"""The search stops (result ``None``: unknown) after this many steps per key (a few seconds)."""


class HistoryFormatError(ReplsimError, ValueError):
    """A history line that is not an operation in the documented format."""


@dataclass(frozen=True)
class Operation:
    """One operation on a register, as a client saw it."""

    process: Any
    f: str
    value: Any
    invoke: float
    complete: float | None
    outcome: str
    key: Any = None

    def __str__(self) -> str:
        end = "?" if self.complete is None else f"{self.complete:.6g}"
        what = {"read": "read ->", "write": "write", "cas": "cas"}[self.f]
        return f"{self.process} {what} {self.value!r} [{self.invoke:.6g}..{end}] {self.outcome}"


def _frozen(v: Any) -> Any:
    """A JSON value as something hashable (lists become tuples, objects sorted tuples)."""
    if isinstance(v, list):
        return tuple(_frozen(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _frozen(x)) for k, x in v.items()))
    return v


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_line(text: str, number: int = 1) -> Operation | None:
    """The operation on one line of JSON (None for a blank line); HistoryFormatError if malformed."""
    if not text.strip():
        return None

    def bad(what: str) -> HistoryFormatError:
        shown = text.strip()
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return HistoryFormatError(f"line {number}: {what}; got {shown}")

    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"expected one JSON object per line ({exc.msg} at column {exc.colno})") from None
    if not isinstance(d, dict):
        raise bad('expected a JSON object like {"process": ..., "f": "read", ...}')
    missing = [k for k in ("process", "f", "invoke", "outcome") if k not in d]
    if missing:
        raise bad(f"missing {', '.join(repr(k) for k in missing)}")
    unknown = sorted(set(d) - {"process", "f", "value", "invoke", "complete", "outcome", "key"})
    if unknown:
        raise bad(
            f"unknown field {unknown[0]!r}; the fields are process, f, value, invoke, complete, outcome, key"
        )
    if not isinstance(d["process"], (str, int)) or isinstance(d["process"], bool):
        raise bad("process must be a string or a whole number")
    f, outcome = d["f"], d["outcome"]
    if f not in FUNCTIONS:
        raise bad(f"f must be one of {', '.join(map(repr, FUNCTIONS))}")
    if outcome not in OUTCOMES:
        raise bad(f"outcome must be one of {', '.join(map(repr, OUTCOMES))}")
    invoke, complete = d["invoke"], d.get("complete")
    if not _number(invoke) or invoke < 0:
        raise bad("invoke must be a time in seconds (a number >= 0)")
    if complete is None:
        if outcome != "info":
            raise bad(f"complete is needed for an {outcome!r} operation (only 'info' ones may lack it)")
    elif not _number(complete) or complete < invoke:
        raise bad("complete must be a time in seconds, at or after invoke")
    if f in ("write", "cas") and "value" not in d:
        raise bad(f"a {f} needs a value" + (" [expected, new]" if f == "cas" else ""))
    if f == "read" and outcome == "ok" and "value" not in d:
        raise bad("an ok read needs the value it returned (null for an empty register)")
    value = _frozen(d.get("value"))
    if f == "cas" and not (isinstance(value, tuple) and len(value) == 2):
        raise bad("a cas value must be [expected, new]")
    return Operation(
        d["process"],
        f,
        value,
        float(invoke),
        None if complete is None else float(complete),
        outcome,
        _frozen(d.get("key")),
    )


def parse_jsonl(text: str | Iterable[str]) -> list[Operation]:
    """The operations in JSON lines text (a string, or its lines)."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    out = []
    for i, line in enumerate(lines, 1):
        op = parse_line(line, i)
        if op is not None:
            out.append(op)
    return out


def read_jsonl(path: str | os.PathLike) -> list[Operation]:
    """The operations in a JSON lines file (HistoryFormatError if it cannot be read as one)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise HistoryFormatError(
            f"no such file: {str(path)!r}; give the path of a JSON lines history"
        ) from None
    except IsADirectoryError:
        raise HistoryFormatError(
            f"{str(path)!r} is a folder; give the path of a JSON lines history"
        ) from None
    except UnicodeDecodeError:
        raise HistoryFormatError(
            f"{str(path)!r} is not text (UTF-8); a history is JSON lines, one operation per line"
        ) from None
    except OSError as exc:
        raise HistoryFormatError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    return parse_jsonl(text)


def to_jsonl(ops: Iterable[Operation]) -> str:
    """Operations as JSON lines (the format :func:`read_jsonl` reads)."""
    lines = []
    for o in ops:
        d: dict[str, Any] = {
            "process": o.process,
            "f": o.f,
            "value": o.value,
            "invoke": o.invoke,
            "complete": o.complete,
            "outcome": o.outcome,
        }
        if o.key is not None:
            d["key"] = o.key
        lines.append(json.dumps(d))
    return "\n".join(lines) + ("\n" if lines else "")


def from_history(ops: Iterable[Any]) -> list[Operation]:
    """replsim operations (``History.ops``) as register operations; reads and writes, pending ones as info."""
    out = []
    for o in ops:
        if o.kind not in ("read", "write"):
            continue
        outcome = "info" if o.outcome == "pending" else o.outcome
        complete = o.complete if outcome != "info" else None
        process = o.client if o.client is not None else f"client at {o.node}"
        out.append(Operation(process, o.kind, _frozen(o.value), o.invoke, complete, outcome, o.key))
    return out


# --- the search ---------------------------------------------------------------
def _step(state: Any, op: Operation) -> tuple[bool, Any]:
    """(can ``op`` take effect on a register holding ``state``, the value after it)."""
    if op.f == "write":
        return True, op.value
    if op.f == "read":
        return op.value == state, state
    expected, new = op.value
    if state == expected:
        return True, new
    return op.outcome == "info", state  # an unknown cas may have found another value, and failed


def _written(o: Operation) -> Any:
    """The value a write or cas puts in the register (if it takes effect)."""
    return o.value if o.f == "write" else o.value[1]


def _trim(ops: list[Operation], init: Any) -> list[tuple[Operation, float]]:
    """Each operation with the latest instant it may take effect, the search made cheaper without
    changing the answer.

    A known operation takes effect by its completion. One of unknown outcome may take
    effect at any instant after its invocation, or never (its ``complete``, if given, is
    when its client gave up, not a deadline), with two exceptions that are sound for
    repeated values too:

    - a value nobody may need (no read returned it, no successful cas expected it, no
      unknown cas that stays expected it) is left out: its writer can be taken never to
      have happened (or to have happened last, which is the same);
    - a value written by that operation alone, and not the initial value, that someone
      observed: it took effect before the first observer completed. Observing the new value
      of such an unknown cas means it succeeded, so its expected value was observed then too.
    """
    observed: dict[Any, float] = {}  # value -> the earliest completion of an operation that saw it
    written: dict[Any, int] = {}
    for o in ops:
        if o.outcome == "ok" and o.f in ("read", "cas"):
            seen = o.value if o.f == "read" else o.value[0]
            observed[seen] = min(observed.get(seen, math.inf), o.complete)  # type: ignore[type-var]
        if o.f != "read":
            v = _written(o)
            written[v] = written.get(v, 0) + 1

    def sole(v: Any) -> bool:  # written by one operation only, and not there from the start
        return written.get(v, 0) == 1 and v != init

    grew = True
    while grew:  # an unknown cas whose new value, written by it alone, was seen did succeed
        grew = False
        for o in ops:
            if o.f == "cas" and o.outcome == "info" and sole(o.value[1]) and o.value[1] in observed:
                by = observed[o.value[1]]
                if by < observed.get(o.value[0], math.inf):
                    observed[o.value[0]] = by
                    grew = True
    needed = set(observed)
    kept: set[int] = set()
    grew = True
    while grew:  # an unknown cas that stays needs its expected value
        grew = False
        for i, o in enumerate(ops):
            if o.outcome == "info" and i not in kept and _written(o) in needed:
                kept.add(i)
                if o.f == "cas" and o.value[0] not in needed:
                    needed.add(o.value[0])
                    grew = True
    out = []
    for i, o in enumerate(ops):
        if o.outcome != "info":
            out.append((o, o.complete))
        elif i in kept:
            v = _written(o)
            out.append((o, max(observed[v], o.invoke) if sole(v) and v in observed else math.inf))
    return out  # type: ignore[return-value]


_NOTHING = object()


class _Entry:
    __slots__ = ("op", "index", "call", "match", "prev", "next")

    def __init__(self, op: Operation | None, index: int, call: bool) -> None:
        self.op, self.index, self.call = op, index, call
        self.match: _Entry | None = None
        self.prev: _Entry | None = None
        self.next: _Entry | None = None


@dataclass
class KeyResult:
    """What the search found for one register.

    ``linearizable``: True, False, or None (gave up after ``MAX_STEPS``). When False,
    ``order`` is the longest sequence of operations that could take effect one after
    another, ``value`` the register after them, and ``stuck`` the operation that had
    to take effect next and could not.
    """

    key: Any
    operations: int
    linearizable: bool | None
    order: list[Operation] = field(default_factory=list)
    value: Any = None
    stuck: Operation | None = None
    steps: int = 0

    def explain(self) -> str:
        """The result in words."""
        where = "one register" if self.key is None else f"key {self.key!r}"
        if self.linearizable:
            return f"{where}: linearizable ({self.operations} operations)"
        if self.linearizable is None:
            return f"{where}: unknown, the search gave up after {self.steps:,} steps"
        return (
            f"{where}: after {len(self.order)} operations had taken effect one after another, the register "
            f"held {self.value!r}, and {self.stuck} could not take effect next"
        )


def check_register(
    ops: list[Operation], init: Any = None, key: Any = None, max_steps: int = MAX_STEPS
) -> KeyResult:
    """Search for a linearization of one register's operations (the register starts as ``init``)."""
    timed = _trim(
        [o for o in ops if o.outcome != "fail" and not (o.f == "read" and o.outcome == "info")], init
    )
    ops = [o for o, _ in timed]
    result = KeyResult(key, len(ops), True)
    if not ops:
        return result
    values = {init} | {o.value for o in ops if o.f == "write"} | {o.value[1] for o in ops if o.f == "cas"}
    for o in ops:  # a value nobody wrote: no need to search
        if o.f == "read" and o.outcome == "ok" and o.value not in values:
            result.linearizable, result.stuck, result.value = False, o, init
            return result
    events = []
    for i, (o, done) in enumerate(timed):
        events.append((o.invoke, 0, i, True))
        events.append((done, 1, i, False))
    events.sort()  # calls before returns at the same instant: those overlap
    head = _Entry(None, -1, True)
    calls: dict[int, _Entry] = {}
    last = head
    for _, _, i, is_call in events:
        e = _Entry(ops[i], i, is_call)
        if is_call:
            calls[i] = e
        else:
            calls[i].match = e
        last.next, e.prev = e, last
        last = e

    def lift(e: _Entry) -> None:
        e.prev.next = e.next  # type: ignore[union-attr]
        if e.next is not None:
            e.next.prev = e.prev
        m = e.match
        m.prev.next = m.next  # type: ignore[union-attr]
        if m.next is not None:
            m.next.prev = m.prev

    def unlift(e: _Entry) -> None:
        m = e.match
        m.prev.next = m  # type: ignore[union-attr]
        if m.next is not None:
            m.next.prev = m
        e.prev.next = e  # type: ignore[union-attr]
        if e.next is not None:
            e.next.prev = e

    state, done_set = init, 0
    seen: set[tuple[int, Any]] = set()
    stack: list[tuple[_Entry, Any, bool]] = []  # (operation taken, register before it, forced)
    best: tuple[int, list, Any, Operation | None] = (-1, [], init, None)
    entry = head.next
    steps = 0
    while head.next is not None:
        steps += 1
        if steps > max_steps:
            result.linearizable, result.steps = None, steps
            return result
        dead = not entry.call  # type: ignore[union-attr]  # an operation returned before it took effect
        if not dead:
            op = entry.op  # type: ignore[union-attr]
            ok, after = _step(state, op)  # type: ignore[arg-type]
            if ok:
                taken = done_set | (1 << entry.index)  # type: ignore[union-attr]
                fresh = (taken, after) not in seen
                # A read of the value held now can take effect now: any order that places it later
                # works with it here too, so no other choice at this point needs trying.
                forced = op.f == "read"  # type: ignore[union-attr]
                if fresh:
                    seen.add((taken, after))
                    stack.append((entry, state, forced))  # type: ignore[arg-type]
                    state, done_set = after, taken
                    lift(entry)  # type: ignore[arg-type]
                    entry = head.next
                    continue
                dead = forced  # explored from here already, and it failed
            if not dead:
                entry = entry.next  # type: ignore[union-attr]
                continue
        if len(stack) > best[0]:
            best = (len(stack), [e.op for e, _, _ in stack], state, entry.op)  # type: ignore[union-attr]
        while stack:  # undo the last free choice, and try the next operation in its place
            top, state, forced = stack.pop()
            done_set &= ~(1 << top.index)
            unlift(top)
            if not forced:
                entry = top.next
                break
        else:
            break
    result.steps = steps
    if head.next is None:
        return result
    result.linearizable = False
    _, result.order, result.value, result.stuck = best
    return result


@dataclass
class Report:
    """The result for every key of a history: linearizable if every key is."""

    keys: list[KeyResult]

    @property
    def linearizable(self) -> bool | None:
        """True if every key is linearizable, False if one is not, None if the search gave up."""
        if any(k.linearizable is False for k in self.keys):
            return False
        if any(k.linearizable is None for k in self.keys):
            return None
        return True

    @property
    def failures(self) -> list[KeyResult]:
        """The keys that are not linearizable."""
        return [k for k in self.keys if k.linearizable is False]

    def __str__(self) -> str:
        ops = sum(k.operations for k in self.keys)
        head = {True: "linearizable", False: "NOT linearizable", None: "unknown"}[self.linearizable]
        lines = [f"{head}: {ops} operations on {len(self.keys)} key(s)"]
        lines += [f"  {k.explain()}" for k in self.keys if not k.linearizable]
        return "\n".join(lines)


def check(ops: Iterable[Any], init: Any = None, max_steps: int = MAX_STEPS) -> Report:
    """Check a history: :class:`Operation`s, replsim ``Op``s (``History.ops``), or a JSON lines file path."""
    if isinstance(ops, (str, os.PathLike)):
        ops = read_jsonl(ops)
    elif isinstance(ops, (bytes, dict)) or not isinstance(ops, Iterable):
        raise ConfigError(f"check() takes operations or the path of a JSON lines file, got {ops!r}")
    ops = list(ops)
    if all(isinstance(o, Operation) for o in ops):
        pass
    elif all(isinstance(o, Op) for o in ops):
        ops = from_history(ops)
    else:
        bad = next(o for o in ops if not isinstance(o, (Operation, Op)))
        raise ConfigError(
            "check() takes Operations (replsim.history.linearizability), replsim operations "
            f"(cluster.history.ops) or the path of a JSON lines file; got {bad!r} among them"
        )
    try:
        hash(init)
    except TypeError:
        raise ConfigError(
            f"init is the register's first value: a string, a number or None, got {init!r}"
        ) from None
    whole("max_steps", max_steps, 1)
    by_key: dict[Any, list[Operation]] = {}
    for o in ops:
        by_key.setdefault(o.key, []).append(o)
    keys = sorted(by_key, key=repr)
    return Report([check_register(by_key[k], init, k, max_steps) for k in keys])


__all__ = [
    "Operation",
    "HistoryFormatError",
    "KeyResult",
    "Report",
    "check",
    "check_register",
    "read_jsonl",
    "parse_jsonl",
    "to_jsonl",
    "parse_line",
    "from_history",
    "MAX_STEPS",
]
