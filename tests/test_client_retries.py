"""What clients see at a failover (lesson 5): unknown outcomes, retries that write twice, idempotency keys;
and clients placed on one side of a partition (lesson 6)."""

import pytest

from replsim import Cluster
from replsim.errors import ConfigError, NetworkError, UnknownNodeError

CHANNELS = ["Channel A", "Channel B"]


def checkout(idempotent, retries=3):
    """Alice's cart: the shop's write reaches Channel A, the anchor crashes before answering, failover."""
    c = Cluster(leader="Anchor", followers=CHANNELS, delay=0.05, sync_replicas=1, seed=5)
    shop = c.client("shop", near="Anchor", timeout=1.0, retries=retries, backoff=0.5, idempotent=idempotent)
    phone = c.client("phone", near="Channel A")
    c.run(until=1.0)
    shop.write("cart:alice", "book")
    c.run(until=1.08)
    c.crash("Anchor")
    c.run(until=2.2)
    c.promote("Channel A")
    c.run(until=2.3)
    phone.write("cart:alice", "empty")
    c.run(until=5.0)
    return c, shop


def test_an_unknown_outcome_that_did_happen_is_written_again_by_a_retry():
    c, shop = checkout(idempotent=False)
    first, retry = shop.requests[0].attempts
    assert first.outcome == "info" and first.node == "Anchor"  # no answer: unknown
    assert retry.outcome == "ok" and retry.node == "Channel A" and retry.invoke == pytest.approx(2.5)
    changes = [e.change for e in c.node("Channel A").log.entries]
    assert changes == [("cart:alice", "book"), ("cart:alice", "empty"), ("cart:alice", "book")]
    assert c.read("cart:alice", "Channel A") == "book"  # Alice's later change is undone


def test_an_idempotency_key_makes_the_retry_answer_with_the_first_write():
    c, shop = checkout(idempotent=True)
    first, retry = shop.requests[0].attempts
    assert first.outcome == "info" and retry.outcome == "ok"
    assert (retry.lsn, retry.epoch) == (1, 1)  # the entry the first attempt made
    assert [e.change for e in c.node("Channel A").log.entries] == [
        ("cart:alice", "book", "shop:1"),
        ("cart:alice", "empty"),
    ]
    assert c.read("cart:alice", "Channel A") == "empty"
    assert shop.requests[0].outcome == "ok"


def test_retries_stop_after_the_last_attempt_and_go_to_the_leader_of_the_moment():
    c = Cluster(leader="L", followers=["F"], delay=0.01, seed=1)
    app = c.client("app", near="L", timeout=0.2, retries=2, backoff=0.1)
    c.crash("L")
    app.write("k", 1)
    c.run(until=2.0)
    attempts = app.requests[0].attempts
    assert [a.outcome for a in attempts] == ["info"] * 3 and {a.node for a in attempts} == {"L"}
    c.promote("F")
    op = app.write("k", 2, node="L")  # sent to L, which is down: the retry goes to the new leader
    c.run(until=3.0)
    assert op.outcome == "info" and app.requests[1].attempts[-1].node == "F"
    assert app.requests[1].outcome == "ok" and c.read("k", "F") == 2


def test_a_follower_never_answers_for_a_write_it_holds():
    c = Cluster(leader="L", followers=["F"], delay=0.01, seed=1)
    app = c.client("app", near="L", idempotent=True)
    app.write("k", 1)
    c.run(until=1.0)
    assert c.node("F").log[1].change == ("k", 1, "app:1")
    again = app._request("write", "k", 1, "F", rid="app:1")  # the same request, sent to the follower
    c.run(until=2.0)
    assert again.outcome == "fail" and "read-only" in again.error


def test_a_client_writes_periodically_over_the_network():
    c = Cluster(leader="L", followers=["F"], delay=0.01, seed=1)
    w = c.client("app", near="F").start_writes(rate=10, keys=["a", "b"], count=5)
    c.run(until=1.0)
    ops = c.history.writes()
    assert [o.value for o in ops] == [1, 2, 3, 4, 5] and {o.client for o in ops} == {"app"}
    assert all(o.outcome == "ok" and o.complete - o.invoke == pytest.approx(0.02) for o in ops)
    assert not w.running


def test_a_client_named_in_a_partition_group_is_on_that_side():
    c = Cluster(leader="L", followers=["F1", "F2"], delay=0.01, seed=1)
    near = c.client("near", near="L", timeout=0.1)
    far = c.client("far", near="F1", timeout=0.1)
    anywhere = c.client("anywhere", timeout=0.1)
    c.partition(["L", "near"], ["F1", "F2", "far"])
    ops = [near.write("k", 1), far.write("k", 2), anywhere.write("k", 3)]
    c.run(until=1.0)
    assert [o.outcome for o in ops] == ["ok", "info", "ok"]
    assert c.network.groups() == [["L"], ["F1", "F2"]]  # groups list nodes
    c.heal()
    with pytest.raises(UnknownNodeError, match="the clients are 'near', 'far', 'anywhere'"):
        c.partition(["L", "nobody"])
    with pytest.raises(NetworkError, match="at least one node"):
        c.partition(["near"])


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"retries": -1}, "retries must be a whole number"),
        ({"retries": 1.5}, "retries must be a whole number"),
        ({"backoff": -1}, "backoff"),
        ({"idempotent": "yes"}, "idempotent must be True or False"),
    ],
)
def test_bad_retry_settings_are_refused(kw, message):
    c = Cluster()
    with pytest.raises(ConfigError, match=message):
        c.client("app", **kw)


def test_bad_writer_settings_are_refused():
    c = Cluster()
    with pytest.raises(ConfigError, match="a writer's name"):
        c.start_writes(rate=1, name="")
    with pytest.raises(UnknownNodeError):
        c.start_writes(rate=1, node="nobody")


# --- review v3, bug 1: a retry is answered only once its write is committed ------------------------
def test_a_retry_of_a_write_the_leader_logged_waits_for_the_replicas_it_promised():
    """sync_replicas=1; the leader logs the write while cut off from its followers, restarts (its queue of
    waiting writes is volatile, the log is not), and the retry with the same key arrives: it must wait
    until a follower holds the write, and is then told ok with the first attempt's position."""
    c = Cluster(leader="L", followers=["A", "B"], sync_replicas=1, delay=0.005, seed=1)
    app = c.client("app", near="L", timeout=0.2, retries=2, backoff=0.3, idempotent=True)
    c.partition(["L"], ["A", "B"])
    app.write("k", 1)
    c.advance(0.05)
    c.crash("L")
    c.recover("L")
    c.advance(0.6)  # the first attempt timed out, the retry reached L
    first, retry = app.requests[0].attempts
    assert first.outcome == "info" and retry.outcome in ("pending", "info")
    assert [e.change for e in c.node("L").log.entries] == [("k", 1, "app:1")]  # written once, held by L alone
    c.heal()
    c.advance(1.0)
    attempts = app.requests[0].attempts
    assert attempts[-1].outcome == "ok" and attempts[-1].lsn == 1  # once A or B holds it
    assert c.node("A").lsn == 1 and len(c.node("L").log.entries) == 1  # and still written once
    c.crash("L")
    c.promote("A")
    c.advance(0.5)
    assert c.lost_writes() == []


def test_under_elections_a_retry_of_an_earlier_terms_write_waits_for_an_entry_of_the_new_term():
    """Raft: n1 logs a write it cannot replicate, loses its term, wins a later one (its log is the most up
    to date); the retry is not answered while only n1 holds the write, and once a write of the new term
    commits, it is (Ongaro and Ousterhout, section 5.4.2)."""
    from replsim.failover import attach

    c = Cluster(leader="n1", followers=["n2", "n3"], delay=0.005, heartbeat=0.05, seed=3)
    attach(c, "quorum", timeout=(0.15, 0.3))
    app = c.client("app", near="n1", timeout=0.4, retries=3, backoff=0.2, idempotent=True)
    c.advance(1.0)
    c.crash("n3")
    c.cut("n1", "n2")
    app.write("k", "v")
    c.advance(0.52)
    c.heal()
    while c.node("n1").role != "leader":
        c.advance(0.005)
    c.cut("n1", "n2")
    c.advance(0.6)
    assert [o.outcome for o in app.requests[0].attempts if o.outcome == "ok"] == []
    c.heal()
    c.advance(0.3)  # n2 now holds the entry of the old term: still no entry of the new term is committed
    assert all(o.outcome != "ok" for o in app.requests[0].attempts)
    other = c.client("other", near="n1", timeout=1.0)
    other.write("z", 1)  # an entry of n1's term, committed by n1 and n2
    c.advance(1.5)
    assert other.ops[0].outcome == "ok"
    assert app.requests[0].outcome == "ok" and app.requests[0].attempts[-1].lsn == 1
