"""One node stepped by hand: no network, messages delivered by the test (the etcd-raft style)."""

import pytest

from replsim.engine.sim import Simulator
from replsim.errors import ReadOnlyError
from replsim.node import FOLLOWER, LEADER, Node
from replsim.stores import KVStore


class Host:
    """A stand-in for the cluster: an outbox instead of a network, lists instead of a history."""

    def __init__(self):
        self.sim = Simulator()
        self.outbox, self.events, self.committed_tokens, self.unknown_tokens, self.dead = [], [], [], [], []
        self.sent = []

    def send(self, dst, kind, msg, size=0):
        self.outbox.append((dst, kind, msg))
        self.sent.append((dst, kind, msg))

    def broadcast(self, dsts, kind, msg, size=0):
        for d in dsts:
            self.send(d, kind, msg, size)

    def node_event(self, node, kind, detail):
        self.events.append((node, kind, detail))

    def committed(self, node, token):
        self.committed_tokens.append(token)

    def acknowledged(self, node, token, lsn, epoch):
        self.committed_tokens.append(token)

    def unknown(self, node, token, why):
        self.unknown_tokens.append(token)

    def dead_letter(self, node, kind, src):
        self.dead.append((node, kind, src))


def cluster(followers=("F",), sync=0):
    host = Host()
    nodes = {"L": Node("L", host, role=LEADER, followers=list(followers), sync_replicas=sync)}
    for f in followers:
        nodes[f] = Node(f, host, role=FOLLOWER, leader="L")
    return host, nodes


def deliver(host, nodes, drop=lambda dst, kind, msg: False):
    """Deliver every queued message, in order, until none is left (``drop`` loses some)."""
    while host.outbox:
        dst, kind, msg = host.outbox.pop(0)
        if not drop(dst, kind, msg):
            nodes[dst].handlers[kind](*msg)


def test_leader_appends_and_streams_one_append_per_write():
    host, n = cluster()
    e = n["L"].client_write(("k", "v"))
    assert (e.lsn, e.epoch, e.change) == (1, 1, ("k", "v")) and e.size > 0
    assert [(dst, kind) for dst, kind, _ in host.outbox] == [("F", "append")]
    assert n["L"].store.get("k") == "v" and n["F"].store.get("k") is None


def test_follower_applies_in_order_and_acks_its_position():
    host, n = cluster()
    for i in range(3):
        n["L"].client_write(("k", i))
    deliver(host, n)
    assert n["F"].lsn == 3 and n["F"].store.get("k") == 2
    assert n["L"].match == {"F": 3}


def test_a_recovering_follower_asks_once_not_again_when_the_stream_shows_the_same_gap():
    host, n = cluster()
    n["F"].crash()
    for i in range(3):
        n["L"].client_write(("k", i))
    host.outbox.clear()  # sent while it was down
    n["F"].recover()  # asks for what follows lsn 0
    n["L"].client_write(("k", 3))  # the stream shows the gap before the answer arrives
    deliver(host, n)
    resends = [m for m in host.sent if m[1] == "append" and len(m[2][4]) > 1]
    assert n["F"].lsn == 4 and len(resends) == 1  # one catch-up batch, not two


def test_a_gap_makes_the_follower_ask_and_the_leader_resend():
    host, n = cluster()
    n["L"].client_write(("a", 1))
    host.outbox.clear()  # that message is lost
    n["L"].client_write(("b", 2))
    deliver(host, n)
    assert n["F"].lsn == 2 and n["F"].store.snapshot() == {"a": 1, "b": 2}


def test_a_lost_request_is_asked_again_at_a_heartbeat_after_the_retry_interval():
    """Bug 3: the follower used to ask once per position; a lost request left it behind forever."""
    host, n = cluster()
    n["L"].client_write(("a", 1))
    host.outbox.clear()  # the append is lost
    n["L"].heartbeat()
    deliver(host, n, drop=lambda dst, kind, msg: kind == "ack")  # and so is the follower's request
    assert n["F"].lsn == 0
    n["L"].heartbeat()  # too soon: the answer may still be on its way, so it does not ask twice
    deliver(host, n)
    assert n["F"].lsn == 0
    host.sim.run(n["F"].retry_interval)
    n["L"].heartbeat()  # a heartbeat after the retry interval: the follower asks again
    deliver(host, n)
    assert n["F"].lsn == 1


def test_follower_refuses_writes_like_postgresql_naming_the_command():
    host, n = cluster()
    with pytest.raises(ReadOnlyError, match="cannot execute INSERT in a read-only transaction") as info:
        n["F"].client_write(("k", 1))
    assert info.value.sqlstate == "25006" and n["F"].lsn == 0
    n["L"].client_write(("k", 1))
    deliver(host, n)
    with pytest.raises(ReadOnlyError, match="cannot execute UPDATE in a read-only transaction"):
        n["F"].client_write(("k", 2))


def test_a_deposed_leader_is_fenced_by_a_follower_of_a_newer_epoch():
    host, n = cluster()
    n["F"].epoch, n["F"].leader = 2, "X"
    n["L"].client_write(("k", 1))
    deliver(host, n)
    assert n["F"].lsn == 0  # refused
    assert n["L"].role == FOLLOWER and n["L"].epoch == 2
    assert host.events[-1][1] == "fenced"


def test_sync_replicas_hold_the_acknowledgement_until_a_follower_has_it():
    host, n = cluster(sync=1)
    n["L"].client_write(("k", 1), token="w1")
    assert host.committed_tokens == []
    deliver(host, n)
    assert host.committed_tokens == ["w1"]


def test_a_resend_request_never_counts_as_holding_the_entry():
    """Bug 1: a restarting follower's "I hold up to n" (about its own, unchecked log) counted for sync."""
    host, n = cluster(sync=1)
    stale = Node("F2", host, role=FOLLOWER, leader="L")  # holds an lsn 1 from some other leader
    n["F2"] = stale
    stale.epoch = 1
    n["L"].followers = ["F2"]
    n["L"].epoch, n["L"].epoch_history = 2, ((2, 1),)
    from replsim.log import Entry

    stale.log.add(Entry(1, 1, 0.0, ("old", 0)))
    stale.store.apply(("old", 0))
    n["L"].client_write(("new", 1), token="w")
    host.outbox.clear()  # the append is lost; the follower restarts and reports its position
    stale.catch_up()
    dst, kind, msg = host.outbox.pop(0)
    assert (dst, kind, msg[2:]) == ("L", "ack", (1, False))
    n["L"].on_ack(*msg)
    assert host.committed_tokens == []  # "lsn 1" of epoch 1 is not our lsn 1
    deliver(host, n)  # the leader resends; the follower drops its epoch-1 entry and takes ours
    assert host.committed_tokens == ["w"] and stale.log.term(1) == 2 and stale.store.get("old") is None
    assert [e.change for e in stale.rolled_back] == [("old", 0)]


def test_a_demoted_leader_gives_up_its_waiting_writes():
    """Bug 2: writes waiting for acks stayed pending forever after a promotion repointed their leader."""
    host, n = cluster(sync=1)
    n["L"].client_write(("k", 1), token="w")
    host.outbox.clear()
    n["L"].follow("F")
    assert host.unknown_tokens == ["w"] and not n["L"].pending


def test_crash_keeps_the_log_and_loses_waiting_acknowledgements():
    host, n = cluster(sync=1)
    n["L"].client_write(("k", 1), token="w1")
    n["L"].crash()
    assert host.unknown_tokens == ["w1"]
    assert n["L"].lsn == 1 and n["L"].store.get("k") == 1 and not n["L"].up


def test_a_message_to_a_crashed_node_is_reported_as_such():
    host, n = cluster()
    n["L"].client_write(("k", 1))
    n["F"].crash()
    deliver(host, n)
    assert host.dead == [("F", "append", "L")] and n["F"].lsn == 0


def test_an_error_applying_a_change_stops_replication_on_that_node_only():
    """Bug 8: an exception from the store escaped the run loop."""

    class OldEngine(KVStore):
        def apply(self, change):
            if change[0] == "bad":
                raise ValueError("unknown page format")
            super().apply(change)

    host, n = cluster(followers=("F",))
    n["G"] = Node("G", host, role=FOLLOWER, leader="L", store=OldEngine())
    n["L"].followers.append("G")
    for k in ("a", "bad", "c"):
        n["L"].client_write((k, 1))
    deliver(host, n)
    assert n["F"].lsn == 3
    assert n["G"].lsn == 1 and n["G"].broken.startswith("cannot apply lsn 2: ValueError: unknown page format")
    assert ("G", "engine error") in [(node, kind) for node, kind, _ in host.events]
    assert n["G"].track.lsn[-1] == 1  # the record saw lsn 1 applied


def test_a_follower_starts_from_a_snapshot_then_streams():
    host, n = cluster(followers=())
    for i in range(5):
        n["L"].client_write((f"k{i}", i))
    new = n["N"] = Node("N", host, role=FOLLOWER, leader="L")
    n["L"].send_snapshot("N")
    n["L"].client_write(("k5", 5))
    deliver(host, n)
    assert new.log.base == 5 and new.lsn == 6 and len(new.log) == 1
    assert new.store.snapshot() == n["L"].store.snapshot()


def test_a_leader_that_compacted_its_log_says_so_and_the_follower_waits_for_a_rebuild():
    host, n = cluster()
    n["L"].keep_log = 2
    n["F"].crash()
    for i in range(80):
        n["L"].client_write(("k", i))
    host.outbox.clear()
    assert n["L"].log.base > 0
    n["F"].recover()
    deliver(host, n)
    assert n["F"].needs_rebuild == n["L"].log.base and n["F"].lsn == 0
    assert ("F", "needs rebuild") in [(node, kind) for node, kind, _ in host.events]
    n["L"].send_snapshot("F")
    deliver(host, n)
    assert n["F"].needs_rebuild is None and n["F"].lsn == 80 and n["F"].store.get("k") == 79


# --- stepped by hand, message by message (etcd raft's interaction tests) ----------------------------
def test_each_handler_takes_its_messages_fields_in_order():
    """One definition of every message (replsim.node.messages): the handlers' parameters are its fields."""
    import inspect
    from types import SimpleNamespace

    from replsim.node.election import Elector
    from replsim.node.messages import KINDS

    host, nodes = cluster()
    node = nodes["L"]
    node.elector = Elector.__new__(Elector)
    node.monitor = SimpleNamespace(on_pong=lambda src, role, epoch, lsn, last_epoch, leader: None)
    node._wire()
    handlers = dict(node.handlers)
    handlers.update(
        append=node.on_append,
        ack=node.on_ack,
        confirm=node.on_confirm,
        vote=Elector.on_vote,
        voted=Elector.on_voted,
    )
    for kind, message in KINDS.items():
        if kind == "reply":
            from replsim.clients.client import Client

            fn = Client.on_reply
        else:
            fn = handlers[kind]
        params = [p for p in inspect.signature(fn).parameters if p != "self"]
        assert params == list(message._fields), kind


def trace(host):
    """The messages sent since the last look, as (to, kind, fields), and forget them."""
    out = [(dst, kind, msg[1:]) for dst, kind, msg in host.outbox]
    host.outbox.clear()
    return out


def test_a_leader_and_a_follower_stepped_message_by_message():
    host, n = cluster(sync=1)
    L, F = n["L"], n["F"]
    L.client_write(("k", 1), token="w1")
    [(dst, kind, (epoch, prev, prev_epoch, entries, history))] = trace(host)
    assert (dst, kind, epoch, prev, prev_epoch, len(entries)) == ("F", "append", 1, 0, 0, 1)
    F.step(("L", epoch, prev, prev_epoch, entries, history), "append")
    assert F.lsn == 1 and trace(host) == [("L", "ack", (1, 1, True))]
    assert host.committed_tokens == []  # not before the follower's acknowledgement arrives
    L.step(("F", 1, 1, True), "ack")
    assert host.committed_tokens == ["w1"]
    L.heartbeat()
    [(_, kind, (epoch, prev, _, entries, _))] = trace(host)
    assert (kind, prev, entries) == ("append", 1, ())
    with pytest.raises(Exception, match="takes no 'vote' messages"):
        F.step(("L", 2, 0, 0), "vote")


def test_a_candidate_stepped_message_by_message():
    """A follower that hears no leader stands for term 2, asks for votes, wins with one, and announces it."""
    from types import SimpleNamespace

    from replsim.node.election import Elector, grant_vote

    host, n = cluster(followers=("F", "G"))
    host.appointed = lambda node, kind, detail: host.events.append((node, kind, detail))
    F = n["F"]
    world = SimpleNamespace(
        cluster=SimpleNamespace(nodes=n),
        timeout=(0.15, 0.15),
        majority=2,
        check_quorum=True,
        rounds=[],
        vote=grant_vote,
    )
    elector = Elector(world, F)
    host.sim.run(until=0.2)  # its election timeout passes without a word from the leader
    assert F.role == "candidate" and F.epoch == 2
    assert sorted(trace(host)) == [("G", "vote", (2, 0, 0)), ("L", "vote", (2, 0, 0))]
    n["G"].elector = Elector(world, n["G"])
    n["G"].step(("F", 2, 0, 0), "vote")  # G grants it: F's log is as up to date as its own
    assert trace(host) == [("F", "voted", (2, True))]
    F.step(("G", 2, True), "voted")
    assert F.role == "leader" and elector.votes == {"F", "G"}
    sent = trace(host)
    assert {(dst, kind) for dst, kind, _ in sent} == {("L", "append"), ("G", "append")}  # it announces itself
    assert all(fields[0] == 2 for _, _, fields in sent)
