"""Clients on the network: requests and replies over links with delay, timeouts, what the client saw."""

import pytest

from replsim import Cluster
from replsim.errors import ConfigError, UnknownNodeError


def world(**kw):
    """A leader in Frankfurt, followers in Tokyo and New York (one-way delays in seconds)."""
    c = Cluster(leader="frankfurt", followers=["tokyo", "new-york"], delay=0.04, heartbeat=0.5, seed=4, **kw)
    c.set_link("frankfurt", "tokyo", delay=0.12)
    c.set_link("tokyo", "new-york", delay=0.09)
    return c


def test_a_client_in_another_region_sees_its_own_write_late():
    c = world()
    app = c.client("tokyo-app", near="tokyo")  # 0.5 ms from tokyo, tokyo's links elsewhere
    op = app.write("greeting", "konnichiwa")  # goes to the leader, in Frankfurt
    assert op.outcome == "pending" and op.client == "tokyo-app"
    c.advance(1)
    assert op.outcome == "ok" and op.node == "frankfurt"
    assert op.complete - op.invoke == pytest.approx(0.24)  # a round trip to Frankfurt
    near = app.read("greeting", node="tokyo")
    c.advance(1)
    assert near.outcome == "ok" and near.value == "konnichiwa"
    assert near.complete - near.invoke == pytest.approx(0.001)


def test_a_read_from_the_nearest_replica_can_miss_the_clients_own_write():
    c = world()
    app = c.client("tokyo-app", near="tokyo")
    w = app.write("greeting", "hello")
    c.run(until=0.2)  # the write reached Frankfurt at 0.12 but is still on its way to Tokyo
    r = app.read("greeting", node="tokyo")
    c.advance(1)
    assert w.outcome == "ok" and r.outcome == "ok" and r.value is None
    assert r.lsn == 0 and w.lsn == 1  # the replica answered from an older position


def test_a_sync_write_is_answered_once_enough_followers_hold_it():
    c = world(sync_replicas=1)
    app = c.client("berlin", delays={"frankfurt": 0.005, "tokyo": 0.12, "new-york": 0.045})
    op = app.write("k", 1)
    c.advance(1)
    # 5 ms there, New York confirms after 40 + 40 ms, 5 ms back
    assert op.outcome == "ok" and op.complete - op.invoke == pytest.approx(0.09)


def test_a_node_that_crashes_leaves_the_client_with_an_unknown_outcome():
    c = world(sync_replicas=2)
    app = c.client("app", near="frankfurt", timeout=0.5)
    op = app.write("k", 1)
    c.run(until=0.01)
    c.crash("frankfurt")
    c.advance(1)
    assert op.outcome == "info" and "no answer" in op.error and op.complete == pytest.approx(0.5)
    refused = app.write("k", 2, node="tokyo")
    c.advance(1)
    # the write was on its way to tokyo before the crash: tokyo holds k, so a write to it is an UPDATE
    assert refused.outcome == "fail" and "cannot execute UPDATE in a read-only transaction" in refused.error


def test_a_late_reply_does_not_change_a_settled_outcome():
    c = world()
    app = c.client("slow", delays={"frankfurt": 0.4}, timeout=0.5)
    op = app.write("k", 1)
    c.advance(2)
    assert op.outcome == "info" and op.complete == pytest.approx(0.5)


def test_client_names_and_places_are_checked():
    c = world()
    with pytest.raises(ConfigError, match="is taken"):
        c.client("tokyo")
    with pytest.raises(UnknownNodeError, match="unknown node 'osaka'"):
        c.client("app", near="osaka")
    with pytest.raises(ConfigError, match="timeout must be a finite number"):
        c.client("app2", timeout=-1)
    with pytest.raises(ConfigError, match="must be a string or a number"):
        c.client("app3").write(["k"], 1)


def test_reads_queue_when_a_node_is_busy_and_spread_reads_relieve_the_leader():
    from replsim.history.measures import utilisation

    def run(spread):
        c = Cluster(leader="L", followers=["F1", "F2", "F3"], delay=0.001, read_time=0.004, seed=5)
        apps = [c.client(f"app{i}", near="L") for i in range(4)]
        c.write("k", 0)
        ops = []
        for step in range(200):  # 4 clients x 50 reads/s each = 200 reads/s; one node serves 250/s at most
            for i, app in enumerate(apps):
                node = spread[(step + i) % len(spread)]
                ops.append(app.read("k", node=node))
            c.advance(0.02)
        c.advance(1)
        latency = sorted(o.complete - o.invoke for o in ops)
        _, busy = utilisation(c.history, "L", bin_seconds=4.0)
        return latency[len(latency) // 2], busy[0]

    lat_leader, busy_leader = run(["L"])
    lat_spread, busy_spread = run(["L", "F1", "F2", "F3"])
    assert busy_leader == pytest.approx(0.8, abs=0.02) and busy_spread == pytest.approx(0.2, abs=0.02)
    assert lat_spread < lat_leader  # less queueing


def test_a_read_after_a_position_waits_until_the_replica_has_it():
    c = world()
    app = c.client("osaka-app", delays={"frankfurt": 0.06, "tokyo": 0.001})
    w = app.write("greeting", "hello")
    c.run(until=0.125)  # acknowledged at 0.12; tokyo gets it from Frankfurt only at 0.06 + 0.12
    assert w.outcome == "ok" and app.last_write == 1
    stale = app.read("greeting", node="tokyo")
    fresh = app.read("greeting", node="tokyo", after=app.last_write)
    c.advance(1)
    assert stale.value is None and stale.lsn == 0
    assert fresh.value == "hello" and fresh.lsn == 1
    assert fresh.complete == pytest.approx(0.18 + 0.001)  # it waited for lsn 1, then answered
