"""Read scaling: many reads from clients on the network, spread over the leader and some followers.

Each node serves one read at a time, ``read_time`` seconds each (``Cluster(read_time=...)``), so
reads queue when a node is busy. :class:`Readers` sends reads at random moments (a Poisson
stream, seeded), in turn to each node of a list (round robin, like a load balancer), and finds
the *stale* ones: reads answered by a node that did not yet hold the newest write to the key
acknowledged before the read was sent. :func:`read_scaling` runs the same load on clusters whose
reads are spread over 0, 1, 2, 4 followers and measures the leader's load, the latency and
staleness, and where the writes went.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..clients.workload import MAX_RATE, check_key
from ..cluster import Cluster
from ..errors import ConfigError
from ..history.record import OK

if TYPE_CHECKING:
    from ..history import History, Op

CLIENT_DELAY = 0.001
"""One-way delay from the reading clients to every node: 1 ms (application servers nearby)."""


class Readers:
    """Clients reading ``key`` ``rate`` times a second on average, in turn from each node of ``nodes``.

    The clients sit ``CLIENT_DELAY`` from every node. ``spread(nodes)`` changes where reads go;
    ``stop()`` stops them. ``ops`` holds every read sent.
    """

    def __init__(
        self,
        cluster: Cluster,
        rate: float,
        nodes: Sequence[str],
        *,
        key: Any = "x",
        name: str = "readers",
        timeout: float = 2.0,
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= MAX_RATE:
            raise ConfigError(
                f"rate must be a number of reads per second in (0, {MAX_RATE:,.0f}], got {rate!r}"
            )
        self.cluster = cluster
        self.rate = float(rate)
        self.key = check_key(key)
        self.nodes: list[str] = []
        self.spread(nodes)
        self.client = cluster.client(name, delays={n: CLIENT_DELAY for n in cluster.names}, timeout=timeout)
        self.rng = cluster.sim.stream(f"readers:{name}")
        self.ops: list[Op] = []
        self.running = True
        self._turn = 0
        cluster.sim.schedule(self.rng.expovariate(self.rate), self._tick)

    def spread(self, nodes: Sequence[str]) -> None:
        """Send the next reads, in turn, to these nodes."""
        if isinstance(nodes, str):
            nodes = [nodes]
        nodes = list(nodes)
        if not nodes:
            raise ConfigError("reads need at least one node to go to")
        for n in nodes:
            self.cluster.node(n)
        self.nodes = nodes

    def stop(self) -> None:
        """Stop reading."""
        self.running = False

    def _tick(self) -> None:
        if not self.running:
            return
        c = self.cluster
        node = self.nodes[self._turn % len(self.nodes)]
        self._turn += 1
        net = c.network
        if (self.client.name, node) in net._routes and net.link(self.client.name, node) is net.default:
            c.set_link(
                self.client.name, node, delay=CLIENT_DELAY
            )  # a node added since: as near as the others
        self.ops.append(self.client.read(self.key, node=node))
        c.sim.schedule(self.rng.expovariate(self.rate), self._tick)

    def answered(self, start: float = 0.0, end: float | None = None) -> list[Op]:
        """The reads sent in [start, end) that were answered."""
        end = self.cluster.now if end is None else end
        return [o for o in self.ops if o.outcome == OK and start <= o.invoke < end]

    def stale(self, start: float = 0.0, end: float | None = None) -> list[Op]:
        """Answered reads whose node lacked the newest write to the key acknowledged before they were sent."""
        return stale_reads(self.cluster.history, self.answered(start, end))

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"Readers({self.rate:g}/s over {', '.join(self.nodes)}, {len(self.ops)} sent, {state})"


def stale_reads(history: History, reads: Sequence[Op]) -> list[Op]:
    """The reads that returned older data than a write acknowledged before they were sent.

    Judged by position (the answering node's log position against the acknowledged write's),
    so any values will do. ``replsim.history.anomalies.stale_reads`` judges the same thing by
    the value read alone, as a black-box checker must, and needs every value written once.
    """
    acked: dict[Any, tuple[list[float], list[int]]] = {}
    for w in sorted(history.writes(OK), key=lambda o: o.complete):
        if w.lsn is not None:
            times, lsns = acked.setdefault(w.key, ([], []))
            times.append(w.complete)
            lsns.append(max(w.lsn, lsns[-1]) if lsns else w.lsn)
    out = []
    for r in reads:
        times, lsns = acked.get(r.key, ([], []))
        i = bisect_right(times, r.invoke)
        if i and r.lsn is not None and r.lsn < lsns[i - 1]:
            out.append(r)
    return out


def busy_share(history: History, node: str, start: float, end: float) -> float:
    """The share of [start, end) that ``node`` spent serving reads."""
    if end <= start:
        return 0.0
    used = sum(max(0.0, min(b, end) - max(a, start)) for a, b in history.tracks[node].busy)
    return used / (end - start)


@dataclass
class ReadScaling:
    """One configuration of :func:`read_scaling`: reads spread over the leader and ``followers`` followers."""

    followers: int
    nodes: list[str]
    reads: int
    leader_busy: float  # share of the time the leader spent serving reads
    busy: dict[str, float]  # the same for every node
    median_ms: float
    p95_ms: float
    stale: int  # reads that missed a write already acknowledged
    writes: int
    writes_on_leader: int
    latencies: np.ndarray = field(repr=False)

    @property
    def stale_share(self) -> float:
        """Stale reads as a share of all answered reads."""
        return self.stale / self.reads if self.reads else 0.0


def read_scaling(
    followers: Sequence[int] = (0, 1, 2, 4),
    *,
    leader: str = "leader",
    names: Sequence[str] = ("follower-1", "follower-2", "follower-3", "follower-4"),
    rate: float = 200.0,
    read_time: float = 0.004,
    write_rate: float = 20.0,
    delay: float = 0.010,
    seconds: float = 10.0,
    seed: int = 7,
) -> list[ReadScaling]:
    """The same reads (``rate`` a second) and writes (``write_rate``, all to the leader) for ``seconds``,
    with reads spread evenly over the leader and the first k of ``names`` for each k in ``followers``.

    Every cluster has all of ``names`` as followers (they all apply every write); only where the
    reads go changes. Links between nodes take ``delay`` seconds one way.
    """
    names = list(names)
    for k in followers:
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= len(names):
            raise ConfigError(f"followers must be whole numbers between 0 and {len(names)}, got {k!r}")

    out = []
    for k in followers:
        c = Cluster(leader, names, delay=delay, read_time=read_time, seed=seed)
        writer = c.start_writes(rate=write_rate, keys=["menu"])
        serving = [leader, *names[:k]]
        readers = Readers(c, rate, serving, key="menu")
        c.run(until=seconds)
        readers.stop()
        writer.stop()
        c.advance(1.0)  # let the last reads be answered
        done = readers.answered(0.0, seconds)
        lat = np.array([o.complete - o.invoke for o in done]) * 1000
        writes = [o for o in c.history.writes() if o.invoke < seconds]
        out.append(
            ReadScaling(
                followers=k,
                nodes=serving,
                reads=len(done),
                leader_busy=busy_share(c.history, leader, 0.0, seconds),
                busy={n: busy_share(c.history, n, 0.0, seconds) for n in c.names},
                median_ms=float(np.median(lat)) if len(lat) else float("nan"),
                p95_ms=float(np.percentile(lat, 95)) if len(lat) else float("nan"),
                stale=len(stale_reads(c.history, done)),
                writes=len(writes),
                writes_on_leader=sum(o.node == leader for o in writes),
                latencies=lat,
            )
        )
    return out
