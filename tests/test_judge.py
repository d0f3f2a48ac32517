"""The judge (replsim.judge): the lessons' wrong rules are caught with a seed and a shrunk replay, their
solutions pass, and a rule that raises, loops or answers nonsense is reported with its line and seed.

``REPLSIM_JUDGE_SCHEDULES`` sets how many schedules the solutions must pass: 10,000 per rule in CI
(.ci/run), 1,000 in a plain run."""

from __future__ import annotations

import os
import time

import pytest

from replsim.judge import judge
from replsim.node.election import Elections

SCHEDULES = int(os.environ.get("REPLSIM_JUDGE_SCHEDULES", "1000"))


def nearest(session, nodes):
    return min(nodes, key=lambda n: n.delay).name


def wait_for_position(session, nodes):
    up = [n for n in nodes if n.up]
    return min(up, key=lambda n: n.delay).name, session.last_seen


def first_answer(followers, nodes):
    return followers[0].name, False


def majority_most_up_to_date(followers, nodes):
    fresh = [f for f in followers if f.age <= 0.25]  # answered in the last ping round
    if len(fresh) < nodes // 2 + 1:
        return None
    return max(fresh, key=lambda f: (f.last_epoch, f.position)).name, True


def every_vote(candidate, me):
    return True


def raft_vote(candidate, me):
    if me.role != "follower" or me.voted_for not in (None, candidate.name):
        return False
    return (candidate.last_epoch, candidate.last_position) >= (me.last_epoch, me.last_position)


WRONG = {"read": nearest, "promotion": first_answer, "vote": every_vote}
RIGHT = {"read": wait_for_position, "promotion": majority_most_up_to_date, "vote": raft_vote}


@pytest.mark.parametrize("trial", WRONG)
def test_the_wrong_examples_are_caught_with_a_seed_and_a_shrunk_replay(trial):
    v = judge(WRONG[trial], trial, 60, workers=1, progress=False, show=False)
    assert v.schedules == 60 and v.failing and not v.error
    assert v.first == v.failing[0]
    assert v.story and v.story[-1].split(". ", 1)[1].startswith("found: ")
    assert v.replay is not None and v.replay.network.journal  # messages kept for the timeline
    assert f"seed {v.first}" in str(v)


@pytest.mark.slow
@pytest.mark.parametrize("trial", RIGHT)
def test_the_solutions_pass(trial):
    v = judge(RIGHT[trial], trial, SCHEDULES, workers=2, progress=False, show=False)
    assert v.passed, str(v)
    assert v.schedules == SCHEDULES


def test_the_verdict_is_the_same_with_one_or_two_workers():
    one = judge(first_answer, "promotion", 40, workers=1, progress=False, show=False)
    two = judge(first_answer, "promotion", 40, workers=2, progress=False, show=False)
    assert (one.violations, one.failing, one.story) == (two.violations, two.failing, two.story)


def raises(candidate, me):
    if candidate.term > 2:
        return {}["missing"]
    return raft_vote(candidate, me)


def loops(followers, nodes):
    while True:
        pass


def no_such_node(session, nodes):
    return "tokyo"


def not_a_bool(candidate, me):
    return "yes"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_rule_that_raises_is_reported_with_its_line_and_seed(workers):
    v = judge(raises, "vote", 50, workers=workers, progress=False, show=False)
    assert v.error_seed is not None and v.schedules == v.error_seed
    assert "raises raised KeyError" in v.error and "line 3 of raises" in v.error
    assert __file__ in v.error
    assert f"stopped at seed {v.error_seed}" in str(v)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_rule_that_never_returns_is_stopped(workers):
    start = time.perf_counter()
    v = judge(loops, "promotion", 20, workers=workers, budget=0.05, progress=False, show=False)
    assert time.perf_counter() - start < 30
    assert "took longer than 0.05 s" in v.error and "of loops" in v.error
    assert v.error_seed is not None


@pytest.mark.parametrize(
    ("rule", "trial", "says"),
    [(no_such_node, "read", "a node's name"), (not_a_bool, "vote", "True (granted) or False")],
)
def test_nonsense_answers_are_the_learners_error(rule, trial, says):
    v = judge(rule, trial, 5, workers=1, progress=False, show=False)
    assert v.error_seed is not None and says in v.error and repr(rule(None, None)) in v.error


def test_the_rule_sees_snapshots_only():
    seen = []

    def peek(candidate, me):
        seen.append((candidate, me))
        with pytest.raises(AttributeError):
            me.role = "leader"
        return raft_vote(candidate, me)

    judge(peek, "vote", 3, workers=1, progress=False, show=False)
    assert seen and all(isinstance(x, tuple) for pair in seen for x in pair)


def test_progress_is_a_line_updated_in_place(capsys):
    judge(raft_vote, "vote", 20, workers=1, show=False)
    out = capsys.readouterr().out
    assert out.startswith("Judging raft_vote, your vote rule, in 20 seeded fault schedules:\n")
    assert out.count("\r") == 10 and out.endswith("\r  20 of 20 run\n")


def test_elections_refuse_a_vote_rule_that_is_not_a_function():
    from replsim import Cluster
    from replsim.errors import ConfigError

    with pytest.raises(ConfigError, match="vote must be a function"):
        Elections(Cluster(leader="a", followers=["b", "c"], heartbeat=0.05), vote="yes")


def test_bad_arguments_are_refused_with_what_is_allowed():
    from replsim.errors import ConfigError

    with pytest.raises(ConfigError, match="trial must be one of read, promotion, vote"):
        judge(raft_vote, "votes")
    with pytest.raises(ConfigError, match="the rule must be a function"):
        judge("return True", "vote")
    with pytest.raises(ConfigError, match="schedules must be a whole number"):
        judge(raft_vote, "vote", 0)
