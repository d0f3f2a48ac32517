"""The discrete-event core: virtual time, one event heap, timers, seeded random streams.

Time is in seconds and never read from the wall clock. Randomness comes only from
streams derived from the one seed (:meth:`Simulator.stream`), one per purpose, so
that a draw added in one place never shifts the numbers drawn anywhere else.
"""

from __future__ import annotations

import gc
import heapq
import random
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError, RunLimitError
from ..validate import seconds

MAX_TIME = 10_000_000.0
"""The latest virtual time a simulation may reach (about 116 days): later, floats lose precision."""

MAX_EVENTS_PER_RUN = 5_000_000
"""One ``run``/``advance`` call stops with :class:`RunLimitError` after this many events (a few seconds)."""


def stream(seed: int, purpose: str) -> random.Random:
    """An independent random generator for one purpose, derived from ``seed`` alone."""
    return random.Random(f"replsim:{seed}:{purpose}")


def check_time(name: str, value: Any, *, positive: bool = False) -> float:
    """``value`` as float seconds; ConfigError naming ``name`` unless it is a finite number >= 0 (> 0)."""
    return seconds(name, value, positive=positive)


def fanout(handlers: list, msg: tuple) -> None:
    """Deliver one message to several handlers, in order (one heap event for copies that arrive together)."""
    for handler in handlers:
        handler(*msg)


class Timer:
    """A callback that can be set, re-armed and cancelled (a node's heartbeat, a client's timeout).

    Setting an armed timer moves it; only the latest setting fires.
    """

    __slots__ = ("_sim", "_fn", "_args", "_gen", "due")

    def __init__(self, sim: Simulator, fn: Callable[..., Any], args: tuple) -> None:
        self._sim = sim
        self._fn = fn
        self._args = args
        self._gen = 0
        self.due: float | None = None  # when it fires, or None when not armed

    @property
    def armed(self) -> bool:
        """True while the timer is set and has not fired."""
        return self.due is not None

    def set(self, delay: float) -> None:
        """Fire after ``delay`` seconds (cancelling an earlier setting)."""
        sim = self._sim
        self._gen += 1
        self.due = sim.now + delay
        sim.schedule(delay, self._fire, self._gen)

    def cancel(self) -> None:
        """Do not fire (no effect when not armed)."""
        self._gen += 1
        self.due = None

    def _fire(self, gen: int) -> None:
        if gen == self._gen:
            self.due = None
            self._fn(*self._args)

    def __repr__(self) -> str:
        return f"Timer(due={self.due!r})"


class Simulator:
    """Runs callbacks in virtual-time order; equal times run in the order scheduled."""

    __slots__ = ("now", "seed", "_heap", "_seq", "events_run")

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError(f"seed must be an integer, got {seed!r}")
        self.seed = seed
        self.now = 0.0
        self._heap: list[tuple[float, int, Callable[..., Any], tuple]] = []
        self._seq = 0
        self.events_run = 0

    def stream(self, purpose: str) -> random.Random:
        """The random stream for ``purpose`` (e.g. ``"link:a->b"``, ``"client:app"``), from the seed."""
        return stream(self.seed, purpose)

    def schedule(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` after ``delay`` seconds of virtual time."""
        if not delay >= 0:  # also catches NaN
            raise ConfigError(f"delay must be >= 0 seconds, got {delay!r}")
        self._seq += 1
        heapq.heappush(self._heap, (self.now + delay, self._seq, fn, args))

    def at(self, time: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` at virtual time ``time`` (not in the past)."""
        if not time >= self.now:
            raise ConfigError(f"cannot schedule at t={time!r}: the time is already {self.now!r}")
        self._seq += 1
        heapq.heappush(self._heap, (float(time), self._seq, fn, args))

    def timer(self, fn: Callable[..., Any], *args: Any) -> Timer:
        """A new, unarmed timer that calls ``fn(*args)`` when it fires."""
        return Timer(self, fn, args)

    def step(self) -> bool:
        """Run the next event; return False when there is none.

        Copies of one message grouped in one event (:func:`fanout`) are delivered one per step.
        """
        if not self._heap:
            return False
        self.now, seq, fn, args = heapq.heappop(self._heap)
        if fn is fanout and len(args[0]) > 1:
            handlers, msg = args
            heapq.heappush(self._heap, (self.now, seq, fn, (handlers[1:], msg)))  # the rest, next
            fn, args = handlers[0], msg
        self.events_run += 1
        fn(*args)
        return True

    def run(self, until: float, max_events: int = MAX_EVENTS_PER_RUN) -> None:
        """Run every event due at or before ``until``, then set the time to ``until``.

        Stops with :class:`RunLimitError` (time then stays at the last event run)
        after ``max_events`` events, so no input can hang the caller.
        """
        if not until >= self.now:
            raise ConfigError(f"cannot run until t={until!r}: the time is already {self.now!r}")
        if not until <= MAX_TIME:  # also catches inf and NaN
            raise ConfigError(
                f"cannot run until t={until!r}: virtual time stops at {MAX_TIME:,.0f} s (about 116 days)"
            )
        heap = self._heap
        pop = heapq.heappop
        done = 0
        limited = False
        # The loop makes many small objects and no reference cycles, so the cyclic
        # garbage collector only costs time here (about 20% at 100k writes): pause it.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            for done in range(1, max_events + 1):  # noqa: B007 (read after the loop)
                if not heap or heap[0][0] > until:
                    done -= 1
                    break
                self.now, _, fn, args = pop(heap)
                fn(*args)
            else:
                limited = bool(heap) and heap[0][0] <= until
        finally:
            if paused:
                gc.enable()
            self.events_run += done
        if limited:
            raise RunLimitError(
                f"stopped at t = {self.now:.6g} s after {max_events:,} events in one call "
                f"(asked to run until {until:.6g} s): advance in smaller steps, or slow the "
                "clients and heartbeats down"
            )
        self.now = float(until)

    def advance(self, duration: float) -> None:
        """Run for ``duration`` seconds of virtual time."""
        if not duration >= 0:
            raise ConfigError(f"duration must be >= 0 seconds, got {duration!r}")
        self.run(self.now + duration)

    @property
    def pending(self) -> int:
        """How many events are scheduled and not yet run (cancelled timers included)."""
        return len(self._heap)

    def __repr__(self) -> str:
        return f"Simulator(seed={self.seed}, now={self.now:.6g}, pending={self.pending})"
