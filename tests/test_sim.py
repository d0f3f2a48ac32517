"""The discrete-event core: order, time, timers, random streams, limits, bad input."""

import gc

import pytest

from replsim.engine.sim import MAX_TIME, Simulator, stream
from replsim.errors import ConfigError, RunLimitError


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


def test_a_timer_fires_once_and_can_be_moved_or_cancelled():
    sim = Simulator()
    fired = []
    t = sim.timer(lambda: fired.append(sim.now))
    assert not t.armed
    t.set(1.0)
    assert t.armed and t.due == 1.0
    t.set(2.0)  # re-armed: only the latest setting fires
    sim.run(5)
    assert fired == [2.0] and not t.armed
    t.set(1.0)
    t.cancel()
    sim.run(10)
    assert fired == [2.0]


def test_a_timer_can_re_arm_itself_for_a_periodic_tick():
    sim = Simulator()
    ticks = []

    def tick():
        ticks.append(sim.now)
        t.set(0.5)

    t = sim.timer(tick)
    t.set(0.5)
    sim.run(2.0)
    assert ticks == [0.5, 1.0, 1.5, 2.0]


def test_random_streams_are_per_purpose_and_come_from_the_seed_alone():
    a, b = Simulator(seed=7), Simulator(seed=7)
    assert [a.stream("net").random() for _ in range(3)] == [b.stream("net").random() for _ in range(3)]
    assert a.stream("net").random() != a.stream("client:x").random()
    assert Simulator(seed=8).stream("net").random() != Simulator(seed=7).stream("net").random()
    # drawing from one stream never shifts another
    s1, s2 = stream(7, "one"), stream(7, "two")
    first = s2.random()
    s1.random(), s1.random()
    assert stream(7, "two").random() == first


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.schedule(-1, print), "delay must be >= 0"),
        (lambda s: s.schedule(float("nan"), print), "delay must be >= 0"),
        (lambda s: s.advance(-0.5), "duration must be >= 0"),
        (lambda s: s.run(until=-1), "cannot run until"),
        (lambda s: s.run(until=float("inf")), "virtual time stops at"),
        (lambda s: s.run(until=float("nan")), "cannot run until"),
        (lambda s: s.run(until=MAX_TIME * 2), "virtual time stops at"),
        (lambda s: s.at(-1, print), "cannot schedule at"),
    ],
)
def test_bad_times_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ConfigError, match=message):
        call(Simulator())


def test_a_run_that_would_not_end_stops_with_a_clear_error():
    sim = Simulator()

    def forever():
        sim.schedule(0.0, forever)  # an event loop at one instant: time never moves on

    sim.schedule(1.0, forever)
    with pytest.raises(RunLimitError, match="after 1,000 events in one call"):
        sim.run(2.0, max_events=1000)
    assert sim.now == 1.0 and sim.events_run == 1000 and gc.isenabled()


def test_seed_must_be_an_integer():
    with pytest.raises(ConfigError, match="seed must be an integer"):
        Simulator(seed="abc")


def test_run_restores_the_garbage_collector_even_after_an_error():
    sim = Simulator()

    def boom():
        assert not gc.isenabled()  # paused while the loop runs
        raise RuntimeError("boom")

    sim.schedule(1.0, boom)
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        sim.run(until=2.0)
    assert gc.isenabled() and sim.events_run == 1
