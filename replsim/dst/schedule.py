"""Seeded fault schedules: what kind to make (:class:`Config`), and one made from its seed alone.

A seed alone makes a schedule: a cluster, clients writing, and a sequence of crashes,
recoveries, partitions, one-way cuts, heals, loss bursts, promotions, rejoins, rebuilds,
reads and writes at random times. Besides, unless switched off in the config:

- ``clients``: a client on the network with a timeout, retries and idempotency keys
  (so retries reach a leader that crashed, stepped down or was repointed meanwhile);
- ``stages``: followers with flush and apply times, one of them sometimes so slow that
  a backlog builds up; and the cluster configured in a random order (stages, commit
  policy, failover design);
- ``idle``: some schedules without heartbeats (``heartbeat=None``).

These extras are drawn from a random stream of their own (``:v3``), so the schedules of
earlier versions keep their draws (lesson 6's table uses them, through ``QUICK``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ..cluster import Cluster
from ..errors import ConfigError
from ..failover import DESIGNS, attach
from ..node.commit import CommitPolicy, First, Quorum, SemiSync

MODES = ("async", "one", "majority", "all", "semi", "first", "any")
"""Commit modes: asynchronous (0 sync replicas), one synchronous replica, a majority of the nodes,
all followers synchronous; and commit policies: MySQL's semi-sync with a short timeout, PostgreSQL's
FIRST k and ANY k (the standbys listed in a random order, k and the stage confirmed drawn at random)."""
POLICY_MODES = ("semi", "first", "any")

NO_HANDS = ("promote", "rejoin", "rebuild")  # with an automatic failover, nobody does these by hand

TIMEOUTS: dict[str, Any] = {"naive": 1.0, "fencing": 1.0, "quorum": (0.3, 0.6)}
"""Failover timeouts in schedules (heartbeats every 0.1 s): the monitor's silence, the election range."""


@dataclass(frozen=True)
class Config:
    """What kind of schedules to make: cluster size (``None``: 3-6 at random), mode, base loss, lengths,
    the failover design, and the extra faults (see the module's docstring)."""

    nodes: int | None = None
    mode: str = "async"
    loss: float = 0.0
    duration: float = 8.0  # seconds of faults
    settle: float = 3.0  # seconds to converge, after the faults and again after the rejoins
    actions: int = 14  # faults and client actions, on average
    design: str = "operator"  # who fails over: see replsim.failover.DESIGNS
    rate: float | None = None  # the client's writes per second (None: 10, 20 or 40, drawn per seed)
    clients: bool = True  # a client on the network with timeouts, retries and idempotency keys
    stages: bool = True  # followers with stages and backlogs; configuration in a random order
    idle: bool = True  # some schedules without heartbeats

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.design not in DESIGNS:
            raise ConfigError(f"design must be one of {', '.join(DESIGNS)}, got {self.design!r}")
        if self.design == "quorum" and self.mode != "async":
            raise ConfigError(
                f"the {self.design!r} design sets its own commit rule: "
                f"leave mode at 'async', got {self.mode!r}"
            )
        if self.rate is not None and not (isinstance(self.rate, (int, float)) and 0 < self.rate <= 1000):
            raise ConfigError(f"rate must be a number of writes per second in (0, 1000], got {self.rate!r}")
        if self.nodes is not None and not 2 <= self.nodes <= 9:
            raise ConfigError(f"nodes must be between 2 and 9 (or None for 3-6), got {self.nodes!r}")


@dataclass(frozen=True)
class Action:
    """One step of a schedule: at ``time``, call ``Cluster.<name>(*args)`` (refusals are expected)."""

    time: float
    name: str
    args: tuple = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def code(self) -> str:
        """This action as a line of Python."""
        args = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"c.run(until={self.time!r}); attempt(c.{self.name}{''.join(', ' + a for a in args)})"


@dataclass(frozen=True)
class NetClient:
    """A client on the network that retries with idempotency keys: where it is, how patient it is."""

    near: str
    timeout: float
    retries: int
    backoff: float


@dataclass(frozen=True)
class Schedule:
    """A seeded fault schedule: the cluster's settings and the actions, in time order."""

    seed: int
    config: Config
    names: tuple[str, ...]
    sync_replicas: int
    delay: float
    jitter: float
    rate: float
    actions: tuple[Action, ...] = field(default=())
    commit: str = ""  # a commit policy, as code (policy modes)
    stages: tuple[tuple[str, float, float], ...] = ()  # (node, flush, apply) of nodes with stages
    heartbeat: float | None = 0.1
    client: NetClient | None = None
    order: tuple[str, ...] = ("stages", "commit", "design")  # the order the cluster is configured in

    def cluster(self, keep_messages: int = 0) -> Cluster:
        """A fresh cluster with this schedule's settings (and its design attached); its journal keeps
        ``keep_messages`` messages (none by default: faster)."""
        c = Cluster(
            leader=self.names[0],
            followers=list(self.names[1:]),
            delay=self.delay,
            jitter=self.jitter,
            loss=self.config.loss,
            heartbeat=self.heartbeat,
            sync_replicas=self.sync_replicas,
            seed=self.seed,
            keep_messages=keep_messages,
        )
        for step in self.order:
            if step == "stages":
                for name, flush, apply in self.stages:
                    c.set_stages(name, flush=flush, apply=apply)
            elif step == "commit" and self.commit:
                c.set_commit(policy(self.commit))
            elif step == "design" and self.config.design != "operator":
                attach(c, self.config.design, timeout=TIMEOUTS[self.config.design])
        return c

    def clients(self, c: Cluster) -> list:
        """Start this schedule's clients: one writing to the leader of the moment; with an automatic
        failover, a second one that keeps writing to the first leader; and the client on the network."""
        writers = [c.start_writes(rate=self.rate, keys=["a", "b", "c"])]
        if self.config.design != "operator":
            writers.append(c.start_writes(rate=self.rate / 2, keys=["d"], name="sticky", node=self.names[0]))
        if self.client is not None:
            k = self.client
            app = c.client(
                "app", near=k.near, timeout=k.timeout, retries=k.retries, backoff=k.backoff, idempotent=True
            )
            writers.append(app.start_writes(self.rate / 2, keys=["e"]))
        return writers

    def replay(self) -> str:
        """A short script that replays this schedule and runs its checks."""
        design = self.config.design
        lines = [
            "from replsim import Cluster",
            "from replsim.faults import attempt, settle_and_check",
            "from replsim.history.checks import AckWatch",
            *(["from replsim.node.commit import First, Quorum, SemiSync"] if self.commit else []),
            *(["from replsim.failover import attach"] if design != "operator" else []),
            "",
            f"c = Cluster(leader={self.names[0]!r}, followers={list(self.names[1:])!r},",
            f"            delay={self.delay!r}, jitter={self.jitter!r}, loss={self.config.loss!r},",
            f"            heartbeat={self.heartbeat!r}, sync_replicas={self.sync_replicas},",
            f"            seed={self.seed}, keep_messages=0)",
        ]
        for step in self.order:
            if step == "stages":
                lines += [f"c.set_stages({n!r}, flush={f!r}, apply={a!r})" for n, f, a in self.stages]
            elif step == "commit" and self.commit:
                lines.append(f"c.set_commit({self.commit})")
            elif step == "design" and design != "operator":
                lines.append(f"attach(c, {design!r}, timeout={TIMEOUTS[design]!r})")
        lines += [
            "watch = AckWatch(c)  # checks each acknowledgement as it happens",
            f"writers = [c.start_writes(rate={self.rate!r}, keys=['a', 'b', 'c'])]",
        ]
        if design != "operator":
            lines.append(
                f"writers.append(c.start_writes(rate={self.rate / 2!r}, keys=['d'], name='sticky', "
                f"node={self.names[0]!r}))"
            )
        if self.client is not None:
            k = self.client
            lines += [
                f"app = c.client('app', near={k.near!r}, timeout={k.timeout!r}, retries={k.retries!r}, "
                f"backoff={k.backoff!r}, idempotent=True)",
                f"writers.append(app.start_writes({self.rate / 2!r}, keys=['e']))",
            ]
        lines += [
            *(a.code() for a in self.actions),
            f"c.run(until={self.config.duration!r})",
            "for w in writers:",
            "    w.stop()",
            f"print(settle_and_check(c, mode={self.config.mode!r}, settle={self.config.settle!r},",
            f"                       watch=watch, design={design!r}))",
        ]
        return "\n".join(lines)


def generate(seed: int, config: Config = Config()) -> Schedule:
    """The schedule of ``seed``: made from the seed alone, the same on every machine."""
    rng = random.Random(f"replsim-faults:{seed}")
    n = config.nodes or rng.randint(3, 6)
    names = tuple(f"n{i}" for i in range(1, n + 1))
    sync = {"async": 0, "one": 1, "majority": n // 2, "all": n - 1}.get(config.mode, 0)
    delay = rng.choice([0.001, 0.005, 0.02])
    jitter = delay * rng.choice([0.0, 0.5, 1.0])
    rate = rng.choice([10.0, 20.0, 40.0])
    if config.rate is not None:
        rate = float(config.rate)
    count = rng.randint(config.actions // 2, config.actions * 3 // 2)
    times = sorted(round(rng.uniform(0.05, config.duration), 3) for _ in range(count))
    actions = []
    for t in times:
        kind = rng.choices(
            ["crash", "recover", "partition", "cut", "heal", "loss", "promote", "rejoin", "write", "read"],
            weights=[3, 3, 2, 2, 3, 1, 3, 2, 2, 1],
        )[0]
        node = rng.choice(names)
        if kind == "partition":
            shuffled = rng.sample(names, n)
            k = rng.randint(1, n - 1)
            args: tuple = (shuffled[:k], shuffled[k:])
        elif kind == "cut":
            a, b = rng.sample(names, 2)
            args = (a, b)
        elif kind == "heal":
            args = ()
        elif kind == "loss":
            a, b = rng.sample(names, 2)
            kind, args = "set_link", (a, b)
            actions.append(Action(t, kind, args, (("loss", rng.choice([0.0, 0.3, 0.9])),)))
            continue
        elif kind == "promote":
            if rng.random() < 0.3:  # an operator who cannot reach every node repoints only some
                others = [x for x in names if x != node]
                args = (node, rng.sample(others, rng.randint(0, len(others))))
            else:
                args = (node,)
        elif kind == "write":
            args = (rng.choice("abc"), rng.randint(1000, 9999), node)
        elif kind == "read":
            args = (rng.choice("abc"), node)
        else:
            args = (node,)
        actions.append(Action(t, kind, args))
    commit, stages = _commit_settings(seed, config.mode, names)
    extra: dict[str, Any] = {}
    if config.clients or config.stages or config.idle:
        actions, stages, extra = _extras(seed, config, names, actions, stages)
    if config.design != "operator":  # the same draws, so a seed's faults are the same in every design
        actions = [a for a in actions if a.name not in NO_HANDS]
    return Schedule(seed, config, names, sync, delay, jitter, rate, tuple(actions), commit, stages, **extra)


def _commit_settings(seed: int, mode: str, names: tuple[str, ...]) -> tuple[str, tuple]:
    """A policy mode's commit policy (as code) and random stages, from their own random stream."""
    if mode not in POLICY_MODES:
        return "", ()
    rng = random.Random(f"replsim-faults:{seed}:commit")
    stage = rng.choice(["received", "flushed", "applied"])
    listed = rng.sample(names, len(names))  # every node: whoever leads, the others are its standbys
    k = rng.randint(1, len(names) - 1)
    if mode == "semi":
        code = f"SemiSync(1, timeout={rng.choice([0.2, 0.5, 1.0])!r}, stage={stage!r})"
    elif mode == "first":
        code = f"First({k}, {listed!r}, stage={stage!r}, timeout={rng.choice([0.3, 1.0, 60.0])!r})"
    else:
        code = f"Quorum({k}, {listed!r}, stage={stage!r})"
    stages = tuple(
        (name, rng.choice([0.0, 0.002, 0.01]), rng.choice([0.0, 0.001, 0.005]))
        for name in names
        if rng.random() < 0.6
    )
    return code, stages


def _extras(
    seed: int, config: Config, names: tuple[str, ...], actions: list[Action], stages: tuple
) -> tuple[list[Action], tuple, dict[str, Any]]:
    """The extra faults (see the module's docstring), from a random stream of their own."""
    rng = random.Random(f"replsim-faults:{seed}:v3")
    extra: dict[str, Any] = {}
    if config.clients:
        extra["client"] = NetClient(
            rng.choice(names), rng.choice([0.2, 0.3, 0.5]), rng.randint(1, 3), rng.choice([0.1, 0.3])
        )
        for _ in range(rng.randint(0, 2)):  # a repointing from a fresh copy, with messages in flight
            t = round(rng.uniform(0.05, config.duration), 3)
            actions.append(Action(t, "rebuild", (rng.choice(names),)))
        if rng.random() < 0.5:  # an operator promotes one node, then at once another: announcements in flight
            t = _pair_time(rng, config.duration)
            first, second = rng.sample(names, 2)
            actions += [Action(t, "promote", (first,)), Action(round(t + 0.0005, 4), "promote", (second,))]
        if rng.random() < 0.5:  # a node restarts, and at once the operator repoints every other one
            t = _pair_time(rng, config.duration)
            back = rng.choice(names)
            actions.append(Action(t, "recover", (back,)))
            actions += [Action(round(t + 0.0005, 4), "rejoin", (n,)) for n in names if n != back]
    if config.stages:
        mine = dict((n, (f, a)) for n, f, a in stages)
        if config.mode not in POLICY_MODES:
            for n in names:
                if rng.random() < 0.4:
                    mine[n] = (rng.choice([0.0, 0.002, 0.01]), rng.choice([0.0, 0.001, 0.005]))
        if rng.random() < 0.3:  # one follower so slow to apply that a backlog builds up
            slow = rng.choice(names)
            mine[slow] = (max(mine.get(slow, (0.0, 0.0))[0], 0.001), rng.choice([0.02, 0.05]))
        stages = tuple((n, *mine[n]) for n in names if n in mine and any(mine[n]))
        extra["order"] = tuple(rng.sample(["stages", "commit", "design"], 3))
        if rng.random() < 0.3:  # a burst of writes early on: a slow follower's backlog outgrows the time
            t = round(rng.uniform(0.05, 1.0), 3)
            burst = (("rate", 200.0), ("count", rng.randint(100, 300)), ("keys", ["f"]))
            actions.append(Action(t, "start_writes", (), burst))
    actions.sort(key=lambda a: a.time)  # stable: the actions drawn before keep their order
    if config.idle and config.design != "quorum" and rng.random() < 0.4:
        extra["heartbeat"] = None
    return actions, stages, extra


def _pair_time(rng: random.Random, duration: float) -> float:
    """When a pair of actions 0.5 ms apart starts: early enough that both happen within ``duration``."""
    return min(round(rng.uniform(0.05, duration), 3), duration - 0.001)


def policy(code: str) -> CommitPolicy:
    """The commit policy a schedule's code names (``SemiSync(...)``, ``First(...)``, ``Quorum(...)``)."""
    made = eval(code, {"__builtins__": {}}, {"SemiSync": SemiSync, "First": First, "Quorum": Quorum})
    if not isinstance(made, CommitPolicy):
        raise ConfigError(f"not a commit policy: {code!r}")
    return made


__all__ = ["MODES", "POLICY_MODES", "Config", "Action", "NetClient", "Schedule", "generate", "policy"]
