"""Read policies, sessions and the cities: where reads go, what they wait for, and what readers see."""

import pytest

from replsim import Cluster
from replsim.clients.policies import (
    POLICIES,
    AnyReplica,
    Leader,
    LeaderAfterWrite,
    Nearest,
    Sticky,
    WaitForPosition,
    policy,
)
from replsim.course.geo import CITIES, RTT_MS, SOURCES, city_clients, geo_cluster, one_way
from replsim.course.sessions import Sessions, compare, read_stats
from replsim.errors import ConfigError


def app(seed=1):
    """A leader and two replicas; the second is 50 ms behind. Users sit 1 ms from every node."""
    c = Cluster(leader="primary", followers=["replica-1", "replica-2"], delay=0.005, seed=seed)
    c.set_link("primary", "replica-2", delay=0.050)
    return c


def user(c, name="u"):
    return c.client(name, delays={n: 0.001 for n in c.names})


def test_every_round_trip_has_a_source_and_each_city_pair_one():
    assert set(RTT_MS) == set(SOURCES) and len(RTT_MS) == len(CITIES) * (len(CITIES) - 1) // 2
    assert one_way("London", "San Francisco") == pytest.approx(0.065)
    with pytest.raises(ConfigError, match="no round-trip time between 'Paris'"):
        one_way("Paris", "Tokyo")
    with pytest.raises(ConfigError, match="sets each link's delay"):
        geo_cluster(delay=0.1)


def test_a_user_reads_nearby_in_a_millisecond_and_the_leader_across_the_ocean():
    c = geo_cluster(seed=1)
    tokyo = city_clients(c, ["Tokyo"])["Tokyo"]
    near, far = Nearest().read(tokyo, "k"), Leader().read(tokyo, "k")
    c.advance(1)
    assert (near.node, far.node) == ("Tokyo", "San Francisco")
    assert near.complete - near.invoke == pytest.approx(0.001) and far.complete - far.invoke == pytest.approx(
        0.105
    )


def test_leader_after_own_write_reads_the_leader_only_within_its_window():
    c = app()
    u = user(c)
    rule = LeaderAfterWrite(0.1, then=Sticky())
    before = rule.choose(u)[0]
    u.write("k", 1)
    during = rule.choose(u)[0]
    c.advance(0.2)
    assert before.startswith("replica") and during == "primary" and rule.choose(u)[0] == before


def test_sticky_keeps_one_replica_per_client_and_any_replica_spreads_them():
    c = app()
    users = [user(c, f"u{i}") for i in range(6)]
    spread = AnyReplica()
    assert {spread.choose(users[0])[0] for _ in range(20)} == {"replica-1", "replica-2"}
    stick = Sticky()
    first = [stick.choose(u)[0] for u in users]
    assert [stick.choose(u)[0] for u in users] == first and set(first) == {"replica-1", "replica-2"}
    lost = first[0]
    c.crash(lost)
    assert stick.choose(users[0])[0] != lost  # its replica died: it picks another


def test_wait_for_position_reads_your_write_from_a_lagging_replica():
    c = app()
    u = user(c)
    w = u.write("k", "mine")
    c.advance(0.02)  # acknowledged; replica-2 has not got it
    wait = WaitForPosition()
    plain = u.read("k", node="replica-2")
    careful = u.read("k", node="replica-2", after=wait.position(u))
    c.advance(1)
    assert plain.value is None and careful.value == "mine"
    assert careful.complete == pytest.approx(0.001 + 0.05 + 0.001)  # waited until replica-2 had it
    assert wait.position(u) == w.lsn
    assert WaitForPosition(reads=False).position(u) == w.lsn


def test_policies_by_name_and_bad_settings():
    assert set(POLICIES) >= {"leader", "nearest replica", "sticky replica", "wait for position"}
    assert isinstance(policy("leader"), Leader)
    with pytest.raises(ConfigError, match="unknown read policy 'closest'"):
        policy("closest")
    with pytest.raises(ConfigError, match="window must be a finite number"):
        LeaderAfterWrite(-1)
    with pytest.raises(ConfigError, match="reads must be True or False"):
        WaitForPosition(reads="yes")
    c = app()
    with pytest.raises(ConfigError, match="needs at least one client"):
        Sessions([], Leader())
    with pytest.raises(ConfigError, match="policy must be a read policy"):
        Sessions([user(c)], "leader")
    with pytest.raises(ConfigError, match="writes must be a share"):
        Sessions([user(c, "v")], Leader(), writes=2)


def test_sessions_run_one_operation_at_a_time_with_unique_values():
    c = app()
    users = [user(c, f"u{i}") for i in range(3)]
    s = Sessions(users, Leader(), keys=["a", "b"], writes=0.5, think=0.05, until=2.0)
    c.run(until=3.0)
    ops = s.ops
    assert len(ops) > 30 and all(o.outcome == "ok" for o in ops)
    for u in users:
        mine = sorted((o for o in ops if o.client == u.name), key=lambda o: o.invoke)
        assert all(a.complete <= b.invoke for a, b in zip(mine, mine[1:]))  # one at a time
    values = [o.value for o in ops if o.kind == "write"]
    assert len(values) == len(set(values))
    stats = read_stats(ops, c.leader)
    assert stats["on leader %"] == 100 and stats["mean ms"] == pytest.approx(2.0)


def test_the_remedies_remove_the_anomalies_they_promise_to_on_the_same_workload():
    def make():
        c = app(seed=3)
        c.add_follower("replica-3")
        c.set_link("primary", "replica-3", delay=0.020)
        return c

    rows = compare(
        make,
        lambda c: [user(c, f"u{i}") for i in range(4)],
        {
            "any": AnyReplica,
            "leader": Leader,
            "after write": lambda: LeaderAfterWrite(0.2, then=AnyReplica()),
            "sticky": Sticky,
            "wait": lambda: WaitForPosition(then=AnyReplica()),
        },
        keys=["q", "a"],
        writes=0.3,
        think=0.02,
        until=8.0,
    )
    n = {r["policy"]: r["counts"] for r in rows}
    assert all(v > 0 for v in n["any"].values()), n["any"]  # every anomaly, without a remedy
    assert sum(n["leader"].values()) == 0
    assert n["after write"]["read-your-writes violation"] == 0
    assert n["sticky"]["monotonic-reads violation"] == n["sticky"]["consistent-prefix violation"] == 0
    assert n["wait"]["read-your-writes violation"] == n["wait"]["monotonic-reads violation"] == 0
    assert n["wait"]["consistent-prefix violation"] == 0 and n["wait"]["stale read"] > 0
    latency = {r["policy"]: r["p99 ms"] for r in rows}
    assert latency["wait"] > latency["any"]  # waiting for a position costs time
