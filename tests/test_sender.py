"""The leader's sender ships committed writes in batches; what it had not shipped dies with it (lesson 5)."""

import pytest

from replsim import Cluster
from replsim.errors import ConfigError
from replsim.node.sender import send_in_batches


def batching(**kw):
    c = Cluster(leader="L", followers=["A", "B"], delay=0.05, seed=1, **kw)
    send_in_batches(c, every=0.02)
    return c


def test_writes_leave_together_a_moment_after_they_are_acknowledged():
    c = batching(heartbeat=None)
    ops = [c.write("k", i) for i in range(3)]
    assert all(o.outcome == "ok" for o in ops)  # acknowledged at once (asynchronous)
    c.run(until=0.019)
    assert c.network.messages == []  # nothing shipped yet
    c.run(until=0.1)
    appends = [m for m in c.network.messages if m.kind == "append"]
    assert [(m.dst, m.sent, m.fields["lsns"]) for m in appends] == [("A", 0.02, (1, 3)), ("B", 0.02, (1, 3))]
    assert c.node("A").lsn == c.node("B").lsn == 3


def test_a_crash_loses_what_the_sender_had_not_shipped():
    c = batching()
    c.write("k", 1)
    c.run(until=0.1)
    c.write("k", 2)
    c.crash("L")
    c.recover("L")  # even back at once: the queue died with the process
    c.crash("L")
    c.run(until=1.0)
    assert c.node("A").lsn == c.node("B").lsn == 1
    c.promote("A")
    assert [o.value for o in c.lost_writes()] == [2]  # lost even with the most up-to-date follower


def test_the_most_up_to_date_follower_loses_nothing_without_a_sender():
    c = Cluster(leader="L", followers=["A", "B"], delay=0.05, seed=1)
    c.write("k", 1)
    c.crash("L")
    c.run(until=1.0)  # the message already sent still arrives
    c.promote("A")
    assert c.lost_writes() == []


def test_bad_sender_settings():
    c = batching()
    with pytest.raises(ConfigError, match="already send in batches"):
        send_in_batches(c)
    with pytest.raises(ConfigError, match="every"):
        send_in_batches(Cluster(), every=0)
    with pytest.raises(ConfigError, match="at most 10"):
        send_in_batches(Cluster(), every=11)
