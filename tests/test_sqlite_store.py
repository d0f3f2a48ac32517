"""A real SQLite database per node: its clock and randomness come from the simulation, its copies."""

import copy

import pytest

from replsim import Cluster, ConfigError, StoreError
from replsim.engine import Simulator
from replsim.stores.shipping import RowShipping
from replsim.stores.sqlite import EPOCH, SQLiteStore, compile_options, page_size_of, sql_store, sqlite_version

SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY, v);"


def bound(name="n1", seed=1, **kw):
    sim = Simulator(seed)
    store = SQLiteStore(SCHEMA, **kw)
    store.bind(name, sim)
    return sim, store


def test_now_is_virtual_time_from_the_epoch():
    sim, store = bound()
    sim.run(1.25)
    store.run("INSERT INTO t VALUES (1, datetime('now', 'subsec'))")
    assert store.query("SELECT v FROM t") == [("2025-03-03 09:00:01.250",)]
    assert EPOCH.isoformat().startswith("2025-03-03T09:00")
    assert store.query("SELECT CURRENT_TIMESTAMP") == [("2025-03-03 09:00:01",)]


def test_random_is_seeded_per_node_and_the_same_for_the_same_seed():
    _, a = bound("a")
    _, b = bound("b")
    _, a_again = bound("a")
    draw = "SELECT random(), hex(randomblob(4))"
    first = a.query(draw)
    assert first == a_again.query(draw)
    assert first != b.query(draw)
    with a.context(seed=42):
        x = a.db.execute(draw).fetchall()
    with b.context(seed=42):
        y = b.db.execute(draw).fetchall()
    assert x == y  # a shipped seed makes every node draw the same numbers


def test_a_failing_text_changes_nothing():
    _, store = bound()
    store.run("INSERT INTO t VALUES (1, 'a')")
    with pytest.raises(Exception, match="UNIQUE constraint failed"):
        store.run("INSERT INTO t VALUES (2, 'b'); INSERT INTO t VALUES (1, 'c')")
    assert store.query("SELECT * FROM t") == [(1, "a")]


def test_items_digest_and_page_digest():
    _, a = bound("a")
    _, b = bound("b")
    for s in (a, b):
        s.run("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
    assert a.items() == {("t", 1): (1, "x"), ("t", 2): (2, "y")}  # whole rows, by table and key
    assert a.digest() == b.digest() and a.page_digest() == b.page_digest()
    b.run("UPDATE t SET v = 'z' WHERE id = 2")
    assert a.digest() != b.digest()


def test_a_snapshot_restores_bytes_and_crosses_page_formats_by_rows():
    _, a = bound("a")
    a.run("INSERT INTO t VALUES (1, 'x'); CREATE INDEX t_v ON t (v)")
    snap = a.snapshot()
    assert page_size_of(snap) == 4096 and a.snapshot_size(snap) == len(snap)
    _, same = bound("b")
    same.restore(snap)
    assert same.page_digest() == a.page_digest()
    _, bigger = bound("c", page_size=8192, method=RowShipping())
    bigger.restore(snap)
    assert bigger.digest() == a.digest() and page_size_of(bigger.image()) == 8192
    assert bigger.query("SELECT name FROM sqlite_schema WHERE type = 'index'") == [("t_v",)]
    _, physical = bound("d", page_size=8192, method=sql_store("physical")().method)
    with pytest.raises(StoreError, match="same page format"):
        physical.restore(snap)


def test_queries_only_read_and_report_sqlites_error():
    _, store = bound()
    with pytest.raises(StoreError, match="only reads"):
        store.query("DELETE FROM t")
    with pytest.raises(StoreError, match='near "SELEKT": syntax error'):
        store.query("SELEKT 1")
    with pytest.raises(StoreError, match="a SELECT"):
        store.query(42)


def test_a_sqlite_node_takes_sql_not_key_value_writes():
    c = Cluster("p", ["f"], store=sql_store("row", schema=SCHEMA))
    with pytest.raises(StoreError, match="takes SQL"):
        c.write("k", 1)
    with pytest.raises(ConfigError, match="SQL text"):
        c.execute("  ")
    assert c.node("p").lsn == 0


def test_fork_copies_each_database():
    c = Cluster("p", ["f"], delay=0.01, seed=2, store=sql_store("statement", schema=SCHEMA))
    c.execute("INSERT INTO t VALUES (1, random())")
    c.advance(0.1)
    other = c.fork()
    other.execute("UPDATE t SET v = 0")
    other.advance(0.1)
    assert c.node("f").store.query("SELECT v FROM t") != [(0,)]
    assert other.node("f").store.query("SELECT v FROM t") == [(0,)]
    again = copy.deepcopy(c.node("p").store)
    assert again.digest() == c.node("p").store.digest() and again.node == "p"


def test_bad_settings_are_explained():
    with pytest.raises(ConfigError, match="page_size must be one of"):
        SQLiteStore(page_size=1000)
    with pytest.raises(ConfigError, match="schema must be SQL text"):
        SQLiteStore(schema=None)
    with pytest.raises(ConfigError, match="method must be one of"):
        sql_store("wal")
    with pytest.raises(ConfigError, match="fix= is for statement shipping"):
        sql_store("row", fix="rewrite")
    with pytest.raises(ConfigError, match="fix must be one of"):
        sql_store("statement", fix="magic")


def test_the_bundled_sqlite_is_the_one_the_lessons_quote():
    assert sqlite_version() == "3.54.1"
    assert "ENABLE_SESSION" in compile_options()
    assert "ENABLE_UPDATE_DELETE_LIMIT" not in compile_options()  # lesson 3 says so
