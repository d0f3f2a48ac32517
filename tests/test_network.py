"""The network: delays, FIFO links, jitter bounds, loss, partitions, cuts, heal."""

import pytest

from replsim.engine.network import Network
from replsim.engine.sim import Simulator
from replsim.errors import ConfigError, NetworkError, UnknownNodeError


class Sink:
    def __init__(self, name, got):
        self.name = name
        self.handlers = {"m": lambda src, x: got.append((name, src, x))}


def make(names=("a", "b", "c"), **kw):
    sim = Simulator(seed=3)
    net = Network(sim, **kw)
    got = []
    for n in names:
        net.add(Sink(n, got))
    return sim, net, got


def test_message_arrives_after_the_link_delay():
    sim, net, got = make(delay=0.25)
    net.send("b", "m", ("a", 1))
    sim.run(0.2)
    assert got == []
    sim.run(0.25)
    assert got == [("b", "a", 1)]
    assert net.messages[-1].arrives == 0.25 and not net.messages[-1].lost


def test_links_are_fifo_even_with_jitter():
    sim, net, got = make(delay=0.01, jitter=0.01)
    for i in range(200):
        net.send("b", "m", ("a", i))
        sim.advance(0.0001)
    sim.advance(1)
    assert [x for _, _, x in got] == list(range(200))
    arrivals = [m.arrives for m in net.messages]
    assert len(set(round(a - m.sent, 9) for a, m in zip(arrivals, net.messages))) > 1  # jitter varied


def test_per_link_delay_overrides_default_and_is_one_way_when_asked():
    sim, net, got = make(delay=0.01)
    net.set_link("a", "c", delay=0.5, both_ways=False)
    assert net.link("a", "c").delay == 0.5 and net.link("c", "a").delay == 0.01


def test_partition_blocks_both_ways_and_heal_restores():
    sim, net, got = make()
    net.partition(["a"], ["b", "c"])
    net.send("b", "m", ("a", 1))
    net.send("a", "m", ("b", 2))
    net.send("c", "m", ("b", 3))
    sim.advance(1)
    assert got == [("c", "b", 3)]
    assert net.lost == 2
    net.heal()
    net.send("b", "m", ("a", 4))
    sim.advance(1)
    assert got[-1] == ("b", "a", 4)


def test_one_group_partition_isolates_it_from_the_rest():
    _, net, _ = make()
    net.partition(["a"])
    assert net.groups() == [["a"], ["b", "c"]]
    assert not net.reachable("a", "c") and net.reachable("b", "c")


def test_cut_is_one_way():
    sim, net, got = make()
    net.cut("a", "b")
    net.send("b", "m", ("a", 1))
    net.send("a", "m", ("b", 2))
    sim.advance(1)
    assert got == [("a", "b", 2)]


def test_loss_drops_a_seeded_share_of_messages():
    sim, net, got = make(loss=0.3)
    for i in range(1000):
        net.send("b", "m", ("a", i))
    sim.advance(1)
    assert 200 < net.lost < 400 and len(got) == 1000 - net.lost
    sim2, net2, _ = make(loss=0.3)
    for i in range(1000):
        net2.send("b", "m", ("a", i))
    assert net2.lost == net.lost  # same seed, same losses


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"delay": -1}, "delay must be >= 0"),
        ({"delay": 0.01, "jitter": 0.5}, "jitter .* must be at most the base delay"),
        ({"jitter": -0.001}, "jitter must be >= 0"),
        ({"loss": 1.0}, r"loss must be in \[0, 1\)"),
        ({"delay": "fast"}, "delay must be a finite number"),
        ({"delay": float("inf")}, "delay must be a finite number"),
    ],
)
def test_bad_link_settings(kw, message):
    with pytest.raises(ConfigError, match=message):
        make(**kw)


def test_bad_topology_calls():
    _, net, _ = make()
    with pytest.raises(UnknownNodeError, match="unknown node 'z'; the nodes are 'a', 'b', 'c'"):
        net.partition(["z"])
    with pytest.raises(NetworkError, match="nothing to heal"):
        net.heal()
    with pytest.raises(NetworkError, match="two partition groups"):
        net.partition(["a", "b"], ["b"])
    with pytest.raises(NetworkError, match="needs two sides"):
        net.partition(["a", "b", "c"])
    net.partition(["a"])
    with pytest.raises(NetworkError, match="already partitioned"):
        net.partition(["b"])
    with pytest.raises(NetworkError, match="from itself"):
        net.cut("a", "a")
    net.cut("a", "b")
    with pytest.raises(NetworkError, match="already cut"):
        net.cut("a", "b")
    with pytest.raises(ConfigError, match="two different nodes"):
        net.set_link("a", "a", delay=1)


# --- the message journal (bug 7 of the engine review) ------------------------------
def test_the_journal_records_each_fate():
    from replsim import Cluster

    c = Cluster(leader="L", followers=["A", "B", "C"], delay=0.01, heartbeat=None, seed=1)
    c.crash("B")
    c.partition(["C"])
    c.write("k", 1)  # A gets it; B is down; C is partitioned off
    c.advance(0.005)
    fates = {(m.dst, m.kind): m.fate for m in c.network.messages}
    assert fates == {
        ("A", "append"): "in flight",
        ("B", "append"): "in flight",
        ("C", "append"): "partitioned",
    }
    c.advance(1)
    fates = {(m.dst, m.kind): m.fate for m in c.network.messages}
    assert fates[("A", "append")] == "delivered" and fates[("B", "append")] == "crashed"
    assert fates[("L", "ack")] == "delivered"
    append = next(m for m in c.network.messages if m.dst == "A")
    assert append.fields == {"epoch": 1, "lsns": (1, 1)} and append.size > 0 and append.lost is False
    c.heal()
    c.cut("L", "A")
    c.write("k", 2)
    assert c.network.messages[-3].fate == "cut"


def test_a_kind_added_after_the_node_joined_is_recorded():
    sim, net, got = make()
    net.endpoints["b"].handlers["late"] = lambda src, x: got.append(("late", x))
    net.send("b", "late", ("a", 1))
    sim.advance(1)
    assert got[-1] == ("late", 1)
    assert [(m.kind, m.fate) for m in net.messages] == [("late", "delivered")]


def test_the_journal_is_bounded_and_the_bound_is_checked():
    sim, net, _ = make(keep_messages=5)
    for i in range(20):
        net.send("b", "m", ("a", i))
    assert len(net.messages) == 5 and net.sent == 20
    for bad in (-1, None, 2.5, 10**20, True):
        with pytest.raises(ConfigError, match="keep_messages"):
            make(keep_messages=bad)


def test_bytes_are_counted_per_link():
    sim, net, _ = make()
    net.send("b", "m", ("a", 1), 100)
    net.broadcast(["b", "c"], "m", ("a", 2), 10)
    assert net.traffic() == {("a", "b"): (2, 110), ("a", "c"): (1, 10)}
    assert net.bytes_sent() == 120 and net.bytes_sent(dst="c") == 10


def test_each_link_draws_from_its_own_random_stream():
    def arrivals(extra_traffic):
        sim, net, _ = make(delay=0.01, jitter=0.005)
        out = []
        for i in range(50):
            if extra_traffic:
                net.send("c", "m", ("a", i))  # traffic on another link
            net.send("b", "m", ("a", i))
            out.append(net.messages[-1].arrives)
            sim.advance(0.02)
        return out

    assert arrivals(False) == arrivals(True)
