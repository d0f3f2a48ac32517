"""Engine benchmark: replsim's throughput against lean SimPy and a bare heapq loop.

The workload (the same in all three): 1 leader and 5 followers joined by fixed
5 ms one-way links (no jitter, no loss); a client writes once per virtual
millisecond; the leader appends each write to its log and sends it to the 5
followers; each follower applies it and sends an acknowledgement back. That is
1 + 2 x 5 = 11 model events per write (one write tick, 5 deliveries, 5 acks).

What is measured, in one process:

- replsim, through its public API only: ``Cluster(..., heartbeat=None)``,
  ``start_writes(rate=1000, count=N)``, ``run(until=...)``, with the default
  recording (history of every client operation, per-node position arrays, the
  last 10 000 messages). The script checks that all N writes reached all 5
  followers and were acknowledged, so the 11 model events per write all happened;
  replsim runs them as fewer heap events (copies of a message that arrive together
  share one), which is part of its speed, so throughput counts model events for
  every engine alike (``cluster.sim.events_run``, the heap events, is printed too).
- SimPy, the reference, written lean in SimPy's own style: the writer is one
  process yielding ``env.timeout(0.001)``; each message is one short process
  that yields its 5 ms timeout, then applies or acknowledges.
- SimPy used as a bare callback heap (printed for comparison, not the
  reference): every message is a bare ``env.timeout(0.005, payload)`` with a
  callback on ``.callbacks``; no processes, and less work per event than
  replsim's nodes do.
- a bare heapq loop: the same 11 events per write as plain tuple pushes/pops on
  one heap with an integer dispatch, as the floor any pure-Python engine pays.

Timing: wall clock (``time.perf_counter``) around ``start_writes`` + ``run`` (or
the SimPy/heapq equivalent), BEST of ``--repeat`` runs (default 3), after a
``gc.collect()``; replsim pauses the cyclic collector inside its run loop, SimPy
runs with it on, each as a user gets it.
Throughput = model events / best time. Memory: the tracemalloc peak of one
further, untimed replsim run (tracemalloc slows the run, so it is kept apart),
from creating the cluster to the end of the run. Determinism: every replsim run
uses the same seed and must give the same final LSN, event count and messages
sent.

Targets (benchmarks/README.md): replsim/simpy ratio >= 3 and peak memory
< 300 MB at 100 000 writes. The last line printed is exactly
``replsim/simpy throughput ratio: X``.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import sys
import time
import tracemalloc

import simpy

import replsim

DELAY = 0.005  # one-way link delay, seconds
INTERVAL = 0.001  # one write per millisecond
FOLLOWERS = [f"follower-{i}" for i in range(1, 6)]
EVENTS_PER_WRITE = 1 + 2 * len(FOLLOWERS)


# --- replsim ------------------------------------------------------------------
def _replsim_cluster(seed: int) -> replsim.Cluster:
    return replsim.Cluster(
        leader="leader", followers=FOLLOWERS, delay=DELAY, jitter=0.0, heartbeat=None, seed=seed
    )


def _replsim_drive(cluster: replsim.Cluster, n: int) -> None:
    cluster.start_writes(rate=1 / INTERVAL, count=n)
    cluster.run(until=n * INTERVAL + 4 * DELAY)


def run_replsim(n: int, seed: int) -> tuple[float, int, tuple]:
    """One timed replsim run: (seconds, events run, fingerprint for the determinism check)."""
    cluster = _replsim_cluster(seed)
    gc.collect()
    t0 = time.perf_counter()
    _replsim_drive(cluster, n)
    dt = time.perf_counter() - t0
    leader = cluster.node("leader")
    if leader.lsn != n:
        sys.exit(f"replsim: the leader holds {leader.lsn} writes, expected {n}")
    for f in FOLLOWERS:
        node = cluster.node(f)
        if node.lsn != n or node.store.get("x") != n:
            sys.exit(f"replsim: {f} holds {node.lsn} writes (x={node.store.get('x')!r}), expected {n}")
        if leader.match.get(f) != n:
            sys.exit(f"replsim: the leader saw {f} acknowledge up to {leader.match.get(f)}, expected {n}")
    heap_events = cluster.sim.events_run
    fingerprint = (leader.lsn, heap_events, cluster.network.sent, tuple(cluster.lag().values()))
    return dt, n * EVENTS_PER_WRITE, fingerprint


def replsim_peak_mb(n: int, seed: int) -> float:
    """Peak traced memory (MB) of one replsim run, cluster creation included."""
    gc.collect()
    tracemalloc.start()
    cluster = _replsim_cluster(seed)
    _replsim_drive(cluster, n)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if cluster.node(FOLLOWERS[-1]).lsn != n:
        sys.exit("replsim: the memory run did not replicate every write")
    del cluster
    gc.collect()
    return peak / 1e6


# --- SimPy, callbacks on timeouts ----------------------------------------------
def run_simpy_callbacks(n: int) -> tuple[float, int]:
    """Lean SimPy: a writer process; each message is a timeout carrying a callback."""
    env = simpy.Environment()
    timeout = env.timeout
    leader_log: list[tuple] = []
    match: dict[int, int] = {}
    logs: list[list[tuple]] = [[] for _ in FOLLOWERS]
    stores: list[dict] = [{} for _ in FOLLOWERS]
    acks = [0]

    def on_ack(ev: simpy.Event) -> None:
        f, lsn = ev._value
        match[f] = lsn
        acks[0] += 1

    def on_append(ev: simpy.Event) -> None:
        f, entry = ev._value
        log = logs[f]
        log.append(entry)
        stores[f][entry[2]] = entry[3]
        timeout(DELAY, (f, len(log))).callbacks.append(on_ack)

    def writer():
        for i in range(1, n + 1):
            entry = (i, env.now, "x", i)
            leader_log.append(entry)
            for f in range(len(FOLLOWERS)):
                timeout(DELAY, (f, entry)).callbacks.append(on_append)
            yield timeout(INTERVAL)

    dt = _timed_simpy_run(env, writer())
    _check_simpy(n, leader_log, logs, match, acks[0])
    return dt, n * EVENTS_PER_WRITE


def run_simpy_processes(n: int) -> tuple[float, int]:
    """Textbook SimPy: a writer process plus one process per message."""
    env = simpy.Environment()
    leader_log: list[tuple] = []
    match: dict[int, int] = {}
    logs: list[list[tuple]] = [[] for _ in FOLLOWERS]
    stores: list[dict] = [{} for _ in FOLLOWERS]
    acks = [0]

    def ack(f: int, lsn: int):
        yield env.timeout(DELAY)
        match[f] = lsn
        acks[0] += 1

    def deliver(f: int, entry: tuple):
        yield env.timeout(DELAY)
        log = logs[f]
        log.append(entry)
        stores[f][entry[2]] = entry[3]
        env.process(ack(f, len(log)))

    def writer():
        for i in range(1, n + 1):
            entry = (i, env.now, "x", i)
            leader_log.append(entry)
            for f in range(len(FOLLOWERS)):
                env.process(deliver(f, entry))
            yield env.timeout(INTERVAL)

    dt = _timed_simpy_run(env, writer())
    _check_simpy(n, leader_log, logs, match, acks[0])
    # model events only (SimPy also runs an Initialize and an end event per process)
    return dt, n * EVENTS_PER_WRITE


def _timed_simpy_run(env: simpy.Environment, writer) -> float:
    """Run a SimPy model from its writer process to the end; return the wall-clock seconds."""
    gc.collect()
    t0 = time.perf_counter()
    env.process(writer)
    env.run()
    return time.perf_counter() - t0


def _check_simpy(n: int, leader_log: list, logs: list, match: dict, acks: int) -> None:
    if len(leader_log) != n or any(len(log) != n for log in logs) or acks != n * len(FOLLOWERS):
        sys.exit("simpy: not every write reached every follower")
    if any(match[f] != n for f in range(len(FOLLOWERS))):
        sys.exit("simpy: not every follower acknowledged every write")


# --- bare heapq loop ------------------------------------------------------------
def run_heapq(n: int) -> tuple[float, int]:
    """The same events as plain (time, seq, kind, a, b) pushes and pops on one heap."""
    write, append, ack = 0, 1, 2
    heap: list[tuple] = []
    push, pop = heapq.heappush, heapq.heappop
    leader_log: list[tuple] = []
    logs: list[list[tuple]] = [[] for _ in FOLLOWERS]
    stores: list[dict] = [{} for _ in FOLLOWERS]
    match: dict[int, int] = {}
    nf = len(FOLLOWERS)
    gc.collect()
    t0 = time.perf_counter()
    seq = 0
    events = 0
    push(heap, (0.0, 0, write, 1, None))
    while heap:
        now, _, kind, a, b = pop(heap)
        events += 1
        if kind == write:
            entry = (a, now, "x", a)
            leader_log.append(entry)
            t = now + DELAY
            for f in range(nf):
                seq += 1
                push(heap, (t, seq, append, f, entry))
            if a < n:
                seq += 1
                push(heap, (now + INTERVAL, seq, write, a + 1, None))
        elif kind == append:
            log = logs[a]
            log.append(b)
            stores[a][b[2]] = b[3]
            seq += 1
            push(heap, (now + DELAY, seq, ack, a, len(log)))
        else:
            match[a] = b
    dt = time.perf_counter() - t0
    if events != n * EVENTS_PER_WRITE or any(match[f] != n for f in range(nf)):
        sys.exit("heapq: wrong event count or missing acknowledgements")
    return dt, events


# --- fault schedules ----------------------------------------------------------------
def run_schedules(count: int) -> tuple[float, int]:
    """Seeded fault schedules on 3 nodes, 30 s of faults each, run and checked: (seconds, schedules)."""
    from replsim.faults import Config, generate, run

    config = Config(nodes=3, duration=30.0, actions=40)
    gc.collect()
    t0 = time.perf_counter()
    for seed in range(count):
        result = run(generate(seed, config))
        if result.violations:
            sys.exit(f"fault schedule {seed} failed its checks: {result.violations[:2]}")
    return time.perf_counter() - t0, count


# --- fork and the failover designs ---------------------------------------------------
def time_fork(repeat: int = 20) -> tuple[float, int, int]:
    """Median seconds of ``Cluster.fork()`` on a 3-node cluster after 20 s of 15 writes a second
    (300 writes, the default message journal): (seconds, writes, messages journaled)."""
    import statistics

    c = replsim.Cluster(leader="leader", followers=["follower-1", "follower-2"], delay=0.05, seed=1)
    c.start_writes(rate=10, keys=["a", "b"])
    c.start_writes(rate=5, keys=["c"])
    c.run(until=20.0)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        c.fork()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(c.history.ops), len(c.network.journal)


def time_designs(schedules: int, workers: int) -> float:
    """Seconds to run lesson 6's table: ``schedules`` fault schedules against each of the three failover
    designs (``faults.compare``, short schedules on 3 nodes) on ``workers`` processes."""
    from replsim import faults

    t0 = time.perf_counter()
    reports = faults.compare(schedules=schedules, workers=workers)
    dt = time.perf_counter() - t0
    if any(r.failures for r in reports.values()) or reports["quorum"].lost:
        sys.exit("failover designs: a schedule broke a promise")
    return dt


# --- main -----------------------------------------------------------------------
def _best(fn, repeat: int, *args) -> tuple[float, int, list]:
    results = [fn(*args) for _ in range(repeat)]
    return min(r[0] for r in results), results[0][1], results


def main(argv: list[str] | None = None) -> None:
    """Run the three engines on the same workload and print throughputs and the ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--writes", type=int, default=100_000, help="client writes (default 100000)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per engine; the best counts")
    p.add_argument("--seed", type=int, default=1, help="replsim seed (default 1)")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    p.add_argument("--schedules", type=int, default=200, help="fault schedules to time (default 200)")
    p.add_argument(
        "--designs", type=int, default=1000, help="schedules per failover design (lesson 6's table; 1000)"
    )
    a = p.parse_args(argv)
    if a.writes < 1 or a.repeat < 1:
        p.error("--writes and --repeat must be >= 1")
    n = a.writes
    wall0 = time.perf_counter()
    print(
        f"workload: 1 leader + {len(FOLLOWERS)} followers, {DELAY * 1e3:g} ms links, "
        f"{n} writes at 1/ms, {EVENTS_PER_WRITE} model events per write; best of {a.repeat} runs"
    )
    print(f"python {sys.version.split()[0]}, simpy {simpy.__version__}, replsim {replsim.__version__}")

    r_time, r_events, r_runs = _best(run_replsim, a.repeat, n, a.seed)
    prints = {fp for _, _, fp in r_runs}
    if len(prints) != 1:
        sys.exit(f"replsim is not deterministic: same seed, different results {sorted(prints)}")
    lsn, heap_events, sent, _ = r_runs[0][2]
    print(
        f"replsim : {r_events:>9} events in {r_time:7.3f} s = {r_events / r_time:>10,.0f} events/s"
        f"  (all {n} writes on all {len(FOLLOWERS)} followers; {heap_events} heap events)"
    )
    print(
        f"determinism: {a.repeat} runs with seed {a.seed} gave lsn {lsn}, "
        f"{heap_events} heap events, {sent} messages each: ok"
    )

    s_time, s_events, _ = _best(run_simpy_processes, a.repeat, n)
    print(
        f"simpy   : {s_events:>9} events in {s_time:7.3f} s = {s_events / s_time:>10,.0f} events/s"
        "  (processes: the reference)"
    )
    c_time, c_events, _ = _best(run_simpy_callbacks, a.repeat, n)
    print(
        f"simpy-cb: {c_events:>9} events in {c_time:7.3f} s = {c_events / c_time:>10,.0f} events/s"
        "  (bare timeouts with callbacks, no processes)"
    )
    h_time, h_events, _ = _best(run_heapq, a.repeat, n)
    print(f"heapq   : {h_events:>9} events in {h_time:7.3f} s = {h_events / h_time:>10,.0f} events/s")

    if not a.no_memory:
        peak = replsim_peak_mb(n, a.seed)
        print(f"replsim peak memory (tracemalloc, separate untimed run): {peak:.1f} MB")
    if a.schedules > 0:
        f_time, f_count = run_schedules(a.schedules)
        print(
            f"fault schedules: {f_count / f_time:,.0f} checked per second "
            f"({f_count} schedules, 3 nodes, 30 s of faults and clients each, all checks)"
        )
    f_secs, f_writes, f_msgs = time_fork()
    print(
        f"fork: a 3-node cluster after {f_writes} writes, {f_msgs} messages journaled: {f_secs * 1e3:.1f} ms"
    )
    if a.designs > 0:
        d_time = time_designs(a.designs, 2)
        print(
            f"failover designs: {a.designs} schedules x 3 designs in {d_time:.1f} s on 2 processes "
            "(lesson 6's table; target < 10 s)"
        )
    s_rate = s_events / s_time
    print(f"heapq/simpy throughput ratio: {h_events / h_time / s_rate:.2f}")
    print(
        f"replsim/simpy-callbacks throughput ratio: {r_events / r_time / (c_events / c_time):.2f} "
        f"(writes per second: replsim {n / r_time:,.0f}, simpy-cb {n / c_time:,.0f})"
    )
    print(f"wall time of this script: {time.perf_counter() - wall0:.1f} s")
    print(f"replsim/simpy throughput ratio: {r_events / r_time / s_rate:.2f}")


if __name__ == "__main__":
    main()
