"""Lesson 8's lab against a real PostgreSQL primary and streaming standbys (replsim/postgres.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import require

import replsim.lab.postgres as rpg
from replsim.errors import ConfigError, NodeDownError, NodeStateError, ReadOnlyError, UnknownNodeError
from replsim.lab.postgres import PgCluster, PostgresError, sample_lag

STANDBYS = ["standby-1", "standby-2"]


@pytest.fixture(scope="module")
def postgres_can_run() -> None:
    reason = rpg.unavailable_reason()
    require(reason is None, reason or "")


def processes_naming(root: Path) -> list[int]:
    """PIDs whose command line mentions the lab's folder (a postmaster's -D <folder>)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if str(root).encode() in cmdline:
            found.append(int(entry.name))
    return found


def assert_loopback_only(pg: PgCluster) -> None:
    """Each running server listens on 127.0.0.1 only, per the kernel and per PostgreSQL itself."""
    running = [s for s in pg.servers.values() if s.running]
    assert sorted(pg.listeners()) == sorted(("127.0.0.1", s.port) for s in running)
    for s in running:
        assert pg.sql(s.name, "SHOW listen_addresses") == [("127.0.0.1",)]


def assert_password_only(pg: PgCluster) -> None:
    """Every pg_hba.conf admits 127.0.0.1/32 with scram-sha-256 only (no trust, no other address, no
    unix socket), per the file and per the rules each running server loaded; the password is on no
    command line and in no file of the lab but the passfile (mode 0600, the server account's)."""
    for s in pg.servers.values():
        rules = [ln.split() for ln in (s.datadir / "pg_hba.conf").read_text().splitlines()]
        rules = [r for r in rules if r and not r[0].startswith("#")]
        assert rules and all(r[0] == "host" and r[3:] == ["127.0.0.1/32", "scram-sha-256"] for r in rules)
        assert "trust" not in (s.datadir / "pg_hba.conf").read_text()
        if s.running:
            loaded = pg.sql(
                s.name, "SELECT DISTINCT type, address, netmask, auth_method FROM pg_hba_file_rules"
            )
            assert loaded == [("host", "127.0.0.1", "255.255.255.255", "scram-sha-256")]
    secret = pg._password.encode()
    assert len(secret) >= 32
    passfile = pg.root / rpg.PASSFILE
    assert passfile.stat().st_mode & 0o777 == 0o600
    assert passfile.stat().st_uid == (pg._runner.account or (os.getuid(),))[0]
    files = [f for f in pg.root.rglob("*") if f.is_file() and f != passfile]
    assert [f for f in files if secret in f.read_bytes()] == []  # nor in postgresql.auto.conf or a log
    assert not (pg.root / rpg.PWFILE).exists()
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        assert secret not in cmdline


def postmasters(pg: PgCluster) -> set[int]:
    return {s.pid for s in pg.servers.values() if s.pid}


@pytest.mark.timeout(120)
def test_lab_end_to_end(postgres_can_run: None) -> None:
    with PgCluster(standbys=2) as pg:
        assert list(pg.servers) == ["primary", *STANDBYS]
        assert_loopback_only(pg)
        assert_password_only(pg)
        started = postmasters(pg)

        # rows written on the primary reach both standbys
        acked = pg.write("primary", range(1, 101))
        for name in STANDBYS:
            pg.wait_caught_up(name)
            assert pg.read(name) == pg.read("primary") == {k: "v" for k in range(1, 101)}

        # pg_stat_replication sampled during a burst: both standbys stream asynchronously, and catch up
        samples = sample_lag(pg, transactions=10, rows=1000)
        assert {s.row.standby for s in samples} == set(STANDBYS)
        assert all(s.row.state == "streaming" and s.row.sync_state == "async" for s in samples)
        assert [s.t for s in samples] == sorted(s.t for s in samples)
        assert all(s.row.lag_bytes == 0 for s in samples[-2:])

        # a standby whose replay is paused for 0.5 s falls behind, then catches up; the other keeps up
        samples = sample_lag(pg, transactions=10, rows=1000, pause=("standby-2", 0.5))
        held = [s.row.lag_bytes for s in samples if s.row.standby == "standby-2"]
        assert max(held) > 4 * max(s.row.lag_bytes for s in samples if s.row.standby == "standby-1")
        assert held[-1] == 0 and not pg.replay_paused("standby-2")
        with pytest.raises(ConfigError, match="'standby-9' is not a streaming standby"):
            sample_lag(pg, pause=("standby-9", 1.0))
        with pytest.raises(ConfigError, match="more than 0 and at most 60"):
            sample_lag(pg, pause=("standby-2", 0))

        # a standby refuses writes
        with pytest.raises(ReadOnlyError) as refused:
            pg.write("standby-1", [1], "nope")
        assert refused.value.sqlstate == "25006"
        assert str(refused.value) == "cannot execute INSERT in a read-only transaction"

        # standby-1 cut off; the primary acknowledges 25 more; crash the primary; promote standby-1
        pg.disconnect_standby("standby-1")
        assert [r.standby for r in pg.replication_status("primary")] == ["standby-2"]
        late = pg.write("primary", range(101, 126))
        pg.wait_caught_up("standby-2")
        assert pg.timeline("primary") == 1
        pg.crash("primary")
        pg.promote("standby-1")
        survivors = pg.read("standby-1")
        assert [k for k in acked + late if k not in survivors] == late == list(range(101, 126))
        assert pg.timeline("standby-1") == 2
        assert len(pg.read("standby-2")) == 125  # the other standby had everything

        # split brain: the old primary comes back as a primary; both accept a write to key 7
        pg.recover("primary")
        started |= postmasters(pg)
        assert not pg.in_recovery("primary") and not pg.in_recovery("standby-1")
        pg.write("primary", [7], "old primary")
        pg.write("standby-1", [7], "new primary")
        assert pg.read("primary")[7] == "old primary" and pg.read("standby-1")[7] == "new primary"
        assert len(pg.read("primary")) == 125

        # the repair: stop it cleanly, pg_rewind it onto the new primary, and it follows
        pg.stop("primary")
        pg.rewind("primary", "standby-1")
        started |= postmasters(pg)
        assert pg.in_recovery("primary")
        assert [r.standby for r in pg.replication_status("standby-1")] == ["primary"]
        pg.write("standby-1", [500], "after the repair")
        pg.wait_caught_up("primary")
        assert pg.read("primary") == pg.read("standby-1")
        assert pg.read("primary")[7] == "new primary" and 101 not in pg.read("primary")
        assert_loopback_only(pg)
        assert_password_only(pg)  # pg_rewind and the primary_conninfo it wrote used the passfile too
        root = pg.root
    assert pg.running_processes() == []
    assert processes_naming(root) == []
    assert [pid for pid in started if rpg.alive(pid)] == []  # a zombie awaiting PID 1 counts as gone
    assert pg.listeners() == []
    assert not root.exists()


@pytest.fixture(scope="module")
def small(postgres_can_run: None):
    with PgCluster(standbys=1) as pg:
        yield pg


def test_bad_calls_get_specific_errors(small: PgCluster) -> None:
    with pytest.raises(
        UnknownNodeError, match="no server named 'standby-9'; the servers are: primary, standby-1"
    ):
        small.sql("standby-9", "SELECT 1")
    with pytest.raises(NodeStateError, match="primary is a primary, not a standby"):
        small.promote("primary")
    with pytest.raises(NodeStateError, match="only a standby can be cut off"):
        small.disconnect_standby("primary")
    with pytest.raises(NodeStateError, match="needs it stopped cleanly first"):
        small.rewind("standby-1", "primary")
    with pytest.raises(NodeStateError, match="already running"):
        small.recover("primary")
    with pytest.raises(NodeStateError, match="already started"):
        small.start()
    with pytest.raises(rpg.SqlError) as bad_sql:
        small.sql("primary", "SELECT * FROM no_such_table")
    assert bad_sql.value.sqlstate == "42P01"


def test_nobody_gets_in_without_the_password(small: PgCluster) -> None:
    primary = small["primary"]
    options = {
        "passfile": "/nonexistent",
        "connect_timeout": 5,
        "sslmode": "disable",
        "gssencmode": "disable",
    }
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):  # the server asked for one
        psycopg.connect(primary.conninfo, **options)
    for conninfo in (primary.conninfo, f"{primary.conninfo} replication=true"):
        with pytest.raises(
            psycopg.OperationalError, match='password authentication failed for user "postgres"'
        ):
            psycopg.connect(conninfo, password="not-the-password", **options)
    # the unix socket admits nobody, even with the right password: pg_hba.conf has no "local" line
    with pytest.raises(psycopg.OperationalError, match='no pg_hba.conf entry for host "\\[local\\]"'):
        psycopg.connect(
            host=str(small.root / "sockets"), port=primary.port, user="postgres", password=small._password
        )
    assert small.sql("primary", "SELECT current_user") == [("postgres",)]  # the lab itself gets in
    assert_password_only(small)
    assert small._password not in repr(small) + repr(small.servers)


def test_a_stopped_server_is_not_queried(small: PgCluster) -> None:
    small.crash("standby-1")
    try:
        with pytest.raises(NodeDownError, match=r"standby-1 is not running .*recover\('standby-1'\)"):
            small.sql("standby-1", "SELECT 1")
        with pytest.raises(NodeDownError):
            small.promote("standby-1")
    finally:
        small.recover("standby-1")
    small.wait_caught_up("standby-1")


def test_errors_without_a_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        PgCluster(standbys=-1)
    with pytest.raises(UnknownNodeError, match="the cluster is not started"):
        PgCluster()["primary"]
    monkeypatch.setenv("REPLSIM_PG_BIN", str(tmp_path))
    reason = rpg.unavailable_reason()
    assert reason and f"{tmp_path} lacks initdb, pg_ctl, postgres" in reason and "fix:" in reason
    with pytest.raises(PostgresError, match="lacks initdb"):
        PgCluster().start()


@pytest.mark.timeout(60)
def test_a_failed_start_says_why_and_leaves_nothing_running(
    postgres_can_run: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rpg, "HBA", "host all all 127.0.0.1/32 scram-sha-256\n")  # no replication line
    pg = PgCluster(standbys=1)
    with pytest.raises(PostgresError, match="pg_basebackup failed for standby-1") as failed:
        pg.start()
    assert "no pg_hba.conf entry for replication connection" in str(failed.value)
    assert "fix:" in str(failed.value)
    assert pg.running_processes() == [] and processes_naming(pg.root) == []
    assert not pg.root.exists()


@pytest.mark.timeout(90)
def test_servers_of_a_killed_python_are_stopped_by_the_next_lab(postgres_can_run: None) -> None:
    code = (
        "import os, signal; from replsim.lab.postgres import PgCluster; pg = PgCluster(standbys=0).start(); "
        "print(pg.root, flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    root = Path(done.stdout.strip())
    try:
        assert done.returncode == -9 and processes_naming(root)  # no clean-up ran: its primary still runs
    finally:
        with PgCluster(standbys=0):
            pass
    assert processes_naming(root) == [] and not root.exists()
