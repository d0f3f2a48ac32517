"""A node's data as a real SQLite database, whose clock and randomness come from the simulation.

Built on `apsw <https://rogerbinns.github.io/apsw/>`_ rather than Python's ``sqlite3``:

- its wheels bundle one SQLite (3.54.1 here), so every machine runs the same SQLite and the
  page bytes and changeset sizes a lesson quotes are the same everywhere (``sqlite3`` uses
  whatever SQLite the Python was built with);
- it exposes SQLite's session extension, which records row changes as *changesets*: SQLite's
  own logical change format, the real mechanism behind row shipping (``replsim.stores.shipping``);
- it lets Python provide a virtual file system (VFS), and a VFS is where SQLite reads the
  time for ``'now'``: so ``datetime('now')`` and ``CURRENT_TIMESTAMP`` read *virtual* time,
  without re-implementing SQLite's date functions.

apsw 3.54 needs Python >= 3.11 (as ``sqlite3``'s ``serialize()`` would). Its SQLite is built
without ``SQLITE_ENABLE_UPDATE_DELETE_LIMIT``, so ``DELETE ... LIMIT n`` is a syntax error here
(Debian's ``sqlite3`` accepts it); ``WHERE id IN (SELECT id ... LIMIT n)`` works everywhere.

Never the wall clock or the OS's random source: virtual time 0 is :data:`EPOCH`, and
``random()`` / ``randomblob(n)`` draw from the node's own seeded stream
(``sim.stream("sqlite:<node>")``), or from a seed a statement carries.
"""

from __future__ import annotations

import copy
import hashlib
import random
import struct
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import apsw
import apsw.ext

from ..errors import ConfigError, StoreError
from .shipping import StatementShipping, method_named

EPOCH = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
"""The moment virtual time 0 stands for: what ``datetime('now')`` says at the start of a run."""

PAGE_SIZES = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
_EPOCH_S = EPOCH.timestamp()
_UNIX_JD_MS = 210_866_760_000_000  # the Unix epoch as milliseconds since the Julian day epoch
_clock = [0.0]  # the virtual time SQLite's 'now' reads (set before every statement)
_vfs: apsw.VFS | None = None


class _ClockVFS(apsw.VFS):
    """The default file system, except that the time comes from :data:`_clock` (virtual seconds)."""

    def __init__(self) -> None:
        super().__init__("replsim-clock", "")

    def xCurrentTimeInt64(self) -> int:  # noqa: N802 (SQLite's name)
        return _UNIX_JD_MS + round((_EPOCH_S + _clock[0]) * 1000)

    def xCurrentTime(self) -> float:  # noqa: N802
        return 2440587.5 + (_EPOCH_S + _clock[0]) / 86400.0


def _clock_vfs() -> str:
    global _vfs
    if _vfs is None:
        _vfs = _ClockVFS()
    return "replsim-clock"


def julian_day(now: float) -> float:
    """Virtual time ``now`` (seconds) as the Julian day number SQLite's date functions take."""
    return 2440587.5 + (_EPOCH_S + now) / 86400.0


def page_size_of(image: bytes) -> int:
    """The page size written in a SQLite database file's header (bytes 16-17; 1 means 65,536)."""
    size = struct.unpack(">H", image[16:18])[0]
    return 65536 if size == 1 else size


def _per_node(value: Any, node: str | None, default: Any) -> Any:
    """A setting given for every node, or as ``{node name: value}`` (others get ``default``)."""
    if isinstance(value, dict):
        return value.get(node, default)
    return value


class SQLiteStore:
    """A real SQLite database (in memory) holding one node's data.

    ``schema``: SQL every node runs when it is created (its tables exist before any
    replication, like a subscriber's tables in PostgreSQL's logical replication).
    ``method``: how the leader turns a client's SQL into a log entry (a
    ``replsim.stores.shipping`` method; default: statement shipping). ``page_size``: the page
    format of this node's database file (one value, or ``{node: value}``).
    ``reverse_unordered_selects``: True (or a collection of node names) turns on
    SQLite's pragma of that name, which returns rows in the opposite of their usual
    order wherever the SQL leaves the order unspecified, and (except under physical
    shipping) gives each table an index on its key in descending order, which a scan
    that needs only the key reads newest first, even under ``ORDER BY random()``: a
    stand-in for a node that stores or indexes its rows differently.

    A client's change is ``("sql", text)``; log entries are whatever the method records.
    """

    def __init__(
        self,
        schema: str = "",
        *,
        method: Any = None,
        page_size: int | dict[str, int] = 4096,
        reverse_unordered_selects: bool | Iterable[str] = False,
    ) -> None:
        if not isinstance(schema, str):
            raise ConfigError(f"schema must be SQL text, got {schema!r}")
        sizes = page_size.values() if isinstance(page_size, dict) else [page_size]
        for s in sizes:
            if s not in PAGE_SIZES:
                raise ConfigError(f"page_size must be one of {PAGE_SIZES} bytes, got {s!r}")
        if not isinstance(reverse_unordered_selects, bool):
            if isinstance(reverse_unordered_selects, str):
                reverse_unordered_selects = [reverse_unordered_selects]
            reverse_unordered_selects = frozenset(reverse_unordered_selects)
        if method is None:
            method = StatementShipping()
        self.schema = schema
        self.method = method
        self._page_sizes = page_size
        self._reverse = reverse_unordered_selects
        self.node: str | None = None
        self.sim: Any = None
        self.rng = random.Random("sqlite")
        self._draw = self.rng  # the generator random() reads now (a statement's seed may replace it)
        self._image: bytes | None = None
        self.db = self._open()

    # --- setting up ---------------------------------------------------------
    def bind(self, node: str, sim: Any) -> None:
        """Belong to ``node`` in simulation ``sim``: its clock, its random stream, its settings."""
        self.node, self.sim = node, sim
        self.rng = self._draw = sim.stream(f"sqlite:{node}")
        self.db = self._open()

    @property
    def page_size(self) -> int:
        """The page size of this node's database file, in bytes."""
        return _per_node(self._page_sizes, self.node, 4096)

    @property
    def reverse(self) -> bool:
        """Whether this node returns rows in reverse wherever their order is unspecified."""
        r = self._reverse
        return r if isinstance(r, bool) else self.node in r

    @property
    def now(self) -> float:
        """Virtual time, in seconds (0 if the store belongs to no simulation)."""
        return self.sim.now if self.sim is not None else 0.0

    def _open(self, image: bytes | None = None, schema: bool = True) -> apsw.Connection:
        db = apsw.Connection(":memory:", vfs=_clock_vfs())
        db.create_scalar_function("random", self._random, 0)
        db.create_scalar_function("randomblob", self._randomblob, 1)
        if image is None:
            db.execute(f"PRAGMA page_size = {self.page_size}")
            if self.schema and schema:
                _clock[0] = self.now
                db.execute(self.schema)
        else:
            db.deserialize("main", image)
        if self.reverse:
            db.execute("PRAGMA reverse_unordered_selects = ON")
            if image is None and schema and not getattr(self.method, "physical", False):
                _index_newest_first(db)
        self._image = None
        return db

    def _random(self) -> int:
        return self._draw.getrandbits(64) - 2**63

    def _randomblob(self, n: Any) -> bytes:
        n = max(int(n) if isinstance(n, (int, float)) else 1, 1)
        return self._draw.getrandbits(8 * n).to_bytes(n, "little")

    # --- running SQL ----------------------------------------------------------
    @contextmanager
    def context(self, now: float | None = None, seed: int | None = None):
        """Run SQL as of virtual time ``now`` (default: this node's now) with ``random()`` seeded
        by ``seed`` (default: this node's own stream)."""
        _clock[0] = self.now if now is None else now
        self._draw = self.rng if seed is None else random.Random(seed)
        try:
            yield self.db
        finally:
            self._draw = self.rng

    def run(self, sql: str, now: float | None = None, seed: int | None = None) -> None:
        """Run ``sql`` (one or more statements) as one atomic change: all of it, or none of it."""
        with self.context(now, seed) as db:
            self._image = None
            with db:  # a savepoint: an error undoes every statement of the text
                for _ in db.execute(sql):
                    pass

    def run_capturing(self, sql: str) -> bytes:
        """Run ``sql`` like :meth:`run`, recording the rows it changes as a changeset (session extension)."""
        session = apsw.Session(self.db, "main")
        session.attach()
        try:
            self.run(sql)
            return session.changeset()
        finally:
            session.close()

    def apply_changeset(self, changeset: bytes) -> None:
        """Apply row changes from another node; a row that is not as the changeset expects is a conflict."""
        conflicts: list[str] = []

        def conflict(reason: int, change: apsw.TableChange) -> int:
            kind = apsw.mapping_session_conflict.get(reason, reason)
            conflicts.append(f"{kind} on {change.op} of {change.name} row {change.old or change.new}")
            return apsw.SQLITE_CHANGESET_ABORT

        self._image = None
        try:
            with self.context():
                apsw.Changeset.apply(changeset, self.db, conflict=conflict)
        except apsw.Error as exc:
            why = "; ".join(conflicts) or f"{type(exc).__name__}: {exc}"
            raise StoreError(f"row changes do not fit this database: {why}") from None

    def schema_version(self) -> int:
        """SQLite's schema cookie: it changes whenever a table or index is created, altered or dropped."""
        return self.db.execute("PRAGMA schema_version").fetchall()[0][0]

    def is_read(self, sql: str) -> bool:
        """True if every statement in ``sql`` only reads (a SELECT changes nothing to replicate)."""
        rest: str | None = sql
        while rest and rest.strip():
            info = apsw.ext.query_info(self.db, rest)
            if not info.is_readonly:
                return False
            rest = info.query_remaining
        return True

    # --- pages ----------------------------------------------------------------
    def image(self) -> bytes:
        """The database file's bytes (all its pages)."""
        if self._image is None:
            self._image = self.db.serialize("main") or b""
        return self._image

    def load_image(self, image: bytes) -> None:
        """Replace the database by the file ``image`` (same page format as this node's)."""
        self.db.deserialize("main", image)
        self._image = image

    # --- the Store interface ----------------------------------------------------
    def execute(self, request: Any) -> Any:
        """Leader: run a client's ``("sql", text)`` and return the change to log (the method decides)."""
        sql = _sql_of(request)
        if self.is_read(sql):
            raise StoreError(
                "that SQL only reads, so there is nothing to replicate; "
                "ask a node with store.query(...) (or a client's read) instead"
            )
        return self.method.capture(self, sql)

    def apply(self, change: Any) -> None:
        """Apply one log entry (a statement, row changes or pages): all of it or, raising, none of it."""
        change.apply_to(self)

    def size(self, change: Any) -> int:
        """The bytes the entry takes in the log and on the wire."""
        return change.size

    def verb(self, change: Any) -> str:
        """The SQL command of a client's change (``"UPDATE"``...), for a read-only refusal."""
        text = getattr(change, "sql", None) or (change[1] if isinstance(change, tuple) else "")
        words = str(text).split(None, 1)
        return words[0].upper() if words else "SQL"

    def read(self, query: Any) -> list[tuple]:
        """A client's read: the rows of a SELECT."""
        return self.query(query)

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        """The rows a read-only query returns on this node's database."""
        if not isinstance(sql, str):
            raise StoreError(f"a read on a SQLite node is a SELECT (text), got {sql!r}")
        try:
            if not self.is_read(sql):
                raise StoreError("query() only reads; send changes to the leader (Cluster.execute)")
            with self.context() as db:
                return db.execute(sql, tuple(params)).fetchall()
        except apsw.Error as exc:
            raise StoreError(f"{type(exc).__name__}: {exc}") from None

    def snapshot(self) -> bytes:
        """A copy of the whole database: its file's bytes (like ``pg_basebackup``)."""
        return self.image()

    def restore(self, snapshot: bytes) -> None:
        """Replace the whole database by a snapshot.

        Same page format: the bytes are taken as they are. Another page format: a
        physical method cannot use them (raises); the others copy the rows table by table.
        """
        if page_size_of(snapshot) == self.page_size:
            self.load_image(snapshot)
            return
        if getattr(self.method, "physical", False):
            raise StoreError(
                f"the copy has {page_size_of(snapshot):,}-byte pages and this node's engine writes "
                f"{self.page_size:,}-byte pages: a physical copy needs the same page format"
            )
        self._copy_rows(snapshot)

    def _copy_rows(self, snapshot: bytes) -> None:
        """Rebuild this database (in its own page format) from the tables of another's file."""
        db = self._open(schema=False)
        db.execute("ATTACH ':memory:' AS copy")
        db.deserialize("copy", snapshot)
        with db:
            for name, sql in db.execute(
                "SELECT name, sql FROM copy.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall():
                db.execute(sql)
                db.execute(f'INSERT INTO main."{name}" SELECT * FROM copy."{name}"')
            for (sql,) in db.execute(
                "SELECT sql FROM copy.sqlite_schema "
                "WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL"
            ).fetchall():
                db.execute(sql)
        db.execute("DETACH copy")
        self.db = db

    def snapshot_size(self, snapshot: bytes) -> int:
        """The bytes of the database file."""
        return len(snapshot)

    def tables(self) -> list[str]:
        """The names of the user tables, sorted."""
        rows = self.db.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        return [r[0] for r in rows]

    def items(self) -> dict[tuple[str, Any], tuple]:
        """Every row, by ``(table, primary key)``: what ``Cluster.divergence`` compares."""
        out: dict[tuple[str, Any], tuple] = {}
        for t in self.tables():
            cols = self.db.execute(f'PRAGMA table_info("{t}")').fetchall()
            pk = [c[1] for c in sorted(cols, key=lambda c: c[5]) if c[5] > 0]
            key_sql = ", ".join(f'"{c}"' for c in pk) if pk else "rowid"
            n = len(pk) if pk else 1
            for row in self.db.execute(f'SELECT {key_sql}, * FROM "{t}" ORDER BY {key_sql}'):
                key = row[0] if n == 1 else tuple(row[:n])
                out[(t, key)] = tuple(row[n:])
        return out

    def digest(self) -> str:
        """SHA-1 of every table's rows in key order (12 hex digits): equal data, equal digests."""
        h = hashlib.sha1()
        for key, row in self.items().items():
            h.update(repr((key, row)).encode())
        return h.hexdigest()[:12]

    def page_digest(self) -> str:
        """SHA-1 of the database file's bytes (12 hex digits): equal only for byte-identical copies."""
        return hashlib.sha1(self.image()).hexdigest()[:12]

    def julian_now(self) -> float:
        """The node's virtual time as the Julian day number SQLite's date functions take."""
        return julian_day(self.now)

    def fresh(self) -> SQLiteStore:
        """A new store of the same kind and settings, for the same node (schema only, no rows)."""
        new = SQLiteStore(
            self.schema,
            method=self.method,
            page_size=self._page_sizes,
            reverse_unordered_selects=self._reverse,
        )
        if self.sim is not None:
            new.bind(self.node, self.sim)  # type: ignore[arg-type]
        return new

    def __deepcopy__(self, memo: dict) -> SQLiteStore:
        """A copy for ``Cluster.fork``: same settings, same bytes, the fork's clock and stream."""
        new = SQLiteStore.__new__(SQLiteStore)
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k not in ("db", "_draw", "_image"):
                setattr(new, k, copy.deepcopy(v, memo))
        new._draw = new.rng
        new._image = None
        new.db = new._open(self.image())
        return new

    def __repr__(self) -> str:
        where = f" of {self.node!r}" if self.node else ""
        return f"SQLiteStore({self.method.name}{where}, {len(self.image()):,} bytes)"


def _index_newest_first(db: apsw.Connection) -> None:
    """Give every table with an integer primary key an index on it in descending order.

    A scan that needs only the key (``SELECT id FROM t ORDER BY random()``) then reads the rows
    newest first, as a replica with other indexes or another planner may: the same seed then
    draws the same numbers for different rows. Not for physical shipping, whose followers must
    hold the leader's pages and nothing else.
    """
    tables = db.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    for (t,) in tables.fetchall():
        pk = [c for c in db.execute(f'PRAGMA table_info("{t}")').fetchall() if c[5] > 0]
        if len(pk) == 1 and pk[0][2].upper() == "INTEGER":
            db.execute(f'CREATE INDEX "{t}_newest_first" ON "{t}" ("{pk[0][1]}" DESC)')


def _sql_of(request: Any) -> str:
    """The SQL text of a client's change ``("sql", text)``."""
    if isinstance(request, tuple) and len(request) == 2 and request[0] == "sql":
        if isinstance(request[1], str):
            return request[1]
    raise StoreError(
        f"a SQLite node takes SQL: use cluster.execute('UPDATE ...'), not a key-value write {request!r}"
    )


def sqlite_version() -> str:
    """The version of the SQLite every node runs."""
    return apsw.sqlite_lib_version()


def compile_options() -> list[str]:
    """The options that SQLite was built with (``PRAGMA compile_options``)."""
    db = apsw.Connection(":memory:")
    return [r[0] for r in db.execute("PRAGMA compile_options")]


def sql_store(
    method: str = "row",
    *,
    schema: str = "",
    fix: str | None = None,
    page_size: int | dict[str, int] = 4096,
    reverse_unordered_selects: bool | Iterable[str] = False,
):
    """A store factory for ``Cluster(store=...)``: every node a SQLite database, replicated by ``method``.

    ``schema`` runs on every node when it is created. ``page_size`` and
    ``reverse_unordered_selects`` may name nodes: ``page_size={"replica-2": 8192}``.
    """
    chosen = method_named(method, fix)
    SQLiteStore(schema, method=chosen, page_size=page_size)  # check the settings now, not per node

    def make() -> SQLiteStore:
        return SQLiteStore(
            schema, method=chosen, page_size=page_size, reverse_unordered_selects=reverse_unordered_selects
        )

    make.__doc__ = f"A SQLite node replicated by {chosen.name} shipping."
    return make
