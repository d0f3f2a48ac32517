"""Lesson 6's measure of elections: how long a cluster takes to elect a new leader after a crash."""

from __future__ import annotations

from typing import NamedTuple

from ..cluster import Cluster
from ..node.election import Elections


class Outcome(NamedTuple):
    """One measured failover: seconds from the leader's crash to a new leader (None: none in time),
    the split votes (terms nobody won) on the way, and the leader that crashed."""

    seconds: float | None
    split_votes: int
    crashed: str = "n1"


def time_to_elect(
    timeout: tuple[float, float],
    seed: int,
    *,
    nodes: int = 5,
    delay: float = 0.005,
    jitter: float = 0.001,
    heartbeat: float = 0.05,
    limit: float = 10.0,
) -> Outcome:
    """Crash the leader of a settled cluster of ``nodes`` and time the election that follows.

    The cluster (``n1`` leading at first) runs 1 s, then its leader of that moment
    crashes at a moment drawn from the seed's ``"crash time"`` stream (within one
    heartbeat interval). The result is measured from the crash to the first win, up
    to ``limit`` seconds.
    """
    names = [f"n{i}" for i in range(1, nodes + 1)]
    c = Cluster(
        leader=names[0], followers=names[1:], delay=delay, jitter=jitter, heartbeat=heartbeat, seed=seed
    )
    el = Elections(c, timeout)
    c.run(until=1.0 + c.sim.stream("crash time").uniform(0.0, heartbeat))
    crashed = c.leader  # n1, or whoever an earlier election made leader
    c.crash(crashed)
    start = c.now
    while c.now - start < limit and el.first_win(start) is None:
        c.advance(min(0.05, limit - (c.now - start)))
    win = el.first_win(start)
    terms = {r.term for r in el.rounds if r.start >= start and (win is None or r.term < win.term)}
    return Outcome(None if win is None else win.won - start, len(terms), crashed)  # type: ignore[operator]


__all__ = ["Outcome", "time_to_elect"]
