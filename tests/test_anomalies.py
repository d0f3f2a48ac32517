"""The read-anomaly checkers on small hand-written histories, with each anomaly and with none."""

import pytest

from replsim.history.anomalies import (
    MONOTONIC,
    PREFIX,
    RYW,
    STALE,
    AnomalyInputError,
    count,
    find_anomalies,
)
from replsim.history.record import Op


class H:
    """A history written by hand: writes get log positions in the order they are made."""

    def __init__(self):
        self.ops, self.lsn = [], 0

    def write(self, client, key, value, start, end, outcome="ok"):
        self.lsn += 1
        lsn = self.lsn if outcome == "ok" else None
        self.ops.append(
            Op(len(self.ops), "write", "leader", key, value, start, end, outcome, lsn, 1, None, client)
        )
        return self

    def read(self, client, key, value, start, end, node="replica"):
        self.ops.append(Op(len(self.ops), "read", node, key, value, start, end, "ok", None, 1, None, client))
        return self


def kinds(h):
    return [a.kind for a in find_anomalies(h.ops)]


def test_no_anomaly_when_every_read_sees_the_latest_acknowledged_write():
    h = H().write("alice", "x", 1, 0.0, 0.1).read("alice", "x", 1, 0.2, 0.3).read("bob", "x", 1, 0.2, 0.3)
    h.write("bob", "x", 2, 0.4, 0.5).read("alice", "x", 2, 0.6, 0.7)
    assert kinds(h) == [] and count(find_anomalies(h.ops)) == dict.fromkeys(
        [STALE, RYW, MONOTONIC, PREFIX], 0
    )


def test_a_read_overlapping_a_write_may_miss_it():
    h = H().write("alice", "x", 1, 0.0, 0.5).read("bob", "x", None, 0.2, 0.3)
    assert kinds(h) == []


def test_stale_read_names_the_write_it_missed_and_by_how_long():
    h = H().write("alice", "x", 1, 0.0, 0.1).read("bob", "x", None, 0.35, 0.4)
    (a,) = find_anomalies(h.ops)
    assert a.kind == STALE and a.client == "bob" and [o.id for o in a.ops] == [0, 1]
    assert "stale by 0.250 s" in a.detail and "x=1 (lsn 1) was acknowledged" in a.detail


def test_reading_your_own_write_back_stale_is_also_a_read_your_writes_violation():
    h = H().write("alice", "x", 1, 0.0, 0.1).read("alice", "x", None, 0.2, 0.3)
    assert kinds(h) == [STALE, RYW]
    ryw = find_anomalies(h.ops)[1]
    assert "wrote x=1" in ryw.detail and ryw.client == "alice"


def test_a_write_with_an_unknown_outcome_is_not_yours_to_expect():
    h = H().write("alice", "x", 1, 0.0, 1.0, outcome="info").read("alice", "x", None, 1.2, 1.3)
    assert kinds(h) == []


def test_monotonic_reads_violation_time_goes_backwards_for_one_reader():
    h = H().write("alice", "comment", "first!", 0.0, 0.1).write("alice", "comment", "edited", 0.2, 0.3)
    h.read("bob", "comment", "edited", 0.4, 0.5, node="replica-1")  # a fresh replica
    h.read("bob", "comment", "first!", 0.6, 0.7, node="replica-2")  # then a lagging one
    found = find_anomalies(h.ops)
    assert [a.kind for a in found] == [STALE, MONOTONIC]
    mono = found[1]
    assert [o.id for o in mono.ops] == [2, 3] and "then the older comment='first!'" in mono.detail


def test_consistent_prefix_violation_the_answer_before_the_question():
    h = H().write("alice", "question", "how far is the moon?", 0.0, 0.1)
    h.write("bob", "answer", "384,400 km", 0.3, 0.4)
    # carol's first read (served by a fresh replica) shows the answer; the next one, from a replica
    # that lags, has no question yet: a reply to nothing
    h.read("carol", "answer", "384,400 km", 0.5, 0.55).read("carol", "question", None, 0.6, 0.65)
    found = find_anomalies(h.ops)
    assert [a.kind for a in found] == [STALE, PREFIX]
    prefix = found[1]
    assert prefix.client == "carol" and "lacked question='how far is the moon?' (lsn 1)" in prefix.detail


def test_reads_of_an_older_state_in_an_order_that_is_not_a_reversal_are_fine():
    h = H().write("alice", "question", "q?", 0.0, 0.1).write("bob", "answer", "a!", 0.3, 0.4)
    # carol reads the question while it is the newest write, then the answer: a prefix each time
    h.read("carol", "question", "q?", 0.15, 0.2).read("carol", "answer", "a!", 0.5, 0.6)
    assert kinds(h) == []


def test_two_writes_of_one_value_to_a_key_are_refused():
    h = H().write("alice", "x", 1, 0.0, 0.1).write("bob", "x", 1, 0.2, 0.3)
    with pytest.raises(AnomalyInputError, match="two writes of 1 to 'x'"):
        find_anomalies(h.ops)


def test_a_value_no_known_write_made_is_left_out():
    h = H().write("alice", "x", 1, 0.0, 0.1).read("bob", "x", 99, 0.2, 0.3)
    assert kinds(h) == []
