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
