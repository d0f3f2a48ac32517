"""The history's measures, checked against a slow, obvious recomputation."""

import numpy as np

from replsim import Cluster


def brute_lag(c, node, t):
    """Entries and seconds behind at time t, straight from the definitions."""
    ref = c.history.leader_at(t)
    if ref == node:
        return 0, 0.0

    def last_at(n):
        times, lsns = list(c.nodes[n].pos_t), list(c.nodes[n].pos_lsn)
        value = 0
        for when, lsn in zip(times, lsns):
            if when <= t:
                value = lsn
        return value

    mine, lead = last_at(node), last_at(ref)
    behind = max(lead - mine, 0)
    entries = c.nodes[ref].log.entries
    seconds = max(t - entries[mine].time, 0.0) if behind and mine < len(entries) else 0.0
    return behind, seconds


def scenario():
    c = Cluster(leader="L", followers=["a", "b", "c"], delay=0.05, seed=3)
    c.start_writes(rate=10)
    c.advance(2)
    c.crash("b")
    c.advance(3)
    c.recover("b")
    c.advance(1)
    c.cut("L", "c")
    c.advance(1)
    c.crash("L")
    c.promote("a")
    c.heal()
    c.advance(2)
    return c


def test_lag_matches_a_brute_force_recomputation_across_a_failover():
    c = scenario()
    times = np.linspace(0, c.now, 157)
    for node in c.names:
        behind, seconds = c.history.lag(node, times)
        want = [brute_lag(c, node, t) for t in times]
        assert list(behind) == [b for b, _ in want], node
        np.testing.assert_allclose(seconds, [s for _, s in want], atol=1e-9)
    assert c.history.lag("b", [4.9])[0][0] >= 29  # down for ~3 s at 10 writes/s


def test_leader_at_follows_promotions():
    c = scenario()
    assert c.history.leader_at(0) == "L" and c.history.leader_at(6.99) == "L"
    assert c.history.leader_at(7.01) == "a"


def test_position_is_a_step_function_of_time():
    c = scenario()
    assert list(c.history.position("b", [0.0, 1.0, 4.0, 10.0])) == [0, 10, 20, c.nodes["b"].lsn]
