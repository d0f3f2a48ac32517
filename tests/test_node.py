"""One node stepped by hand: no simulator, no network (the etcd-raft style)."""

import pytest

from replsim.errors import ReadOnlyError
from replsim.node import FOLLOWER, LEADER, Node


class Clock:
    now = 0.0


def pair():
    clock, outbox = Clock(), []

    def send(dst, kind, msg):
        outbox.append((msg[0], dst, kind, msg))

    leader = Node("L", clock, send, role=LEADER, followers=["F"])
    follower = Node("F", clock, send, role=FOLLOWER, leader="L")
    return clock, outbox, leader, follower


def deliver(outbox, nodes):
    """Deliver every queued message, in order, until none is left."""
    while outbox:
        _, dst, kind, msg = outbox.pop(0)
        nodes[dst].handlers[kind](*msg)


def test_leader_appends_and_streams_one_append_per_write():
    clock, outbox, leader, follower = pair()
    e = leader.client_write("k", "v")
    assert (e.lsn, e.epoch, e.key, e.value) == (1, 1, "k", "v")
    assert [(m[1], m[2]) for m in outbox] == [("F", "append")]
    assert leader.store.get("k") == "v" and follower.store.get("k") is None


def test_follower_applies_in_order_and_acks_its_position():
    clock, outbox, leader, follower = pair()
    for i in range(3):
        leader.client_write("k", i)
    deliver(outbox, {"L": leader, "F": follower})
    assert follower.lsn == 3 and follower.store.get("k") == 2
    assert leader.match == {"F": 3}


def test_a_gap_makes_the_follower_ask_and_the_leader_resend():
    clock, outbox, leader, follower = pair()
    leader.client_write("a", 1)
    outbox.clear()  # that message is lost
    leader.client_write("b", 2)
    deliver(outbox, {"L": leader, "F": follower})
    assert follower.lsn == 2 and follower.store.snapshot() == {"a": 1, "b": 2}


def test_follower_refuses_writes_like_postgresql():
    _, _, _, follower = pair()
    with pytest.raises(ReadOnlyError, match="cannot execute INSERT in a read-only transaction") as info:
        follower.client_write("k", 1)
    assert info.value.sqlstate == "25006"
    assert follower.lsn == 0


def test_a_deposed_leader_is_fenced_by_a_follower_of_a_newer_epoch():
    clock, outbox, leader, follower = pair()
    follower.epoch = 2
    follower.leader = "X"
    leader.client_write("k", 1)
    deliver(outbox, {"L": leader, "F": follower})
    assert follower.lsn == 0  # refused
    assert leader.role == FOLLOWER and leader.epoch == 2


def test_sync_replicas_hold_the_acknowledgement_until_a_follower_has_it():
    clock, outbox, leader, follower = pair()
    leader.sync_replicas = 1
    done = []
    leader.on_commit = lambda token, now: done.append(token)
    leader.client_write("k", 1, token="w1")
    assert done == []
    deliver(outbox, {"L": leader, "F": follower})
    assert done == ["w1"]


def test_crash_keeps_the_log_and_loses_waiting_acknowledgements():
    clock, outbox, leader, follower = pair()
    leader.sync_replicas = 1
    leader.client_write("k", 1, token="w1")
    assert leader.crash() == ["w1"]
    assert leader.lsn == 1 and leader.store.get("k") == 1 and not leader.up
