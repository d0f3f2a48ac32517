"""Automatic failover on lesson 6's partition: a naive monitor, fencing, majority commit, elections."""

import pytest

from replsim import Cluster
from replsim.course.split_brain import EAST, WEST, rebuild, split_brain
from replsim.errors import ConfigError
from replsim.failover import FailoverMonitor, attach, build, design_of
from replsim.history.checks import leaders_at_once, leaders_by_term, lost_by_clients
from replsim.node import LEADER


def partitioned(design, commit=None, heal_at=15.0, until=16.0):
    c = split_brain(design, commit=commit)
    c.run(until=5.0)
    c.partition(EAST, WEST)
    c.run(until=heal_at)
    at_heal = c.lost_writes()
    c.heal()
    c.run(until=until)
    return c, at_heal


def app_east(c, outcome):
    return [o for o in c.history.writes(outcome) if o.client == "app-east" and 5.0 <= o.invoke < 14.9]


def test_a_naive_monitor_promotes_the_other_side_and_the_old_leader_never_stops():
    c, at_heal = partitioned("naive", until=18.0)
    promote = [e for e in c.history.events if e.kind == "promote"]
    assert [(round(e.time, 2), e.node) for e in promote] == [(6.0, "west-1")]  # 1 s of silence, then
    assert c.node("east").role == LEADER and c.node("east").epoch == 1  # healed, and still leading
    assert leaders_at_once(c.history, c.now) == [(6.0, 18.0, ("east", "west-1"))]
    assert len(at_heal) == len(app_east(c, "ok")) == 50  # 5 a second for 10 s, acknowledged by east alone
    assert len(c.lost_writes()) == 65 and lost_by_clients(c) == c.lost_writes()
    c.rejoin("east")
    c.run(until=19.0)
    assert len(c.node("east").rolled_back) == 65  # exactly what was lost
    assert leaders_by_term(c.history, c.now) == {1: ["east"], 2: ["west-1"]}


def test_with_fencing_the_old_leader_steps_down_once_it_hears_the_newer_epoch():
    c, at_heal = partitioned("fencing")
    fenced = [e for e in c.history.events if e.kind == "fenced"]
    assert len(fenced) == 1 and fenced[0].node == "east" and 15.0 < fenced[0].time < 15.05
    assert [e.node for e in c.history.events if e.kind == "rejoin"] == ["east"]  # the monitor repoints it
    (start, end, who), *_ = leaders_at_once(c.history, c.now)
    assert (start, who) == (6.0, ("east", "west-1")) and end == fenced[0].time
    thrown = c.node("east").rolled_back
    assert len(thrown) == len(c.lost_writes()) == len(at_heal) + 1 == 51
    assert c.divergence() == {}


def test_with_majority_commit_a_minority_leader_acknowledges_nothing():
    c, at_heal = partitioned("fencing", commit="majority")
    assert at_heal == [] and c.lost_writes() == []
    assert app_east(c, "ok") == [] and len(app_east(c, "info")) == 50  # every one an unknown outcome
    assert len(c.node("east").rolled_back) == 51  # taken into its log, never acknowledged, thrown away


def test_with_majority_elections_nothing_acknowledged_is_lost_and_the_minority_cannot_write():
    c, at_heal = partitioned("quorum")
    assert at_heal == [] and c.lost_writes() == []
    assert app_east(c, "ok") == [] and len(app_east(c, "fail")) > 40
    assert all(len(names) == 1 for names in leaders_by_term(c.history, c.now).values())
    assert [e.kind for e in c.history.events if 5.0 < e.time < 5.3] == ["candidate", "elected", "step down"]
    assert design_of(c) == "quorum" and c.divergence() == {}


def test_asynchronous_commit_loses_writes_even_with_elections():
    c, at_heal = partitioned("quorum", commit="async")
    assert len(at_heal) == len(c.lost_writes()) == 2  # acknowledged by east before it stepped down


def test_the_monitor_runs_on_a_node_and_stops_with_it():
    c = split_brain("naive")
    c.run(until=2.0)
    c.crash("west-2")  # where the monitor runs
    c.crash("east")
    c.run(until=6.0)
    assert c.leader == "east" and not [e for e in c.history.events if e.kind == "promote"]
    c.recover("west-2")
    c.run(until=8.0)
    assert c.leader == "west-1"  # back up, it waits one timeout, then fails over


def test_a_design_can_be_rebuilt_from_the_recipe():
    c = split_brain("naive", seed=3)
    other = rebuild(c, "quorum")
    assert design_of(other) == "quorum" and other.sim.seed == 3 and other.now == 0.0
    assert sorted(other.clients) == ["app-east", "app-west"]
    with pytest.raises(ConfigError, match="recipe"):
        rebuild(Cluster(), "naive")


def test_build_and_attach_check_their_input():
    c = build("operator", ["a", "b", "c"], commit="majority")
    assert c.failover is None and c.node("a").sync_replicas == 1
    with pytest.raises(ConfigError, match="design must be one of"):
        build("raft", ["a", "b"])
    with pytest.raises(ConfigError, match="at least two nodes"):
        build("naive", ["a"])
    with pytest.raises(ConfigError, match="commit must be one of"):
        build("naive", ["a", "b"], commit="all")
    with pytest.raises(ConfigError, match="one number of seconds"):
        build("naive", ["a", "b"], timeout=(1, 2))
    with pytest.raises(ConfigError, match="no monitor"):
        build("quorum", ["a", "b", "c"], on="a")
    with pytest.raises(ConfigError, match="two ping intervals"):
        FailoverMonitor(Cluster(), timeout=0.3, interval=0.25)
    with pytest.raises(ConfigError, match="already has an automatic failover"):
        attach(build("naive", ["a", "b"]), "fencing")


def test_the_monitor_repoints_a_follower_still_in_an_old_epoch():
    """A follower the monitor could not reach at a promotion still points at the old leader, which no
    longer streams to it; once reachable it is repointed (found by a fault schedule, seed 1236)."""
    from replsim.faults import Config, generate, run

    result = run(generate(1236, Config(design="fencing")))
    assert result.violations == [] and result.findings["diverged after healing"] == 0
    assert "n3" in [e.node for e in result.cluster.history.events if e.kind == "rejoin"]


def test_the_promotion_rule_is_a_function_a_learner_can_replace():
    """The monitor asks its promotion rule whom to promote; here, always the last node it can reach."""
    from replsim.failover import most_up_to_date

    def last_reachable(choices, names):
        return max(choices, key=names.index)

    picks = {}
    for rule in (most_up_to_date, last_reachable):
        c = Cluster("n1", ["n2", "n3", "n4"], heartbeat=0.05, delay=0.005, seed=2)
        FailoverMonitor(c, on="n4", timeout=0.5, interval=0.1, promotion=rule)
        c.start_writes(rate=50)
        c.cut("n1", "n2")  # n2 falls behind: the default rule never picks it
        c.advance(1.0)
        c.crash("n1")
        c.advance(2.0)
        picks[rule.__name__] = c.leader
    assert picks == {"most_up_to_date": "n3", "last_reachable": "n4"}
    with pytest.raises(ConfigError, match="promotion must be a function"):
        FailoverMonitor(Cluster("a", ["b", "c"]), promotion="n2")
