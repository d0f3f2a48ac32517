"""Lesson 7's measurement: each commit mode, over many seeded failovers, for write latency and writes lost.

One run (:func:`failover`): a primary and three standbys, ``standby-1`` in the
primary's zone (0.5 ms away), ``standby-2`` in another zone (3 ms), ``standby-3`` in
another region (35 ms); the two near ones flush in 1 ms and apply an entry in 0.5 ms.
A client next to the primary writes about 200 times a second (at random moments),
until the primary crashes at a random moment between 0.5 and 1.5 s. Then the most
up-to-date standby still up (by what it received, like ``pg_last_wal_receive_lsn()``)
is promoted at once, and the acknowledged writes it lacks are lost.

In a quarter of the runs the network fails first: for 0.1 to 0.5 s before the crash
the primary can reach no standby. In a quarter (drawn apart) the whole zone fails:
``standby-1`` goes down with the primary. Everything is drawn from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..cluster import Cluster
from ..errors import ConfigError
from ..history.checks import AckWatch
from ..node.commit import Async, CommitPolicy, First, Quorum, SemiSync

STANDBYS = ("standby-1", "standby-2", "standby-3")

MODES: dict[str, Callable[[], CommitPolicy]] = {
    "async": Async,
    "semi-sync": lambda: SemiSync(1, timeout=0.3),
    "FIRST 1, remote_write": lambda: First(1, list(STANDBYS), stage="received", timeout=2.0),
    "FIRST 1, on": lambda: First(1, list(STANDBYS), stage="flushed", timeout=2.0),
    "FIRST 1, remote_apply": lambda: First(1, list(STANDBYS), stage="applied", timeout=2.0),
    "ANY 2, on": lambda: Quorum(2, list(STANDBYS), stage="flushed"),
}
"""The commit modes compared: the name, and a function making the policy. The timeouts are short,
to fit the runs: semi-sync waits 0.3 s (MySQL's ``rpl_semi_sync_source_timeout`` is 10 s by default),
and a silent standby stops counting as connected after 2 s (``wal_sender_timeout``: 60 s)."""

RATE = 200.0  # writes per second, on average


@dataclass
class Failover:
    """One run: its draws, the latency of each write acknowledged before the crash, and what was lost."""

    mode: str
    seed: int
    crash_at: float
    network_fault: bool
    zone_failure: bool
    promoted: str
    latencies: np.ndarray  # seconds, writes acknowledged before the crash
    waiting: int  # writes not yet acknowledged when the primary crashed (their outcome is unknown)
    lost: int  # acknowledged writes the promoted standby lacks
    lost_unconfirmed: int = 0  # of those, acknowledged with no standby's confirmation (async, or a fallback)
    fell_back: bool = False  # semi-sync's timeout fired
    lost_ops: list = field(default_factory=list)


def best_standby(cluster: Cluster) -> str:
    """The standby still up that has received the most of the log (the first listed, on a tie)."""
    up = [n for n in cluster.names if n != cluster.leader and cluster.node(n).up]
    if not up:
        raise ConfigError("no standby is up to promote")
    return max(up, key=lambda n: (cluster.node(n).received_lsn, -cluster.names.index(n)))


def scenario(seed: int, keep_messages: int = 0) -> Cluster:
    """The cluster of the runs (primary, three standbys at growing distances), seeded, without a policy.

    ``keep_messages``: the message journal's size (0, the runs': none kept; a panel drawing the
    messages keeps some).
    """
    c = Cluster(
        leader="primary",
        followers=list(STANDBYS),
        delay=0.0005,
        jitter=0.0001,
        heartbeat=0.2,
        seed=seed,
        keep_messages=keep_messages,
    )
    c.set_link("primary", "standby-2", delay=0.003, jitter=0.0005)
    c.set_link("primary", "standby-3", delay=0.035, jitter=0.003)
    for s in STANDBYS[:2]:
        c.set_stages(s, flush=0.001, apply=0.0005)
    return c


def failover(mode: str, seed: int, modes: Mapping[str, Callable[[], CommitPolicy]] = MODES) -> Failover:
    """One run of ``mode`` (a name in ``modes``) with ``seed``: see the module's description."""
    if mode not in modes:
        raise ConfigError(f"unknown mode {mode!r}; the modes are {', '.join(modes)}")
    rng = random.Random(f"replsim-sweep:{seed}")
    crash_at = rng.uniform(0.5, 1.5)
    network_fault = rng.random() < 0.25
    zone_failure = rng.random() < 0.25
    cut_at = crash_at - rng.uniform(0.1, 0.5)
    c = scenario(seed)
    c.set_commit(modes[mode]())
    watch = AckWatch(c)
    app = c.client("app", near="primary", timeout=10.0)
    t = rng.expovariate(RATE)
    while t < crash_at:
        c.sim.at(t, app.write, "k", round(t * 1e6))
        t += rng.expovariate(RATE)
    if network_fault:
        c.sim.at(cut_at, c.partition, ["primary"])
    c.run(until=crash_at)
    c.crash("primary")
    if zone_failure:
        c.crash("standby-1")
    promoted = best_standby(c)
    c.promote(promoted)
    lost = c.lost_writes()
    writes = c.history.writes()
    latencies = np.array([o.complete - o.invoke for o in writes if o.outcome == "ok"])
    return Failover(
        mode,
        seed,
        crash_at,
        network_fault,
        zone_failure,
        promoted,
        latencies,
        waiting=sum(o.outcome != "ok" for o in writes),
        lost=len(lost),
        lost_unconfirmed=sum(not watch.confirmers.get(o.id) for o in lost),
        fell_back=any(e.kind == "semi-sync off" for e in c.history.events),
        lost_ops=lost,
    )


def commit_sweep(
    modes: Mapping[str, Callable[[], CommitPolicy]] = MODES, seeds: Iterable[int] = range(100)
) -> list[Failover]:
    """Every mode with every seed (the same seeds, so the same faults, for each mode)."""
    seeds = list(seeds)
    return [failover(m, s, modes) for m in modes for s in seeds]


def summary(runs: Iterable[Failover]) -> list[dict]:
    """One row per mode: write latency (median, 99th percentile, in ms) and failovers and writes lost."""
    by_mode: dict[str, list[Failover]] = {}
    for r in runs:
        by_mode.setdefault(r.mode, []).append(r)
    rows = []
    for mode, rs in by_mode.items():
        lat = np.concatenate([r.latencies for r in rs]) * 1000
        rows.append(
            {
                "mode": mode,
                "failovers": len(rs),
                "median ms": float(np.median(lat)),
                "p99 ms": float(np.percentile(lat, 99)),
                "failovers losing": sum(r.lost > 0 for r in rs),
                "writes lost": sum(r.lost for r in rs),
                "lost unconfirmed": sum(r.lost_unconfirmed for r in rs),
                "writes waiting": sum(r.waiting for r in rs),
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    """The summary as a text table."""
    head = ["mode", "median ms", "p99 ms", "failovers losing", "writes lost", "writes waiting"]
    cells = [
        [
            r["mode"],
            f"{r['median ms']:.1f}",
            f"{r['p99 ms']:.1f}",
            f"{r['failovers losing']} of {r['failovers']}",
            str(r["writes lost"]),
            str(r["writes waiting"]),
        ]
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *cells]) for i in range(len(head))]
    lines = [
        "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths)))
        for row in [head, *cells]
    ]
    return "\n".join(lines)


__all__ = [
    "MODES",
    "STANDBYS",
    "Failover",
    "failover",
    "commit_sweep",
    "summary",
    "table",
    "best_standby",
    "scenario",
]
