"""Real PostgreSQL for lesson 8: a primary and streaming standbys on 127.0.0.1, in temporary folders.

Typical use::

    with PgCluster(standbys=2) as pg:          # primary, standby-1, standby-2
        pg.write("primary", range(1, 101))      # 100 acknowledged rows
        pg.wait_caught_up("standby-1")
        len(pg.read("standby-1"))               # -> 100

How it runs
    * Binaries: the folder named by ``REPLSIM_PG_BIN`` (holding initdb, pg_ctl, postgres,
      pg_basebackup, pg_rewind) if set, else the PostgreSQL 16 shipped in the ``pgserver`` wheel
      (``pgserver/pginstall/bin``; pgserver's own server API is not used).
    * User: PostgreSQL refuses to run as root, and this module never works around that check.
      When Python runs as root, every PostgreSQL program runs as the unprivileged system user named
      by ``REPLSIM_PG_USER`` (default ``replsim-pg``). If that user does not exist it is created with
      ``useradd --system --no-create-home --shell /usr/sbin/nologin replsim-pg``. If it cannot read
      the binaries (say, a venv under /root), they are copied once to a temporary folder it can read.
      Otherwise the servers run as the current user.
    * Network: each server listens on 127.0.0.1 only, on a free port picked at start. The unix
      sockets sit in a mode 0700 folder, and pg_hba.conf has no line for them.
    * Passwords: each lab makes a random superuser password (``secrets.token_urlsafe``); pg_hba.conf
      accepts only 127.0.0.1/32 with scram-sha-256 (no ``trust`` anywhere), so another user of the
      machine cannot connect. The password is never on a command line nor printed: initdb reads it
      from a mode 0600 file deleted right after; the lab's own connections pass it to libpq in
      memory; pg_basebackup, pg_rewind and the standbys' WAL receivers read it from the lab's
      passfile (mode 0600, owned by the server user, named by ``passfile=`` in their conninfo).
    * Clean-up: ``close()`` (also run by ``__exit__``, by a weakref finalizer at interpreter or
      kernel exit, and by a ``start()`` that fails half-way) stops every server and removes the
      temporary folder. A process killed outright (SIGKILL) cannot clean up: the next ``start()``
      stops the servers of any lab whose Python process is gone.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, NodeDownError, NodeStateError, ReadOnlyError, ReplsimError, UnknownNodeError
from .binaries import PostgresError, Runner, install_hint, runner, unavailable_reason
from .cleanup import OWNER_FILE, PREFIX, alive, listen_sockets, pids_with_cwd_under, reap_orphans, shutdown
from .lag import PRIMARY, LagSample, ReplicationRow, sample_lag

__all__ = [
    "PgCluster",
    "Server",
    "ReplicationRow",
    "LagSample",
    "PostgresError",
    "SqlError",
    "sample_lag",
    "unavailable_reason",
    "install_hint",
]

STANDBY = "standby"
SUPERUSER = "postgres"
CONNECT = {"autocommit": True, "connect_timeout": 5, "sslmode": "disable", "gssencmode": "disable"}
PASSFILE = "pgpass"  # the lab's libpq password file, inside the lab's folder (for the server-side tools)
PWFILE = "initdb.pw"  # the superuser password for initdb --pwfile; deleted as soon as initdb is done
LOG_TAIL_LINES = 15
# how far a server's WAL goes: what a primary has written, or what a standby has replayed
WAL_END = "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END"
# extra settings for every server (standbys copy them from the primary with pg_basebackup)
SETTINGS = """
# --- replsim lab ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockets}'
wal_log_hints = on
shared_buffers = 32MB
max_connections = 40
wal_receiver_status_interval = 1s
wal_keep_size = 256MB  # a rewound server replays from its last checkpoint before the fork: keep that WAL
"""
HBA = """# replsim lab: the loopback address only, with the lab's password (client, replication, pg_rewind)
host all all 127.0.0.1/32 scram-sha-256
host replication all 127.0.0.1/32 scram-sha-256
"""
HINTS = {
    "could not bind": "another program took the port; start the cluster again",
    "has already been removed": "the WAL this server needs is gone; raise wal_keep_size, or rebuild it",
    "shared memory": "the machine is short of shared memory; close other servers or lower shared_buffers",
    "Permission denied": "the server user cannot read a file; check its access to REPLSIM_PG_BIN",
    '"root" execution': "PostgreSQL cannot run as root; set REPLSIM_PG_USER to an unprivileged user",
}


class SqlError(ReplsimError):
    """PostgreSQL refused a statement; ``sqlstate`` holds its five-character error code."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@dataclass
class Server:
    """One server of the lab: a fixed name, its port and data folder, and its current role."""

    name: str
    port: int
    datadir: Path
    role: str = PRIMARY
    upstream: str | None = None  # the server a standby streams from; None when cut off
    running: bool = False
    pid: int | None = None  # the postmaster's process id while running

    @property
    def slot(self) -> str:
        """The replication slot this server uses on its upstream."""
        return self.name.replace("-", "_")

    @property
    def conninfo(self) -> str:
        """A libpq connection string for this server (TCP loopback, superuser)."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"


# ---------------------------------------------------------------- small helpers


def _free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file, or a note that there is none."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def _hint(text: str) -> str:
    """A fix for the first known problem mentioned in a log or an error text."""
    for needle, fix in HINTS.items():
        if needle in text:
            return f"fix: {fix}"
    return "fix: read the log above; PostgreSQL says what it needs"


def _conn_value(value: str | Path) -> str:
    """A value quoted for a libpq connection string."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _seconds(value: Any) -> float | None:
    """An interval column (a timedelta, or None when idle) as seconds."""
    return None if value is None else value.total_seconds()


# ---------------------------------------------------------------- the cluster


class PgCluster:
    """A real PostgreSQL primary with asynchronous streaming standbys, on 127.0.0.1 only.

    Servers keep their names ("primary", "standby-1", ...) whatever their role becomes;
    ``servers[name].role`` says what each one is now.
    """

    def __init__(self, standbys: int = 2) -> None:
        if not isinstance(standbys, int) or standbys < 0:
            raise ConfigError(f"standbys must be a whole number >= 0, got {standbys!r}")
        self.standbys = standbys
        self.servers: dict[str, Server] = {}
        self.root: Path | None = None
        self.startup_seconds: float | None = None
        self._password: str | None = None  # the superuser's password: never printed, never on a command line
        self._runner: Runner | None = None
        self._finalizer: weakref.finalize | None = None

    def __repr__(self) -> str:
        roles = ", ".join(
            f"{n}: {s.role}{'' if s.running else ' (stopped)'}" for n, s in self.servers.items()
        )
        return f"PgCluster({roles or 'not started'})"

    def __enter__(self) -> PgCluster:
        return self if self.servers else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- life cycle

    def start(self, progress: Callable[[str], Any] | None = None) -> PgCluster:
        """Create, start and connect the primary and its standbys; on any failure stop what was started.

        ``progress`` (for example ``print``) is told each step as it begins: starting takes seconds.
        """
        if self.root is not None:
            raise NodeStateError("this cluster was already started; make a new PgCluster, or restart() it")
        say = progress or (lambda _text: None)
        began = time.monotonic()
        self._runner = run = runner()
        reap_orphans(run)
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        self._finalizer = weakref.finalize(self, shutdown, run, self.servers, self.root)
        try:
            (self.root / OWNER_FILE).write_text(str(os.getpid()))
            run.own(self.root)
            sockets = self.root / "sockets"
            sockets.mkdir(mode=0o700)
            run.own(sockets)
            self._password = secrets.token_urlsafe(24)  # letters, digits, - and _: nothing to escape
            run.write_private(self.root / PASSFILE, f"*:*:*:{SUPERUSER}:{self._password}\n")
            say("creating and starting the primary (initdb, pg_ctl start)")
            primary = self._init_primary(sockets)
            self._start(primary, fresh=True)
            self.sql(PRIMARY, "CREATE TABLE kv (k int PRIMARY KEY, v text NOT NULL)")
            names = [f"standby-{i}" for i in range(1, self.standbys + 1)]
            for name in names:
                say(f"copying the primary into {name} (pg_basebackup) and starting it")
                self._clone(name, primary)
            say("waiting for every standby to stream from the primary")
            for name in names:
                self._wait(lambda n=name: self._streaming(PRIMARY, n), f"{name} to stream from the primary")
        except BaseException:
            self.close()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def close(self) -> None:
        """Stop every server and remove the temporary folders (safe to call twice)."""
        if self._finalizer is not None:
            self._finalizer()

    @property
    def closed(self) -> bool:
        """True once close() has run (or before start())."""
        return self._finalizer is None or not self._finalizer.alive

    def restart(self, progress: Callable[[str], Any] | None = None) -> PgCluster:
        """Close the lab if it runs, then start a fresh one: new servers, new data, the same names."""
        self.close()
        self.servers, self.root, self._finalizer, self.startup_seconds = {}, None, None, None
        return self.start(progress)

    def _init_primary(self, sockets: Path) -> Server:
        """initdb the primary's data folder and write its settings and pg_hba.conf."""
        server = self.servers[PRIMARY] = Server(PRIMARY, _free_port(), self.root / PRIMARY)
        pwfile = self.root / PWFILE
        self._runner.write_private(pwfile, self._password + "\n")
        args = ["-D", server.datadir, "-U", SUPERUSER, f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"]
        try:
            done = self._runner.run(
                "initdb", *args, "--auth-host=scram-sha-256", "--auth-local=peer", "--no-sync", cwd=self.root
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self._check(done, "initdb", server)
        with open(server.datadir / "postgresql.conf", "a") as conf:
            conf.write(SETTINGS.format(sockets=sockets))
        (server.datadir / "pg_hba.conf").write_text(HBA)
        return server

    def _clone(self, name: str, upstream: Server) -> Server:
        """pg_basebackup a new standby from upstream (with a replication slot) and start it."""
        server = self.servers[name] = Server(name, _free_port(), self.root / name, STANDBY, upstream.name)
        # -R writes primary_conninfo from this conninfo: with passfile=, the standby's WAL receiver finds
        # the password in the lab's passfile (the password itself is in neither argv nor the config)
        conninfo = self._tool_conninfo(upstream)
        args = ["-D", server.datadir, "-d", conninfo, "-R", "-X", "stream", "-C", "-S", server.slot]
        done = self._runner.run("pg_basebackup", *args, "--checkpoint=fast", "--no-sync", cwd=self.root)
        self._check(done, "pg_basebackup", server)
        self._start(server, fresh=True)
        return server

    def _start(self, server: Server, fresh: bool = False) -> None:
        """pg_ctl start one server; a fresh server gets a new port if its first one was taken meanwhile."""
        for attempt in range(3):
            opts = f"-p {server.port} -c cluster_name={server.name}"
            log = self.root / f"{server.name}.log"
            args = ["start", "-D", server.datadir, "-l", log, "-w", "-t", "30", "-o", opts]
            done = self._runner.run("pg_ctl", *args, cwd=self.root)
            if done.returncode == 0:
                break
            if not (fresh and attempt < 2 and "could not bind" in _tail(log, 5)):
                self._check(done, "pg_ctl start", server)
            server.port = _free_port()
        server.running = True
        server.pid = int((server.datadir / "postmaster.pid").read_text().split()[0])

    def _check(self, done: subprocess.CompletedProcess, what: str, server: Server) -> None:
        """Raise PostgresError with the program's output, the server log tail and a fix, if it failed."""
        if done.returncode == 0:
            return
        log = self.root / f"{server.name}.log"
        said = (done.stderr or done.stdout).strip()
        raise PostgresError(
            f"{what} failed for {server.name} (exit status {done.returncode}): {said}\n"
            f"--- server log ({log}), last lines ---\n{_tail(log)}\n{_hint(said + _tail(log))}"
        )

    def _tool_conninfo(self, server: Server) -> str:
        """A conninfo for pg_basebackup, pg_rewind and primary_conninfo (password: from the passfile)."""
        return f"{server.conninfo} passfile={_conn_value(self.root / PASSFILE)}"

    def _wait(self, ready: Callable[[], Any], what: str, timeout: float = 15.0) -> None:
        """Poll ready() every 20 ms until it is true; NodeStateError after timeout seconds."""
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise NodeStateError(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(0.02)

    def _streaming(self, upstream: str, standby: str) -> bool:
        """True if upstream's pg_stat_replication shows standby streaming."""
        return any(r.standby == standby and r.state == "streaming" for r in self.replication_status(upstream))

    # ---- handles and queries

    def __getitem__(self, name: str) -> Server:
        """The server called name (UnknownNodeError otherwise)."""
        if name not in self.servers:
            known = ", ".join(self.servers) or "none: the cluster is not started"
            raise UnknownNodeError(f"no server named {name!r}; the servers are: {known}")
        return self.servers[name]

    def _running(self, name: str) -> Server:
        if self.servers and self.closed:
            raise NodeDownError(
                "the lab is stopped (closed); restart() starts a fresh one (the panel: Restart lab)"
            )
        server = self[name]
        if not server.running:
            raise NodeDownError(
                f"{name} is not running (crashed or stopped); start it with recover({name!r})"
            )
        return server

    @contextmanager
    def _session(self, name: str) -> Iterator[Callable[..., list[tuple]]]:
        """Connect to a server; yield run(query, params), which maps PostgreSQL's errors to replsim's."""
        server = self._running(name)
        import psycopg  # imported on first use: the lab module imports even where psycopg is missing

        try:
            conn = psycopg.connect(server.conninfo, password=self._password, **CONNECT)
        except psycopg.OperationalError as err:
            raise NodeDownError(f"{name} does not answer: {str(err).strip()}") from err

        def run(query: str, params: Iterable[Any] | None = None) -> list[tuple]:
            try:
                cur = conn.execute(query, params)
            except psycopg.errors.ReadOnlySqlTransaction as err:
                raise ReadOnlyError(err.diag.message_primary) from err
            except psycopg.OperationalError as err:
                raise NodeDownError(f"{name} stopped answering: {str(err).strip()}") from err
            except psycopg.Error as err:
                raise SqlError(f"{name}: {err.diag.message_primary or err}", err.sqlstate) from err
            return cur.fetchall() if cur.description else []

        with conn:
            yield run

    def sql(self, name: str, query: str, params: Iterable[Any] | None = None) -> list[tuple]:
        """Run one statement on a server (autocommit) and return its rows ([] if it returns none)."""
        with self._session(name) as run:
            return run(query, params)

    def write(self, name: str, keys: Iterable[int], value: str = "v", every: float = 0.0) -> list[int]:
        """Upsert (key, value) into table kv, one committed transaction per key; return the keys acknowledged.

        ``every`` seconds pass between two writes (0: as fast as possible).
        """
        done: list[int] = []
        with self._session(name) as run:
            for k in keys:
                if done and every:
                    time.sleep(every)
                run("INSERT INTO kv VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v", (k, value))
                done.append(k)
        return done

    def read(self, name: str) -> dict[int, str]:
        """Every (key, value) of table kv on one server, by key."""
        return dict(self.sql(name, "SELECT k, v FROM kv ORDER BY k"))

    def in_recovery(self, name: str) -> bool:
        """True if the server is a standby (PostgreSQL's pg_is_in_recovery())."""
        return self.sql(name, "SELECT pg_is_in_recovery()")[0][0]

    def replication_status(self, name: str = PRIMARY) -> list[ReplicationRow]:
        """pg_stat_replication on a server: one row per standby streaming from it, by standby name."""
        rows = self.sql(
            name,
            f"""SELECT application_name, state, sent_lsn::text, write_lsn::text, flush_lsn::text,
                       replay_lsn::text, write_lag, flush_lag, replay_lag, sync_state,
                       pg_wal_lsn_diff({WAL_END}, replay_lsn)::bigint
                FROM pg_stat_replication ORDER BY application_name""",
        )
        return [
            ReplicationRow(r[0], r[1], r[2], r[3], r[4], r[5], *map(_seconds, r[6:9]), r[9], r[10] or 0)
            for r in rows
        ]

    def wait_caught_up(self, name: str, timeout: float = 15.0) -> None:
        """Wait until a standby has replayed everything its upstream has written so far."""
        server = self._running(name)
        if server.role != STANDBY or server.upstream is None:
            raise NodeStateError(
                f"{name} is not a connected standby (role {server.role}); nothing to catch up"
            )
        target = self.sql(server.upstream, f"SELECT {WAL_END}")[0][0]
        query = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s::pg_lsn) >= 0"
        self._wait(lambda: self.sql(name, query, (target,))[0][0], f"{name} to catch up", timeout)

    def timeline(self, name: str) -> int:
        """The server's timeline id (forces a CHECKPOINT, then reads pg_control_checkpoint())."""
        self.sql(name, "CHECKPOINT")
        return self.sql(name, "SELECT timeline_id FROM pg_control_checkpoint()")[0][0]

    # ---- breaking and repairing

    def disconnect_standby(self, name: str) -> None:
        """Stop a standby's WAL receiver (primary_conninfo = '' and reload), so it falls behind."""
        server = self._running(name)
        if server.role != STANDBY:
            raise NodeStateError(f"{name} is a {server.role}, not a standby; only a standby can be cut off")
        self.sql(name, "ALTER SYSTEM SET primary_conninfo = ''")
        self.sql(name, "SELECT pg_reload_conf()")
        self._wait(lambda: not self.sql(name, "SELECT 1 FROM pg_stat_wal_receiver"), f"{name} to disconnect")
        upstream, server.upstream = server.upstream, None
        if upstream and self.servers[upstream].running:
            self._wait(lambda: not self._streaming(upstream, name), f"{upstream} to drop {name}")

    def pause_replay(self, name: str) -> None:
        """Pause a standby's replay (``pg_wal_replay_pause()``): it keeps receiving WAL but applies none,
        so its replay lag grows with every write on the primary."""
        self._standby(name)
        self.sql(name, "SELECT pg_wal_replay_pause()")

    def resume_replay(self, name: str) -> None:
        """Resume a paused standby's replay (``pg_wal_replay_resume()``): it applies what it received."""
        self._standby(name)
        self.sql(name, "SELECT pg_wal_replay_resume()")

    def replay_paused(self, name: str) -> bool:
        """True if the standby's replay is paused (or being paused)."""
        self._standby(name)
        return self.sql(name, "SELECT pg_get_wal_replay_pause_state()")[0][0] != "not paused"

    def _standby(self, name: str) -> Server:
        server = self._running(name)
        if not self.in_recovery(name):
            raise NodeStateError(f"{name} is a primary, not a standby; only a standby replays WAL")
        return server

    def crash(self, name: str) -> None:
        """Kill a server without a shutdown checkpoint (``pg_ctl stop -m immediate``).

        A crash of the server's processes, not a power cut: the OS and its disk cache survive.
        """
        self._stop(name, "immediate")

    def stop(self, name: str) -> None:
        """Stop a server cleanly (pg_ctl stop -m fast)."""
        self._stop(name, "fast")

    def _stop(self, name: str, mode: str) -> None:
        server = self._running(name)
        done = self._runner.run(
            "pg_ctl", "stop", "-D", server.datadir, "-m", mode, "-w", "-t", "30", cwd=self.root
        )
        self._check(done, f"pg_ctl stop -m {mode}", server)
        server.running, server.pid = False, None

    def recover(self, name: str) -> None:
        """Start a stopped server again, in the role its data folder holds (an old primary: as a primary)."""
        server = self[name]
        if server.running:
            raise NodeStateError(f"{name} is already running")
        self._start(server)

    def promote(self, name: str, wait: bool = True) -> None:
        """Turn a standby into a primary with pg_promote(); it starts a new timeline."""
        server = self._running(name)
        if server.role != STANDBY or not self.in_recovery(name):
            raise NodeStateError(f"{name} is a {server.role}, not a standby; only a standby can be promoted")
        if not self.sql(name, "SELECT pg_promote(wait => %s, wait_seconds => 30)", (wait,))[0][0]:
            raise NodeStateError(f"{name} did not finish promotion within 30 s; see {self.root / name}.log")
        server.role, server.upstream = PRIMARY, None

    def rewind(self, name: str, source: str) -> None:
        """pg_rewind a stopped server onto source's timeline (dropping what only it had) and start it as
        source's standby."""
        server, src = self[name], self._running(source)
        if server.running:
            raise NodeStateError(
                f"{name} is running; pg_rewind needs it stopped cleanly first: stop({name!r})"
            )
        if src.role != PRIMARY or name == source:
            raise NodeStateError(
                f"the rewind source must be another running primary; {source} is a {src.role}"
            )
        conninfo = self._tool_conninfo(src)
        args = ["--target-pgdata", server.datadir, "--source-server", conninfo, "--no-sync"]
        done = self._runner.run("pg_rewind", *args, cwd=self.root, timeout=120)
        self._check(done, "pg_rewind", server)
        exists = "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s"
        if not self.sql(source, exists, (server.slot,)):
            self.sql(source, "SELECT pg_create_physical_replication_slot(%s)", (server.slot,))
        with open(server.datadir / "postgresql.auto.conf", "a") as conf:  # later lines win
            quoted = conninfo.replace("'", "''")
            conf.write(f"primary_conninfo = '{quoted}'\nprimary_slot_name = '{server.slot}'\n")
        signal_file = server.datadir / "standby.signal"
        signal_file.touch()
        self._runner.own(signal_file)
        server.role, server.upstream = STANDBY, source
        self._start(server)
        self._wait(lambda: self._streaming(source, name), f"{name} to stream from {source}")

    # ---- checks that nothing leaks

    def running_processes(self) -> list[int]:
        """PIDs of this lab's PostgreSQL processes still alive (postmasters started, and any process
        working inside the lab's folder)."""
        if self.root is None:
            return []
        pids = set(pids_with_cwd_under(self.root))
        pids |= {s.pid for s in self.servers.values() if s.pid and alive(s.pid)}
        return sorted(pids)

    def listeners(self) -> list[tuple[str, int]]:
        """(address, port) of every TCP socket listening on one of this lab's ports."""
        ports = {s.port for s in self.servers.values()}
        return sorted(a for a in listen_sockets() if a[1] in ports)
