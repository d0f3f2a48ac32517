"""Three ways a leader ships a change to its followers, on real SQLite databases.

- **Statement shipping** (:class:`StatementShipping`): the log holds the SQL text and every
  follower runs it again (MySQL's ``binlog_format=STATEMENT``, rqlite). Non-deterministic
  SQL can leave the copies different. Two real mitigations: ``fix="context"`` ships the
  statement's time and random seed with it, as MySQL's binary log does for ``NOW()`` and
  ``RAND()``; ``fix="rewrite"`` replaces ``random()``, ``randomblob(n)`` and ``'now'`` by
  literals before logging, as rqlite does (not ``random()`` in an ``ORDER BY``, nor
  ``CURRENT_TIMESTAMP``, which rqlite leaves alone too).
- **Row shipping** (:class:`RowShipping`, logical): the log holds the rows the statement
  changed, with their old and new values keyed by primary key: a changeset of SQLite's session
  extension (MySQL's ``ROW`` format, PostgreSQL's logical replication). A statement that changes
  the schema is shipped as its text, as MySQL logs DDL.
- **Page shipping** (:class:`PageShipping`, physical): the log holds every database page the
  statement changed, as bytes, like SQLite's WAL frames (PostgreSQL's and Oracle's physical
  WAL shipping). Followers become byte-identical copies, and must use the same page format.

Every entry's ``size`` is the bytes it ships: a 24-byte record header plus the SQL text (and
8 + 8 bytes of time and seed with ``fix="context"``), the changeset, or one 24-byte WAL frame
header plus the page for each changed page.

Typical use (``sql_store`` is in ``replsim.stores.sqlite``)::

    shop = Cluster("primary", ["replica-1", "replica-2"], store=sql_store("row", schema=SHOP))
    shop.execute("UPDATE items SET price = price * 2 WHERE id = 7")
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Protocol

import apsw

from ..errors import ConfigError, StoreError
from .kv import ENTRY_HEADER

WAL_FRAME_HEADER = 24
"""Bytes of header SQLite's WAL writes before each page (page number, size, salts, checksums)."""

METHODS = ("statement", "row", "physical")
FIXES = (None, "context", "rewrite")


class SQLiteStore(Protocol):
    """What the shipping methods need of a node's SQLite database (``sqlite.SQLiteStore``)."""

    rng: random.Random  # the node's random() draws
    page_size: int

    @property
    def now(self) -> float: ...  # the node's clock, for now() and CURRENT_TIMESTAMP
    def run(self, sql: str, now: float | None = None, seed: int | None = None) -> None: ...
    def run_capturing(self, sql: str) -> bytes: ...
    def apply_changeset(self, changeset: bytes) -> None: ...
    def schema_version(self) -> int: ...
    def image(self) -> bytes: ...
    def load_image(self, image: bytes) -> None: ...
    def julian_now(self) -> float: ...


# --- what the log holds -------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    """A log entry of statement shipping: SQL text, with the leader's time and seed if shipped."""

    sql: str
    time: float | None = None  # virtual time the leader ran it at (MySQL: SET TIMESTAMP)
    seed: int | None = None  # seed of the leader's random() for it (MySQL: the RAND seed)

    @property
    def size(self) -> int:
        """Header, SQL text, and 8 bytes each for the time and the seed when they are shipped."""
        extra = 8 * ((self.time is not None) + (self.seed is not None))
        return ENTRY_HEADER + len(self.sql.encode()) + extra

    def apply_to(self, store: SQLiteStore) -> None:
        """Run the statement again, here and now (or at the shipped time, with the shipped seed)."""
        _run(store, self.sql, self.time, self.seed)

    def __repr__(self) -> str:
        context = f", t={self.time:g}, seed={self.seed}" if self.time is not None else ""
        return f"Statement({_short(self.sql)!r}{context})"


@dataclass(frozen=True)
class RowChanges:
    """A log entry of row shipping: a changeset (each changed row's old and new values, by key)."""

    changeset: bytes

    @property
    def size(self) -> int:
        """Header and the changeset's bytes."""
        return ENTRY_HEADER + len(self.changeset)

    def apply_to(self, store: SQLiteStore) -> None:
        """Apply the row changes; a row that is not as expected stops replication (a conflict)."""
        store.apply_changeset(self.changeset)

    def rows(self) -> list[tuple[str, str, tuple | None, tuple | None]]:
        """Each row change as ``(operation, table, old values, new values)``; unchanged columns are None."""
        out = []
        for ch in apsw.Changeset.iter(self.changeset):
            out.append((ch.op, ch.name, _values(ch.old), _values(ch.new)))
        return out

    def __len__(self) -> int:
        return sum(1 for _ in apsw.Changeset.iter(self.changeset))

    def __repr__(self) -> str:
        return f"RowChanges({len(self)} rows, {len(self.changeset):,} bytes)"


@dataclass(frozen=True)
class Pages:
    """A log entry of page shipping: the database pages a change wrote, whole, and the file's length."""

    page_size: int
    npages: int
    pages: tuple[tuple[int, bytes], ...]  # (page number from 1, its bytes)

    @property
    def size(self) -> int:
        """Header and, per page, a WAL frame: 24 bytes of frame header and the page."""
        return ENTRY_HEADER + len(self.pages) * (WAL_FRAME_HEADER + self.page_size)

    def apply_to(self, store: SQLiteStore) -> None:
        """Write the pages into this node's file; another page format cannot take them."""
        if store.page_size != self.page_size:
            raise StoreError(
                f"page format mismatch: these are {self.page_size:,}-byte pages, and this node's engine "
                f"writes {store.page_size:,}-byte pages; physical changes need the same engine format"
            )
        image = bytearray(store.image())
        image[self.npages * self.page_size :] = b""
        image.extend(bytes(self.npages * self.page_size - len(image)))
        for number, data in self.pages:
            start = (number - 1) * self.page_size
            image[start : start + self.page_size] = data
        store.load_image(bytes(image))

    def __repr__(self) -> str:
        numbers = ", ".join(str(n) for n, _ in self.pages[:8]) + (", ..." if len(self.pages) > 8 else "")
        return f"Pages({len(self.pages)} of {self.page_size:,} bytes: [{numbers}])"


def _values(values: Any) -> tuple | None:
    if values is None:
        return None
    return tuple(None if v is apsw.no_change else v for v in values)


def _short(sql: str, n: int = 60) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def _run(store: SQLiteStore, sql: str, now: float | None = None, seed: int | None = None) -> None:
    # SQLite's own error (apsw's SQLError: near "LIMIT": syntax error, ...) goes up as it is: the
    # leader's client gets it as a StoreError, a follower stops replicating with it
    store.run(sql, now, seed)


# --- the methods: what the leader logs ----------------------------------------------
class StatementShipping:
    """Log the SQL text; followers run it again. ``fix``: None, ``"context"`` or ``"rewrite"``."""

    physical = False

    def __init__(self, fix: str | None = None) -> None:
        if fix not in FIXES:
            raise ConfigError(f"fix must be one of {', '.join(map(repr, FIXES))}, got {fix!r}")
        self.fix = fix
        self.name = "statement" + (f" + {fix}" if fix else "")

    def capture(self, store: SQLiteStore, sql: str) -> Statement:
        """Run ``sql`` on the leader and return what to log."""
        if self.fix == "context":
            now, seed = store.now, store.rng.getrandbits(63)
            _run(store, sql, now, seed)
            return Statement(sql, now, seed)
        if self.fix == "rewrite":
            sql = rewrite(sql, store)
        _run(store, sql)
        return Statement(sql)

    def __repr__(self) -> str:
        return f"StatementShipping(fix={self.fix!r})"


class RowShipping:
    """Log the changed rows (a changeset); followers apply them. Schema changes ship as statements."""

    physical = False
    name = "row"

    def capture(self, store: SQLiteStore, sql: str) -> RowChanges | Statement:
        """Run ``sql`` on the leader, recording the rows it changes."""
        before = store.schema_version()
        changeset = store.run_capturing(sql)
        if store.schema_version() != before:
            return Statement(sql)  # DDL: the new table's rows are made by running it, as MySQL logs DDL
        return RowChanges(changeset)

    def __repr__(self) -> str:
        return "RowShipping()"


class PageShipping:
    """Log the database pages a change wrote; followers write the same bytes into their files."""

    physical = True
    name = "physical"

    def capture(self, store: SQLiteStore, sql: str) -> Pages:
        """Run ``sql`` on the leader and return the pages whose bytes changed."""
        before = store.image()
        _run(store, sql)
        after = store.image()
        size = store.page_size
        old, new = memoryview(before), memoryview(after)
        pages = []
        for i in range(len(after) // size):
            page = new[i * size : (i + 1) * size]
            if page != old[i * size : (i + 1) * size]:
                pages.append((i + 1, bytes(page)))
        return Pages(size, len(after) // size, tuple(pages))

    def __repr__(self) -> str:
        return "PageShipping()"


def method_named(method: str, fix: str | None = None) -> StatementShipping | RowShipping | PageShipping:
    """The method called ``method`` ("statement", "row" or "physical"); ``fix`` for statements only."""
    if method == "statement":
        return StatementShipping(fix)
    if fix is not None:
        raise ConfigError(f"fix= is for statement shipping; {method!r} shipping needs none")
    if method == "row":
        return RowShipping()
    if method == "physical":
        return PageShipping()
    raise ConfigError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")


# --- rqlite's rewrite ---------------------------------------------------------------------
_TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|$))
      |(?P<string>'(?:[^']|'')*'?)
      |(?P<ident>"(?:[^"]|"")*"?|\[[^\]]*\]?|`(?:[^`]|``)*`?)
      |(?P<word>[A-Za-z_][A-Za-z_0-9$]*)
      |(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
      |(?P<punct>.)""",
    re.S | re.X,
)
_DATE_FUNCTIONS = {"date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff"}


def rewrite(sql: str, store: SQLiteStore) -> str:
    """rqlite's rewrite: ``random()``, ``randomblob(n)`` and ``'now'`` become literals drawn on the leader.

    Like rqlite, ``random()`` in an ``ORDER BY`` is left alone, and so are ``CURRENT_TIME``,
    ``CURRENT_DATE`` and ``CURRENT_TIMESTAMP``: those still run again on every node.
    """
    toks = [(m.lastgroup, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(sql)]
    code = [i for i, t in enumerate(toks) if t[0] != "space"]  # indices of non-space tokens
    out: list[tuple[int, int, str]] = []  # (start, end, replacement)
    order_by = [False]  # per parenthesis depth: inside an ORDER BY clause?
    date_depth: list[int] = []  # depths at which a date/time function's arguments are open
    for j, i in enumerate(code):
        kind, text, start, end = toks[i]
        word = text.lower() if kind == "word" else None
        nxt = [toks[k] for k in code[j + 1 : j + 5]]
        prev = toks[code[j - 1]][1].lower() if j else ""
        if text == "(":
            order_by.append(order_by[-1])
        elif text == ")":
            if date_depth and date_depth[-1] == len(order_by):
                date_depth.pop()
            if len(order_by) > 1:
                order_by.pop()
        elif word == "by" and prev == "order":
            order_by[-1] = True
        elif word in ("limit", "offset") or text == ";":
            order_by[-1] = False
        elif word == "random" and [t[1] for t in nxt[:2]] == ["(", ")"] and not order_by[-1]:
            value = store.rng.getrandbits(64) - 2**63
            out.append((start, toks[code[j + 2]][3], str(value)))
        elif word == "randomblob" and len(nxt) >= 3 and nxt[0][1] == "(" and nxt[1][0] == "number":
            if nxt[2][1] == ")":
                n = max(int(float(nxt[1][1])), 1)
                blob = store.rng.getrandbits(8 * n).to_bytes(n, "little")
                out.append((start, toks[code[j + 3]][3], f"x'{blob.hex().upper()}'"))
        elif word in _DATE_FUNCTIONS and nxt and nxt[0][1] == "(":
            date_depth.append(len(order_by) + 1)
        elif kind == "string" and text.lower() == "'now'" and date_depth:
            out.append((start, end, repr(store.julian_now())))
    for start, end, new in reversed(out):
        sql = sql[:start] + new + sql[end:]
    return sql


__all__ = [
    "Statement",
    "RowChanges",
    "Pages",
    "StatementShipping",
    "RowShipping",
    "PageShipping",
    "method_named",
    "rewrite",
    "METHODS",
    "FIXES",
    "WAL_FRAME_HEADER",
]
