"""Commit policies and follower stages: what a client waits for, and what each policy promises.

Latencies are worked out by hand: a client next to the leader is 0.5 ms away, the
standbys 10 ms, and a standby with stages takes 4 ms to flush and 3 ms per entry to apply.
"""

import pytest

from replsim import Cluster
from replsim.errors import ConfigError, NodeStateError
from replsim.faults import Config, explore, generate, run, shrink
from replsim.history.checks import AckWatch
from replsim.node import replication
from replsim.node.commit import Async, First, Quorum, SemiSync, Sync
from replsim.node.replication import HEADER

FLUSH, APPLY = 0.004, 0.003


def staged(policy=None, followers=("s1", "s2"), **kw):
    """A leader and standbys 10 ms away, each with a flush and an apply stage, streaming for 1 s."""
    c = Cluster(leader="p", followers=list(followers), delay=0.010, seed=1, **kw)
    for f in followers:
        c.set_stages(f, flush=FLUSH, apply=APPLY)
    if policy is not None:
        c.set_commit(policy)
    c.advance(1.0)  # the first heartbeat: every standby has checked the leader's stream
    return c


def latency(c, client="app"):
    app = c.clients.get(client) or c.client(client, near=c.leader)
    op = app.write("k", len(c.history.ops))
    c.advance(1.0)
    assert op.outcome == "ok"
    return round(op.complete - op.invoke, 6)


@pytest.mark.parametrize(
    "stage, waited", [("received", 0), ("flushed", FLUSH), ("applied", FLUSH + APPLY)], ids=lambda v: str(v)
)
def test_what_a_confirmation_means_sets_the_wait(stage, waited):
    c = staged(First(1, ["s1", "s2"], stage=stage))
    assert latency(c) == pytest.approx(0.0005 + 0.010 + waited + 0.010 + 0.0005)


def test_async_does_not_wait_and_a_standby_shows_only_what_it_has_applied():
    c = staged(Async())
    assert latency(c) == pytest.approx(0.001)
    op = c.write("k", "new")
    c.advance(0.010)  # arrived at s1: received, not yet flushed or applied
    s1 = c.node("s1")
    assert s1.received_lsn == op.lsn and s1.lsn == op.lsn - 1
    assert c.read("k", node="s1") != "new" and c.lag()["s1"] == 1
    c.advance(FLUSH + APPLY)
    assert c.read("k", node="s1") == "new" and s1.lsn == op.lsn


def test_a_busy_standby_falls_behind_in_applying_and_catches_up():
    c = Cluster(leader="p", followers=["busy"], delay=0.005, seed=1)
    c.set_stages("busy", apply=0.004)  # applies 250 entries a second
    w = c.start_writes(rate=500)
    c.advance(1.0)
    w.stop()
    busy = c.node("busy")
    assert busy.received_lsn >= 495 and 230 <= busy.lsn <= 260  # received nearly all, applied half
    c.advance(2.0)
    assert busy.lsn == c.node("p").lsn == 500


def test_a_read_waiting_for_a_position_waits_for_it_to_be_applied():
    c = staged()
    app = c.client("app", near="s1")
    w = app.write("k", "mine")
    c.advance(0.0205)  # the reply is back: s1 has received the write, not applied it
    r = app.read("k", node="s1", after=app.last_write)
    c.advance(1.0)
    assert w.outcome == "ok" and r.value == "mine"
    assert r.complete - r.invoke > 0.001  # it waited for the apply


def test_a_crash_or_a_promotion_keeps_what_a_standby_received():
    for fault in ("promote s1", "crash s1"):
        c = staged(First(1, ["s1"], stage="received"))
        c.set_stages("s1", flush=FLUSH, apply=0.050)  # slow to apply: confirmed long before applied
        op = c.write("k", 1)
        c.advance(0.0201)
        s1 = c.node("s1")
        assert op.outcome == "ok" and s1.lsn < op.lsn and s1.received_lsn == op.lsn
        if fault == "promote s1":
            c.crash("p")
            c.promote("s1")  # like a standby replaying all the WAL it received before it is promoted
            assert c.lost_writes() == []
        else:
            c.crash("s1")  # a process crash: what it received is not lost
        assert s1.log.holds(op.lsn, op.epoch)


def test_first_k_waits_for_a_dead_standby_until_it_counts_as_disconnected():
    c = staged(First(1, ["s1", "s2"], timeout=2.0))
    c.crash("s1")
    app = c.client("app", near="p", timeout=10.0)
    op = app.write("k", 1)
    c.advance(5.0)
    # s1 crashed before the heartbeat of t = 1.0 reached it: last heard at 0.52 (its ack of the one
    # at 0.5); 2 s later it no longer counts as connected, and s2, which has the write, is synchronous
    assert op.outcome == "ok" and op.complete == pytest.approx(0.52 + 2.0 + 0.0005)
    assert c.node("p").commit.candidates(c.node("p")) == ["s2"]
    alone = staged(First(1, ["s1"], timeout=2.0))
    alone.crash("s1")
    stuck = alone.write("k", 1)
    alone.advance(30.0)
    assert stuck.outcome == "pending"  # nobody else may confirm: writes wait as long as s1 is down
    alone.recover("s1")
    alone.advance(1.0)
    assert stuck.outcome == "ok"


def test_a_returning_standby_counts_again_only_once_it_has_caught_up():
    c = staged(First(1, ["s1", "s2"], timeout=1.0))
    c.start_writes(rate=100)
    c.crash("s1")
    c.advance(3.0)  # s2 stood in after 1 s
    c.recover("s1")  # 3 s behind: it catches up while s2 stays synchronous
    lead = c.node("p")
    c.advance(0.003)
    assert lead.commit.candidates(lead) == ["s2"]
    c.advance(1.0)
    assert lead.commit.candidates(lead) == ["s1"]
    late = [o for o in c.history.writes() if o.invoke > 3.5]
    assert all(o.complete is not None for o in late if o.invoke < c.now - 0.03)  # only the newest wait
    assert max(o.complete - o.invoke for o in late if o.complete is not None) < 0.03  # no pause


def test_first_k_follows_a_slow_standby_while_any_k_takes_the_fastest():
    results = {}
    for policy in (First(1, ["slow", "fast"]), Quorum(1, ["slow", "fast"])):
        c = staged(policy, followers=("slow", "fast"))
        c.set_link("p", "slow", delay=0.100)
        results[type(policy).__name__] = latency(c)
    assert results == {
        "First": pytest.approx(0.2 + FLUSH + 0.001),
        "Quorum": pytest.approx(0.02 + FLUSH + 0.001),
    }


def test_any_k_needs_k_confirmations():
    c = staged(Quorum(2, ["s1", "s2", "s3"]), followers=("s1", "s2", "s3"))
    c.set_link("p", "s3", delay=0.050)
    c.set_link("p", "s2", delay=0.030)
    assert latency(c) == pytest.approx(0.06 + FLUSH + 0.001)  # the second fastest: s2


def test_semi_sync_falls_back_after_its_timeout_and_returns_when_a_replica_catches_up():
    c = Cluster(leader="p", followers=["r"], delay=0.010, seed=1)
    c.set_commit(SemiSync(timeout=0.5))
    c.crash("r")
    w = c.start_writes(rate=10)
    c.advance(2.0)
    c.recover("r")
    c.advance(1.0)
    w.stop()
    waits = [round(o.complete - o.invoke, 6) for o in c.history.writes()]
    assert waits[:7] == pytest.approx([0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0])  # all released at t = 0.5
    assert waits[-1] == pytest.approx(0.02)  # waiting for the replica again
    kinds = [(round(e.time, 3), e.kind) for e in c.history.events if e.kind.startswith("semi-sync")]
    assert kinds == [(0.5, "semi-sync off"), (2.03, "semi-sync on")]  # r asks at 2.0, gets lsn 1-20 at 2.02


def test_the_watch_records_who_confirmed_each_write():
    c = staged(Quorum(1, ["s1", "s2"]))
    watch = AckWatch(c)
    c.set_link("p", "s2", delay=0.050)
    latency(c)
    (confirmed,) = watch.confirmers.values()
    assert confirmed == ["s1"] and watch.check() == []
    assert c.node("s1").holds_received(1, 1)


def test_a_fork_has_its_own_policy_and_stages():
    c = staged(First(1, ["s1", "s2"]))
    c.set_stages("s1", flush=FLUSH, apply=0.05)
    c.write("k", 1)
    c.advance(0.015)  # s1 has received the write, not applied it
    f = c.fork()
    assert f.node("s1")._inbox and f.node("p").commit.node is f.node("p")
    op = f.write("k", 2)
    f.advance(1.0)
    assert op.outcome == "ok" and f.node("s1").lsn == 2
    assert len(c.history.ops) == 1 and c.node("s1").lsn == 0  # the original did not move


def test_bad_commit_settings_are_refused_with_what_is_allowed():
    c = Cluster(leader="p", followers=["s1", "s2"])
    for make, match in [
        (lambda: First(0, ["s1"]), "k must be a whole number >= 1"),
        (lambda: First(3, ["s1", "s2"]), "more than the 2 standbys named"),
        (lambda: First(1, "s1"), "names must be a list"),
        (lambda: First(1, ["s1", "s1"]), "each standby once"),
        (lambda: Quorum(1, ["s1"], stage="durable"), "stage must be one of 'received' \\(remote_write\\)"),
        (lambda: SemiSync(timeout=0), "timeout must be a number of seconds > 0"),
        (lambda: c.set_commit(First(1, ["s9"])), "unknown standby 's9'"),
        (lambda: c.set_commit(Quorum(3)), "more than the 2 followers"),
        (lambda: c.set_commit("sync"), "takes a policy from replsim.node.commit"),
        (lambda: Cluster(sync_replicas=1).set_commit(Async()), "sync_replicas=1"),
        (lambda: c.set_stages("s1", apply=-1), "apply must be a finite number"),
        (lambda: c.set_stages("s1", flush=120), "at most 60 seconds"),
    ]:
        with pytest.raises(ConfigError, match=match):
            make()
    s = Cluster(leader="p", followers=["s1"], seed=1)
    s.set_commit(First(1, ["s1"]))
    s.crash("s1")
    s.write("k", 1)
    with pytest.raises(NodeStateError, match="writes are waiting"):
        s.set_commit(Async())


# --- the promises, over seeded fault schedules (see test_faults.py for the engine's) -----------
def _confirms_unchecked(monkeypatch):
    """A standby with stages confirms whatever it is sent, before checking it follows its log."""
    original = replication.Node._receive

    def _receive(self, src, epoch, prev_lsn, prev_epoch, entries, history):
        if self.up and entries and epoch >= self.epoch:
            self.send(src, "confirm", (self.name, epoch, entries[-1].lsn, True), HEADER)
        return original(self, src, epoch, prev_lsn, prev_epoch, entries, history)

    monkeypatch.setattr(replication.Node, "_receive", _receive)


def _promotion_forgets_what_was_received(monkeypatch):
    """A promoted standby drops what it received but had not applied (instead of replaying it)."""
    original = replication.Node.become_leader

    def become_leader(self, epoch, followers):
        self._inbox.clear()
        return original(self, epoch, followers)

    monkeypatch.setattr(replication.Node, "become_leader", become_leader)


@pytest.mark.slow  # 300 fault schedules each: in `make test`, not in `make quick`
@pytest.mark.parametrize(
    "plant, config, says",
    [
        (
            _confirms_unchecked,
            Config(mode="any", loss=0.05),
            "counted as confirming it, but never had it",
        ),
        (_promotion_forgets_what_was_received, Config(mode="first"), "had confirmed it"),
    ],
    ids=["confirm-unchecked", "promotion-forgets"],
)
def test_the_commit_checks_catch_a_planted_bug(plant, config, says, monkeypatch):
    plant(monkeypatch)
    report = explore(config, range(300), shrink_failures=False, max_failures=1)
    assert report.failures, "the checks missed a bug planted on purpose"
    failure = report.failures[0]
    assert any(says in v for v in failure.violations)
    small = shrink(generate(failure.seed, config))
    assert run(small).violations
    out = {}
    exec(compile(small.replay().replace("print(", "out['bad'] = ("), "replay", "exec"), {"out": out})
    assert out["bad"], "the replay script reproduces the failure on its own"


def test_policy_schedules_name_their_policy_and_stages_and_leave_the_old_modes_alone():
    s = generate(3, Config(mode="first"))
    assert s.commit.startswith("First(") and s.sync_replicas == 0
    assert "c.set_commit(First(" in s.replay()
    assert "from replsim.node.commit import First, Quorum, SemiSync" in s.replay()
    old = Config(mode="one", clients=False, stages=False, idle=False)  # without the extra faults of v3
    assert generate(3, old).commit == "" and generate(3, old).stages == ()
    assert generate(3, Config(mode="one")).commit == ""  # the old modes never get a policy


# --- review v3, bugs 2 and 3 --------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(10))
def test_a_busy_standby_that_falls_far_behind_applies_everything_in_the_end(seed):
    """Bug 2: 20 ms per entry at 200 writes a second, early in a run: the apply events of messages that
    add nothing (heartbeats) were reordered by rounding, one was left at the head of the inbox with no
    event to apply it, and the standby stopped applying for good."""
    c = Cluster(leader="L", followers=["A", "B"], delay=0.002, jitter=0.001, heartbeat=0.05, seed=seed)
    c.set_stages("A", flush=0.001, apply=0.020)
    c.start_writes(rate=200, count=300)
    c.advance(60.0)
    assert c.node("A").lsn == c.node("L").lsn == 300 and not c.node("A")._inbox


def test_first_k_keeps_an_idle_standby_connected_without_heartbeats():
    """Bug 3: with heartbeat=None the leader sends an idle standby a keepalive every half timeout, as
    PostgreSQL's walsender does, so a healthy standby that confirmed early still counts when the other
    comes back, and the write both hold is acknowledged."""
    c = Cluster(leader="L", followers=["A", "B"], delay=0.005, heartbeat=None, seed=1)
    c.set_commit(First(2, ["A", "B"], timeout=1.0))
    c.partition(["B"])
    op = c.write("k", 1)
    c.advance(2.0)
    lead = c.node("L")
    assert op.outcome == "pending" and lead.commit.connected(lead) == ["A"]  # B is away; A answers keepalives
    c.heal()
    c.rejoin("B")
    c.advance(1.0)
    assert op.outcome == "ok" and lead.commit.connected(lead) == ["A", "B"]
    c.advance(100.0)  # idle: still connected
    assert lead.commit.connected(lead) == ["A", "B"]


def test_one_quorum_rule():
    from replsim.node.quorum import kth_highest, majority

    assert [majority(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert [kth_highest([5, 9, 7], k) for k in (1, 2, 3)] == [9, 7, 5]
    assert kth_highest([5, 9], 3) == 0 and kth_highest([], 1) == 0


# --- sync_replicas is a commit policy like the others, checked by the same watch ---------------
def test_sync_replicas_is_the_sync_policy_and_a_chosen_policy_takes_over():
    c = Cluster(leader="L", followers=["A", "B"], sync_replicas=2, delay=0.01, heartbeat=None, seed=1)
    policy = c.node("L").commit
    assert isinstance(policy, Sync) and policy.k == 2 and policy.node is c.node("L")
    assert repr(policy) == "Sync(2 synchronous replicas (any, applied))"
    op = c.write("k", 1)
    assert op.outcome == "pending"
    c.advance(0.015)  # A and B have it; their acknowledgements are on the way back
    assert op.outcome == "pending"
    c.advance(0.01)
    assert op.outcome == "ok" and op.complete == pytest.approx(0.02, abs=1e-9)
    plain = Cluster(leader="L", followers=["A", "B"], seed=1)
    assert plain.node("L").commit is None and plain.write("k", 1).outcome == "ok"
    plain.node("L").sync_replicas = 1  # what majority commit does to each node
    assert isinstance(plain.node("L").commit, Sync)
    plain.node("L").set_commit(Async())  # a chosen policy decides, whatever sync_replicas says
    assert isinstance(plain.node("L").commit, Async) and plain.write("k", 2).outcome == "ok"
    plain.node("L").set_commit(None)
    assert isinstance(plain.node("L").commit, Sync)


def test_set_commit_takes_sync_as_it_takes_the_other_policies():
    c = Cluster(leader="L", followers=["A", "B"], delay=0.01, heartbeat=None, seed=1)
    c.set_commit(Sync(1))
    op = c.write("k", 1)
    c.advance(0.02)
    assert op.outcome == "ok" and "1 synchronous replica (any, applied)" in c.history.events[-1].detail
    with pytest.raises(ConfigError, match="more than the 2 followers"):
        c.set_commit(Sync(3))


def test_the_one_watch_catches_a_sync_leader_that_acknowledges_too_early(monkeypatch):
    monkeypatch.setattr(Sync, "position", lambda self, node: node.log.last_lsn)  # counts nobody
    c = Cluster(leader="L", followers=["A", "B"], sync_replicas=2, delay=0.01, heartbeat=None, seed=1)
    c.set_link("L", "A", delay=0.1)
    watch = AckWatch(c)
    op = c.write("k", 1)
    c.advance(0.05)  # B's acknowledgement came back; A does not have the write yet
    assert op.outcome == "ok"
    said = [v.split(") ", 1)[1] for v in watch.check()]  # each after the write, as it was then
    assert said == [
        "acknowledged under 2 synchronous replicas (any, applied) with only ['B'] confirming",
        "acknowledged under 2 synchronous replicas (any, applied) while ['A'] do not hold it",
    ]


def test_a_write_to_a_deposed_leader_is_lost_to_the_promotion_before_it():
    """Found by 10,000 schedules (seed 2316 of mode "one"): n4 is promoted and nobody is told, so n1 goes
    on taking writes in its old epoch; n5 confirms one, is then repointed to n4 (which never had it) and
    promoted. The write was lost when n4 was appointed, before it was written: no promise is broken."""
    c = Cluster(leader="n1", followers=["n2", "n3", "n4", "n5"], delay=0.005, heartbeat=None, sync_replicas=1)
    for n in ("n2", "n3"):
        c.set_stages(n, flush=0.01, apply=0.02)  # slower than n5, the one that confirms
    c.set_link("n1", "n4", delay=0.05)  # n4 tells n1 it is deposed only after n5 confirmed
    watch = AckWatch(c)
    c.advance(0.4)
    c.promote("n4", [])
    op = c.write("a", 1, "n1")
    c.advance(0.1)
    assert op.outcome == "ok" and watch.confirmers[op.id] == ["n5"]
    c.rejoin("n5")
    c.advance(0.5)
    c.promote("n5")
    c.advance(1.0)
    assert op in c.lost_writes()
    assert watch.lost_to(op) == (0.4, "n4") and watch.check() == []


def test_a_write_lost_to_a_later_promotion_is_timed_from_its_acknowledgement():
    """Found by 10,000 schedules (seed 6386 of mode "one"): a client's request is on its way to n3 while
    n2, then n3, are promoted; n3 writes it, n2 confirms it; later n4, which never had it, is promoted.
    The loss is n4's promotion, not n2's, which came before the write (though after the client sent it)."""
    c = Cluster(leader="n1", followers=["n2", "n3", "n4"], delay=0.005, heartbeat=None, sync_replicas=1)
    app = c.client("app", delays={n: 0.1 for n in c.names})
    c.set_link("n1", "n3", delay=0.05)  # n2 confirms first
    c.cut("n3", "n4")  # n4 never gets what n3 writes
    watch = AckWatch(c)
    op = app.write("a", 1, node="n3")
    c.advance(0.03)
    c.promote("n2")
    c.advance(0.03)
    c.promote("n3")
    c.advance(0.3)
    assert op.outcome == "ok" and watch.confirmers[op.id] == ["n2"]
    assert op.invoke < 0.03 < watch.acked[op.id] and (0.03, "n2") in c.history.leaders
    c.promote("n4")
    c.advance(0.5)
    assert op in c.lost_writes()
    assert watch.lost_to(op) == (pytest.approx(0.36), "n4") and watch.check() == []


def test_what_happened_to_a_write_before_its_acknowledgement_does_not_count():
    """Found by 10,000 schedules (seed 1245 of mode "one"): n2, promoted with nobody told, writes a
    client's write and cannot commit it; n3's promotion takes it away, n2 promoted again brings it back,
    the client's retry is acknowledged with n3 confirming, and n1's promotion takes it away for good.
    n3 confirmed it, but did not lose it: it lacked the write only before the acknowledgement."""
    c = Cluster(leader="n1", followers=["n2", "n3"], delay=0.005, heartbeat=None, sync_replicas=1)
    delays = {n: 0.01 for n in c.names}
    app = c.client("app", delays=delays, timeout=0.1, retries=1, backoff=0.3, idempotent=True)
    watch = AckWatch(c)
    c.promote("n2", [])  # n1 and n3 are not told
    first = app.write("a", 1, node="n2")
    c.advance(0.2)
    assert first.outcome == "info"  # n2 has nobody to confirm it: the client gives up and will retry
    c.promote("n3", ["n1", "n2"])  # n2 lacks nothing yet: n3's stream has not reached it
    c.cut("n2", "n1")  # n1 will never get the write
    c.promote("n2", ["n3"])  # with the write still in its log
    c.advance(0.5)
    (retry,) = app.requests[0].attempts[1:]
    assert retry.outcome == "ok" and watch.confirmers[retry.id] == ["n3"]
    assert c.history.leaders[-2][1] == "n3" and c.history.leaders[-2][0] < watch.acked[retry.id]
    c.promote("n1", ["n2", "n3"])
    c.advance(0.5)
    assert retry in c.lost_writes()
    assert watch.lost_to(retry) == (c.history.leaders[-1][0], "n1") and watch.check() == []


def test_a_confirmer_that_discarded_a_write_after_it_was_taken_away_is_not_to_blame():
    """Found by 10,000 schedules (seed 1778 of mode "one"): n1's write is acknowledged with n2 confirming;
    n3, which never had it, is promoted (n2 follows it and discards the write), then n4, which had it,
    then n2. The write was taken away by n3's promotion, the first after the acknowledgement."""
    c = Cluster(leader="n1", followers=["n2", "n3", "n4"], delay=0.005, heartbeat=None, sync_replicas=1)
    c.cut("n1", "n3")
    c.set_link("n1", "n4", delay=0.05)  # n2 confirms first
    watch = AckWatch(c)
    op = c.write("a", 1)
    c.advance(0.2)
    assert op.outcome == "ok" and watch.confirmers[op.id] == ["n2"]
    assert c.node("n4").log.holds(op.lsn, op.epoch)
    c.promote("n3", ["n2"])
    c.advance(0.1)
    assert not c.node("n2").log.holds(op.lsn, op.epoch)
    c.promote("n4", [])
    c.promote("n2", ["n1", "n3", "n4"])
    c.advance(0.5)
    assert op in c.lost_writes()
    assert watch.lost_to(op) == (pytest.approx(0.2), "n3") and watch.check() == []


def test_a_policy_says_whether_it_promises_every_node_applied_an_acknowledged_write():
    assert Sync(2).promises_all(3) and not Sync(1).promises_all(3)
    assert Quorum(2, stage="applied").promises_all(3) and not Quorum(2).promises_all(3)  # flushed
    assert not SemiSync(2, stage="applied").promises_all(3)  # it gives up waiting after a timeout
    assert not Async().promises_all(2)
