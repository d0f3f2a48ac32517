"""The discrete-event core: order, time, determinism, bad input."""

import pytest

from replsim.errors import ConfigError
from replsim.sim import Simulator


def test_events_run_in_time_order_and_ties_in_insertion_order():
    sim = Simulator(seed=1)
    seen = []
    sim.schedule(2.0, seen.append, "c")
    sim.schedule(1.0, seen.append, "a")
    sim.schedule(1.0, seen.append, "b")
    sim.at(1.5, seen.append, "a2")
    sim.run(until=10)
    assert seen == ["a", "b", "a2", "c"]
    assert sim.now == 10.0
    assert sim.events_run == 4


def test_run_stops_at_until_and_leaves_later_events():
    sim = Simulator()
    seen = []
    sim.schedule(1.0, seen.append, 1)
    sim.schedule(3.0, seen.append, 3)
    sim.run(until=2.0)
    assert seen == [1] and sim.now == 2.0 and sim.pending == 1
    sim.advance(1.0)
    assert seen == [1, 3]


def test_step_runs_one_event():
    sim = Simulator()
    seen = []
    sim.schedule(0.5, seen.append, "x")
    assert sim.step() is True and seen == ["x"] and sim.now == 0.5
    assert sim.step() is False


def test_same_seed_same_random_numbers():
    a, b = Simulator(seed=7), Simulator(seed=7)
    assert [a.rng.random() for _ in range(5)] == [b.rng.random() for _ in range(5)]
    assert Simulator(seed=8).rng.random() != Simulator(seed=7).rng.random()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.schedule(-1, print), "delay must be >= 0"),
        (lambda s: s.schedule(float("nan"), print), "delay must be >= 0"),
        (lambda s: s.advance(-0.5), "duration must be >= 0"),
        (lambda s: s.run(until=-1), "cannot run until"),
        (lambda s: s.at(-1, print), "cannot schedule at"),
    ],
)
def test_bad_times_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ConfigError, match=message):
        call(Simulator())


def test_seed_must_be_an_integer():
    with pytest.raises(ConfigError, match="seed must be an integer"):
        Simulator(seed="abc")


def test_run_restores_the_garbage_collector_even_after_an_error():
    import gc

    sim = Simulator()

    def boom():
        assert not gc.isenabled()  # paused while the loop runs
        raise RuntimeError("boom")

    sim.schedule(1.0, boom)
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        sim.run(until=2.0)
    assert gc.isenabled() and sim.events_run == 1
