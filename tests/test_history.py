"""The record and its measures: checked against what the live cluster showed at the time.

Bug 6 of the engine review: ``History.lag`` read the current leader's live log, so
the lag at a past moment changed when a log was later rolled back. Here the live
lag is sampled while the scenario runs, and the record must give the same answer
afterwards, rollbacks included.
"""

import numpy as np
import pytest

from replsim import Cluster
from replsim.history import RecordError


def live_lag(c, node):
    """Entries and seconds ``node`` is behind the appointed leader right now, from the live logs."""
    ref = c.nodes[c.leader]
    mine, lead = c.nodes[node].lsn, ref.lsn
    behind = max(lead - mine, 0) if node != c.leader else 0
    seconds = c.now - ref.log[mine + 1].time if behind else 0.0
    return behind, seconds


def sampled_scenario(step=0.05):
    """A failover with a rollback of the old leader; the live lag of every node sampled every ``step``.

    Samples fall between the actions (at odd multiples of step / 2), never on them.
    """
    c = Cluster(leader="L", followers=["a", "b", "c"], delay=0.05, seed=3)
    writer = c.start_writes(rate=10)
    samples = {n: [] for n in c.names}
    times = []

    def until(t):
        while True:
            nxt = step / 2 + len(times) * step
            if nxt >= t:
                break
            c.run(nxt)
            times.append(c.now)
            for n in c.names:
                samples[n].append(live_lag(c, n))
        c.run(t)

    until(2)
    c.crash("b")
    until(5)
    c.recover("b")
    until(6)
    c.cut("L", "c")
    until(7)
    c.partition(["L"])  # L keeps writing alone: a's log will not have those entries
    until(7.5)
    c.promote("a", followers=["b", "c"])
    until(8.5)
    c.heal()
    c.rejoin("L")  # L rolls back what only it had
    until(10)
    writer.stop()
    c.advance(1)
    return c, np.array(times), samples


def test_lag_from_the_record_equals_what_the_live_cluster_showed_at_the_time():
    c, times, samples = sampled_scenario()
    assert any(e.kind == "rollback" and e.node == "L" for e in c.history.events)
    for node in c.names:
        behind, seconds = c.history.lag(node, times)
        assert list(behind) == [b for b, _ in samples[node]], node
        np.testing.assert_allclose(seconds, [s for _, s in samples[node]], atol=1e-9, err_msg=node)
    assert max(b for b, _ in samples["b"]) >= 29  # down for 3 s at 10 writes/s


def test_asking_again_later_gives_the_same_answer():
    c, times, _ = sampled_scenario()
    before = {n: c.history.lag(n, times) for n in c.names}
    lost_before = [o.id for o in c.lost_writes(at=7.4)]
    c.crash("a")
    c.promote("b")
    c.advance(3)
    for n in c.names:
        np.testing.assert_array_equal(c.history.lag(n, times)[0], before[n][0])
        np.testing.assert_allclose(c.history.lag(n, times)[1], before[n][1])
    assert [o.id for o in c.lost_writes(at=7.4)] == lost_before


def test_lost_writes_at_a_past_moment_and_now():
    c, _, _ = sampled_scenario()
    # before the failover nothing acknowledged was missing from the leader of the moment
    assert c.lost_writes(at=7.4) == []
    lost = c.lost_writes()
    # the writes L took alone between the partition (t=7) and the promotion (t=7.5)
    assert lost and all(7.0 <= o.invoke <= 7.5 and o.node == "L" for o in lost)
    assert {e.change[1] for e in c.nodes["L"].rolled_back} >= {o.value for o in lost}


def test_divergence_in_the_past_comes_from_the_record():
    c, _, _ = sampled_scenario()
    during = c.divergence(at=7.45)  # c was cut off, L wrote alone: x differs
    assert "x" in during and during["x"]["L"] != during["x"]["a"]
    assert c.divergence() == {}  # after the rejoin every node agrees
    assert c.divergence(at=7.45) == during


def test_leader_at_follows_promotions_and_states_are_recorded():
    c, _, _ = sampled_scenario()
    assert c.history.leader_at(0) == "L" and c.history.leader_at(7.49) == "L"
    assert c.history.leader_at(7.51) == "a"
    assert c.history.state_at("b", 3.0).up is False and c.history.state_at("b", 5.5).up is True
    assert c.history.state_at("L", 8.0).role == "leader"  # partitioned, it still believed it led
    assert c.history.state_at("L", 8.6).role == "follower"


def test_position_is_a_step_function_of_time():
    c, _, _ = sampled_scenario()
    assert list(c.history.position("b", [0.0, 1.0, 4.0, c.now])) == [0, 10, 20, c.nodes["b"].lsn]


def test_an_outcome_is_settled_once():
    c = Cluster(sync_replicas=1)
    op = c.write("k", 1)
    c.advance(1)
    assert op.outcome == "ok"
    with pytest.raises(RecordError, match="already settled"):
        c.history.settle(op, c.now, "info")


def test_log_matching_finds_two_entries_of_one_epoch_and_agreement_after_a_difference():
    from types import SimpleNamespace

    from replsim.history.checks import check_log_matching
    from replsim.log import Entry, Log

    def node(*entries):
        log = Log()
        for e in entries:
            log.add(e)
        return SimpleNamespace(log=log)

    e1, e2, e3 = Entry(1, 1, 0.0, ("k", 1)), Entry(2, 1, 0.1, ("k", 2)), Entry(3, 2, 0.2, ("k", 3))
    shared = {"a": node(e1, e2, e3), "b": node(e1, e2), "c": node(e1)}
    assert check_log_matching(shared) == []  # the same entries (the common case)
    copies = {"a": node(e1, e2), "b": node(Entry(1, 1, 0.0, ("k", 1)), Entry(2, 1, 0.1, ("k", 2)))}
    assert check_log_matching(copies) == []  # equal entries, not the same objects
    other = Entry(2, 1, 0.1, ("k", 99))
    assert check_log_matching({"a": node(e1, e2), "b": node(e1, other)}) == [
        "a and b hold different entries at lsn 2 of epoch 1"
    ]
    forked = {"a": node(e1, Entry(2, 2, 0.1, ("k", 5)), e3), "b": node(e1, Entry(2, 3, 0.1, ("k", 6)), e3)}
    assert check_log_matching(forked) == ["a and b agree at lsn 3 (epoch 2) but differ at lsn 2"]
