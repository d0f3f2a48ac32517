"""Elections by majority vote, as lesson 6 tells them: terms, one vote, up-to-date voters, timeouts."""

import pytest

from replsim import Cluster
from replsim.course.elections import time_to_elect
from replsim.errors import ConfigError
from replsim.history.checks import leaders_at_once, leaders_by_term
from replsim.node import CANDIDATE, FOLLOWER, LEADER
from replsim.node.election import Elections, leaders_elected

NAMES = ["n1", "n2", "n3", "n4", "n5"]


def cluster(n=5, seed=3, **kw):
    kw.setdefault("delay", 0.005)
    kw.setdefault("jitter", 0.001)
    kw.setdefault("heartbeat", 0.05)
    c = Cluster(leader="n1", followers=NAMES[1:n], seed=seed, **kw)
    return c, Elections(c, (0.15, 0.30))


def test_a_crashed_leader_is_replaced_by_a_majority_vote_within_a_few_timeouts():
    c, el = cluster()
    c.start_writes(rate=20)
    c.run(until=2.0)
    c.crash("n1")
    c.run(until=3.0)
    win = el.first_win(2.0)
    assert win is not None and 2.0 < win.won < 2.0 + 2 * 0.30 + 0.05
    assert c.leader == win.candidate and c.node(win.candidate).role == LEADER
    assert len(win.votes) >= 3 and win.candidate in win.votes
    assert [e.kind for e in c.history.events if e.time >= 2.0][:3] == ["crash", "candidate", "elected"]
    assert c.history.leader_at(c.now) == win.candidate  # the record knows the new leader
    assert len(c.lost_writes()) == 0  # majority commit: the winner holds every acknowledged write
    ok = c.history.writes("ok")
    assert ok and max(o.invoke for o in ok) > win.won  # writes resumed on the new leader


def test_at_most_one_leader_per_term_and_terms_only_grow():
    c, el = cluster()
    c.start_writes(rate=20)
    for t, action in [(1, lambda: c.crash("n1")), (2, lambda: c.partition(["n2", "n3"])), (4, c.heal)]:
        c.run(until=t)
        action()
    c.run(until=6.0)
    terms = leaders_by_term(c.history, c.now)
    assert all(len(names) == 1 for names in terms.values()) and len(terms) >= 2
    assert all(len(w) == 1 for w in leaders_elected(el.rounds).values())
    for track in c.history.tracks.values():
        epochs = [s.epoch for s in track.states]
        assert epochs == sorted(epochs)


def test_a_voter_votes_once_per_term_and_never_for_a_shorter_log():
    c, el = cluster(n=3)
    c.start_writes(rate=10, count=5)
    c.run(until=1.0)
    voter = el.electors["n3"]
    sent = []
    c.nodes["n3"].send = lambda dst, kind, msg, size=0: sent.append((dst, kind, msg))
    log = c.nodes["n3"].log
    voter.on_vote("n2", 5, log.last_lsn, log.last_epoch)  # as up to date: granted
    voter.on_vote("n1", 5, log.last_lsn, log.last_epoch)  # the same term, another candidate: refused
    voter.on_vote("n1", 6, log.last_lsn - 1, log.last_epoch)  # a later term, but a shorter log: refused
    voter.on_vote("n1", 7, 0, log.last_epoch + 1)  # a later last epoch beats a longer log: granted
    assert [(dst, msg[1], msg[2]) for dst, _, msg in sent] == [
        ("n2", 5, True),
        ("n1", 5, False),
        ("n1", 6, False),
        ("n1", 7, True),
    ]
    assert voter.voted == (7, "n1") and c.nodes["n3"].epoch == 7 and c.nodes["n3"].role == FOLLOWER


def test_a_leader_cut_off_in_a_minority_steps_down_and_acknowledges_nothing():
    c, el = cluster(n=5)
    c.run(until=1.0)
    c.partition(["n1", "n2"])
    c.run(until=1.02)
    op = c.write("k", "minority", node="n1")  # n1 still believes it leads: it takes the write...
    c.run(until=2.0)
    assert op.outcome == "info"  # ...but cannot reach a majority: never acknowledged, then given up
    steps = [e for e in c.history.events if e.kind == "step down"]
    assert steps and steps[0].node == "n1" and steps[0].time < 1.0 + 2 * 0.15 + 0.05
    assert c.leader in ("n3", "n4", "n5") and c.node(c.leader).role == LEADER
    c.write("k", "majority", node=c.leader)  # acknowledged by the majority side
    c.run(until=2.5)
    c.heal()
    c.run(until=4.0)
    assert {n.store.get("k") for n in c.nodes.values()} == {"majority"}  # the minority's entry is gone
    assert len({n.lsn for n in c.nodes.values()}) == 1


def test_a_candidate_that_hears_the_winner_of_its_term_follows_it():
    c, el = cluster(n=3)
    c.run(until=0.5)
    node = c.nodes["n3"]
    el.electors["n3"]._stand()
    assert node.role == CANDIDATE and node.epoch == 2
    c.run(until=1.0)
    assert sum(n.role == LEADER for n in c.nodes.values()) == 1
    assert node.role in (LEADER, FOLLOWER)


def test_timeouts_are_drawn_from_each_nodes_own_stream():
    a = [r.start for r in cluster(seed=1)[1].rounds]
    runs = []
    for seed in (1, 1, 2):
        c, el = cluster(seed=seed)
        c.run(until=0.5)
        c.crash("n1")
        c.run(until=1.5)
        runs.append([(r.term, r.candidate, round(r.start, 9)) for r in el.rounds])
    assert a == [] and runs[0] == runs[1] != runs[2]


def test_without_random_timeouts_every_round_is_a_split_vote():
    stuck = time_to_elect((0.15, 0.15), seed=0, limit=3.0)
    assert stuck.seconds is None and stuck.split_votes > 10
    quick = time_to_elect((0.15, 0.30), seed=0)
    assert quick.seconds is not None and quick.seconds < 0.5
    assert time_to_elect((0.15, 0.30), seed=0) == quick  # deterministic


def test_a_fork_runs_its_own_elections():
    c, el = cluster()
    c.run(until=1.0)
    c.crash("n1")
    other = c.fork()
    c.run(until=2.0)
    other.run(until=2.0)
    assert other.failover is not el and other.failover.rounds == el.rounds
    assert other.leader == c.leader and other.node(other.leader) is not c.node(c.leader)


def test_leaders_at_once_are_recorded_when_the_old_leader_has_not_stepped_down_yet():
    c, _ = cluster(n=3, seed=8)
    c.run(until=1.0)
    c.partition(["n1"])
    c.run(until=3.0)
    both = leaders_at_once(c.history, c.now)
    assert all(b - a <= 0.35 for a, b, _ in both)  # at most about an election timeout


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"timeout": 0.2}, "timeout must be \\(low, high\\)"),
        ({"timeout": (0.3, 0.2)}, "low <= high"),
        ({"timeout": (0.0, 0.2)}, "> 0"),
        ({"timeout": (0.01, 0.02)}, "heartbeat"),
        ({"commit": "all"}, "commit must be one of"),
        ({"check_quorum": "yes"}, "check_quorum"),
    ],
)
def test_bad_election_settings_are_refused_with_a_reason(kw, message):
    c = Cluster(leader="n1", followers=["n2", "n3"], heartbeat=0.05)
    timeout = kw.pop("timeout", (0.15, 0.3))
    with pytest.raises(ConfigError, match=message):
        Elections(c, timeout, **kw)


def test_one_automatic_failover_per_cluster():
    c, _ = cluster(n=3)
    with pytest.raises(ConfigError, match="already has an automatic failover"):
        Elections(c)
    with pytest.raises(ConfigError, match="need a Cluster"):
        Elections("n1")
    no_heartbeat = Cluster(leader="n1", followers=["n2"], heartbeat=None)
    with pytest.raises(ConfigError, match="heartbeat"):
        Elections(no_heartbeat)


def test_majority_elections_and_a_chosen_commit_policy_are_refused_in_either_order():
    from replsim.node.commit import Quorum

    c = Cluster(leader="n1", followers=["n2", "n3"], heartbeat=0.05)
    c.set_commit(Quorum(1))
    with pytest.raises(ConfigError, match="commit='async' to keep the cluster's policy"):
        Elections(c)
    Elections(c, commit="async")  # the cluster's policy stays
    assert c.node("n1").commit.describe() == Quorum(1).describe()
    d, _ = cluster(n=3)
    with pytest.raises(ConfigError, match="sync_replicas=1"):
        d.set_commit(Quorum(1))


def test_a_win_of_an_older_term_learned_late_does_not_move_the_clients():
    """n2 wins term 4 after n1 has won term 5 (a vote delayed on a jittery link): n1 stays the leader
    clients write to, and the record says which win came late (found by a fault schedule, seed 1860)."""
    c = Cluster(leader="n1", followers=["n2", "n3"], delay=0.02, jitter=0.02, heartbeat=0.1, seed=1860)
    Elections(c, (0.3, 0.6))
    writers = [
        c.start_writes(rate=20.0, keys=["a", "b", "c"]),
        c.start_writes(rate=10.0, keys=["d"], node="n1"),
    ]
    c.run(until=6.004)
    c.crash("n3")
    c.run(until=7.718)
    c.crash("n2")
    c.run(until=8.0)
    for w in writers:
        w.stop()
    c.recover("n2")
    c.recover("n3")
    c.run(until=11.0)
    wins = [(e.kind, e.node) for e in c.history.events if e.kind.startswith("elected")]
    assert wins == [("elected", "n1"), ("elected late", "n2")]
    assert c.leader == "n1" and c.node("n1").role == LEADER
    assert all(n.leader == "n1" for name, n in c.nodes.items() if name != "n1")


def test_time_to_elect_crashes_the_leader_of_the_moment_not_always_n1():
    """Links slower than the timeouts: an election already moved the lead away from n1 before the crash.
    Crashing n1 then measured nothing ("no leader in 10 s" while one existed); the leader crashes now."""
    slow = {"delay": 0.1, "jitter": 0.05, "heartbeat": 0.1}
    out = time_to_elect((0.15, 0.30), seed=0, **slow)
    names = [f"n{i}" for i in range(1, 6)]
    c = Cluster(leader="n1", followers=names[1:], seed=0, **slow)
    Elections(c, (0.15, 0.30))
    c.run(until=1.0 + c.sim.stream("crash time").uniform(0.0, 0.1))  # the same moment as time_to_elect's
    assert c.leader != "n1" and c.node(c.leader).role == "leader"
    assert out.crashed == c.leader and out.seconds is not None and out.seconds < 10.0
    assert time_to_elect((0.15, 0.30), seed=0).crashed == "n1"  # a settled cluster: n1 still leads


def test_a_slow_follower_answers_a_new_leader_at_once_so_check_quorum_keeps_it():
    """Found by 10,000 schedules (seed 4936 of quorum with 5% loss): a follower that applies 50 ms an
    entry holds a long queue of the old leader's stream when a new leader takes over. It checks the new
    stream only once it has applied the queue, but it answers each message at once ("alive, in your
    term"), as a standby answers keepalives; before, it said nothing for seconds, so the new leader heard
    from no majority, stepped down, won again, and so on until the queue was applied."""
    c = Cluster(leader="n1", followers=["n2", "n3"], delay=0.005, heartbeat=0.1, seed=3)
    Elections(c, timeout=(0.3, 0.6))
    c.set_stages("n3", apply=0.05)
    for i in range(60):
        c.write("k", i)  # n3 needs 3 s to apply them all
    c.advance(0.05)
    c.crash("n1")
    c.advance(1.0)
    new = c.leader
    assert new == "n2" and c.node("n3").applied_by > c.now + 1.0  # n3 is still working off its queue
    c.advance(4.0)
    steps = [e for e in c.history.events if e.kind == "step down"]
    assert steps == [] and c.leader == new and c.node("n3").leader == new
    assert c.node("n3").lsn == c.node(new).lsn
