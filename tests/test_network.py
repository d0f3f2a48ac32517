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
