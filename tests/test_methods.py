"""Statement, row and physical shipping on the shop's day: divergence, bytes, and what each ties you to."""

import pytest

from replsim import Cluster, StoreError
from replsim.course.methods import ship
from replsim.course.shop import SHOP_DAY, SHOP_SCHEMA, run_statements
from replsim.engine import Simulator
from replsim.errors import ConfigError
from replsim.stores.shipping import Pages, RowChanges, Statement, rewrite
from replsim.stores.sqlite import SQLiteStore, julian_day, sql_store

DAY = [sql for _, sql in SHOP_DAY]


@pytest.fixture(scope="module")
def shipped():
    ways = [("statement", None), ("statement", "context"), ("statement", "rewrite"), ("row", None)]
    ways.append(("physical", None))
    return {f"{m}/{f}": ship(DAY, m, fix=f) for m, f in ways}


def differing(run):
    c = run.cluster
    return {f: len(c.divergence(["primary", f])) for f in ("replica-1", "replica-2")}


def test_naive_statements_diverge_on_the_clock_the_dice_and_row_order(shipped):
    naive = shipped["statement/None"]
    assert differing(naive) == {"replica-1": 4, "replica-2": 10}
    d = naive.cluster.divergence()
    assert d[("items", 1)]["primary"] == "<missing>" and d[("items", 1000)]["replica-2"] == "<missing>"
    placed = {n: v[3] for n, v in d[("orders", 1)].items()}
    assert placed == {
        "primary": "2025-03-03 09:00:00.100",
        "replica-1": "2025-03-03 09:00:00.110",  # run 10 ms later: the follower's own 'now'
        "replica-2": "2025-03-03 09:00:00.110",
    }


def test_context_fixes_the_clock_and_dice_but_not_row_order(shipped):
    assert differing(shipped["statement/context"]) == {"replica-1": 0, "replica-2": 8}
    # the same seed, rows read in another order: replica-2 gives the prize to another order
    prize = {n: v[5] for n, v in shipped["statement/context"].cluster.divergence()[("orders", 4)].items()}
    assert prize == {"primary": "new", "replica-1": "new", "replica-2": "prize"}
    entry = shipped["statement/context"].entries[1].change
    assert isinstance(entry, Statement) and entry.time == pytest.approx(0.1) and entry.seed is not None


def test_rewrite_misses_order_by_random_and_row_order(shipped):
    run = shipped["statement/rewrite"]
    assert differing(run) == {"replica-1": 2, "replica-2": 8}
    logged = [e.change.sql for e in run.entries]
    assert "randomblob" not in logged[3] and "x'" in logged[3] and "'now'" not in logged[3]
    assert "random()" not in logged[7]
    assert logged[11] == DAY[11]  # random() in an ORDER BY is left alone, as rqlite does


def test_rows_and_pages_do_not_diverge_and_pages_are_byte_identical(shipped):
    rows, pages = shipped["row/None"], shipped["physical/None"]
    assert rows.divergent_rows == pages.divergent_rows == 0
    digests = {n: pages.cluster.node(n).store.page_digest() for n in pages.cluster.names}
    assert len(set(digests.values())) == 1
    row_files = {n: rows.cluster.node(n).store.page_digest() for n in rows.cluster.names}
    assert row_files["replica-1"] != row_files["primary"]  # same rows, laid out in its own pages


def test_bytes_per_method(shipped):
    totals = {k: v.total for k, v in shipped.items()}
    assert totals == {
        "statement/None": 1216,
        "statement/context": 1216 + 12 * 16,  # a time and a seed per statement
        "statement/rewrite": 1276,
        "row/None": 73908,
        "physical/None": 111528,
    }
    rows = shipped["row/None"].entries[5].change
    assert isinstance(rows, RowChanges) and len(rows) == 1000  # one statement, 1,000 row changes
    one = shipped["physical/None"].entries[6]
    assert isinstance(one.change, Pages) and one.size == 24 + 24 + 4096  # a one-row update: a page
    assert shipped["statement/None"].entries[5].size == 24 + len(DAY[5])


def test_entry_sizes_are_the_bytes_shipped():
    c = ship(DAY[:3], "row").cluster
    entries = c.node("primary").log.entries
    for e in entries:
        assert e.size == 24 + len(e.change.changeset)
    appends = [
        m for m in c.network.messages if m.kind == "append" and m.dst == "replica-1" and m.fields["lsns"]
    ]
    assert [m.size for m in appends] == [32 + e.size for e in entries]


def test_a_different_page_format_stops_physical_replication_but_not_rows():
    phys = ship(DAY, "physical", page_size={"replica-2": 8192}).cluster
    node = phys.node("replica-2")
    assert node.broken and "page format mismatch" in node.broken and node.lsn == 0
    (event,) = [e for e in phys.history.events if e.kind == "engine error"]
    assert event.node == "replica-2" and "8,192-byte pages" in event.detail
    assert phys.node("replica-1").lsn == 12 and "replication stopped" in phys.table()
    rows = ship(DAY, "row", page_size={"replica-2": 8192})
    assert rows.divergent_rows == 0 and rows.cluster.node("replica-2").lsn == 12


def test_a_new_follower_joins_from_a_snapshot_of_the_database():
    run = ship(DAY, "row")
    c = run.cluster
    image = len(c.node("primary").store.image())
    c.add_follower("replica-3")
    c.execute("UPDATE items SET stock = 0 WHERE id = 500")
    c.advance(0.1)
    new = c.node("replica-3")
    assert new.log.base == 12 and new.lsn == 13 and c.divergence() == {}
    snap = [m for m in c.network.messages if m.kind == "snapshot"][0]
    assert snap.size == 32 + image and image > 30_000  # the database file, pages and all


def test_bad_sql_fails_the_write_with_sqlites_error_and_the_cluster_goes_on():
    c = Cluster("p", ["f"], delay=0.01, store=sql_store("statement", schema=SHOP_SCHEMA))
    with pytest.raises(StoreError, match=r"'p' refused the change: SQLError: near \"LIMIT\": syntax error"):
        c.execute("DELETE FROM items LIMIT 3")
    with pytest.raises(StoreError, match="only reads"):
        c.execute("SELECT * FROM items")
    failed = c.history.writes("fail")
    assert len(failed) == 2 and "syntax error" in failed[0].error
    ops = run_statements(c, ["INSERT INTO items VALUES (1, 'a', 1, 1)", "INSERT INTO nowhere VALUES (1)"])
    assert [o.outcome for o in ops] == ["ok", "fail"] and "no such table: nowhere" in ops[1].error
    assert c.node("p").lsn == 1 and c.node("f").lsn == 1
    app = c.client("app", near="f")
    bad = app.read("SELEKT 1", node="f")
    good = app.read("SELECT count(*) FROM items", node="f")
    c.advance(1)
    assert bad.outcome == "fail" and "syntax error" in bad.error
    assert good.outcome == "ok" and good.value == [(1,)]


def test_a_follower_that_cannot_apply_a_statement_stops_with_an_engine_error():
    c = Cluster("p", ["f"], delay=0.01, store=sql_store("statement", schema=SHOP_SCHEMA))
    c.node("f").store.run("INSERT INTO items VALUES (5, 'only here', 1, 1)")  # someone wrote on the replica
    c.execute("INSERT INTO items VALUES (5, 'five', 5, 5)")
    c.advance(0.1)
    assert "UNIQUE constraint failed: items.id" in c.node("f").broken


def test_a_row_conflict_stops_the_follower():
    c = Cluster("p", ["f"], delay=0.01, store=sql_store("row", schema=SHOP_SCHEMA))
    c.execute("INSERT INTO items VALUES (5, 'five', 5, 5)")
    c.advance(0.1)
    c.node("f").store.run("UPDATE items SET stock = 99 WHERE id = 5")
    c.execute("UPDATE items SET stock = 4 WHERE id = 5")
    c.advance(0.1)
    assert "row changes do not fit" in c.node("f").broken and "DATA" in c.node("f").broken


def test_schema_changes_ship_as_statements_under_row_shipping():
    c = Cluster("p", ["f"], delay=0.01, store=sql_store("row", schema=SHOP_SCHEMA))
    op = c.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    c.execute("INSERT INTO notes VALUES (1, 'hello')")
    c.advance(0.1)
    assert isinstance(c.node("p").log[op.lsn].change, Statement)
    assert c.node("f").store.query("SELECT * FROM notes") == [(1, "hello")]


# --- the rewrite, rule by rule ----------------------------------------------------------
@pytest.fixture
def store():
    s = SQLiteStore()
    s.bind("p", Simulator(1))
    return s


def test_rewrite_replaces_random_randomblob_and_now(store):
    out = rewrite(
        "INSERT INTO t VALUES (RANDOM(), randomblob( 2 ), datetime('now'), date('NOW', '+1 day'))", store
    )
    assert "RANDOM()" not in out and "randomblob" not in out and "now" not in out.lower()
    assert f"datetime({julian_day(0.0)!r})" in out and "'+1 day'" in out


def test_rewrite_leaves_order_by_strings_current_timestamp_and_other_calls(store):
    keep = [
        "SELECT * FROM t ORDER BY random() LIMIT 1",
        "SELECT * FROM t ORDER BY abs(random()) DESC",
        "INSERT INTO t VALUES ('random()', 'now', CURRENT_TIMESTAMP)",
        "INSERT INTO t VALUES (randomblob(n))",
        "SELECT my_random() FROM t",
    ]
    for sql in keep:
        assert rewrite(sql, store) == sql
    mixed = rewrite("SELECT random() FROM (SELECT * FROM t ORDER BY random() LIMIT 2) ORDER BY 1", store)
    assert mixed.count("random()") == 1 and "ORDER BY random() LIMIT 2" in mixed
    assert not mixed.startswith("SELECT random()")


def test_workload_input_is_checked():
    c = Cluster("p", ["f"], store=sql_store("row", schema=SHOP_SCHEMA))
    with pytest.raises(ConfigError, match="list of SQL texts"):
        run_statements(c, "INSERT INTO items VALUES (1, 'a', 1, 1)")
    with pytest.raises(ConfigError, match="every must be"):
        run_statements(c, DAY[:1], every=0)


def test_divergence_in_the_past_is_for_key_value_stores_only():
    c = ship(DAY[:2], "row").cluster
    with pytest.raises(ConfigError, match="compare them now"):
        c.divergence(at=0.1)
    assert c.divergence() == {}
