"""Seeded random fault schedules, and the checks of what each replication mode promises.

Deterministic simulation testing, as FoundationDB and TigerBeetle do it: a seed
alone makes a schedule (a cluster, a client writing, and a sequence of crashes,
recoveries, partitions, one-way cuts, heals, loss bursts, promotions, rejoins,
reads and writes at random times); running it gives a history; checkers judge
the history. A failure names its seed and prints a short script that replays it,
shrunk by deleting actions while the failure remains.

    >>> report = explore(Config(mode="all"), seeds=range(100))
    >>> report.failures
    []

Checked on every schedule (``check``):

- at the moment a write waiting for k replicas is acknowledged, its leader and at
  least k other nodes hold that exact entry; an outcome never changes once settled;
- log matching: two logs holding the same (epoch, LSN) agree on everything before it;
- the record is in time order;
- converged: after the faults stop and the network heals, every up node the
  leader streams to holds the leader's log and data; then, after an operator
  rejoins every node, all of them do, and no operation is left pending;
- fully synchronous replication (``mode="all"``): no acknowledged write is lost;
- the commit policies of ``replsim.node.commit`` (modes ``semi``, ``first``, ``any``,
  with followers given random flush and apply times): each acknowledged write had the
  confirmations its policy asks for, from standbys that do hold it, and a write is lost
  only to the promotion of a node that had not confirmed it (``CommitWatch``).

``Config(design=...)`` runs the same kind of schedules against an automatic
failover (``replsim.failover``): ``"naive"`` and ``"fencing"`` (a monitor
promotes; without or with epochs fencing the old leader) and ``"quorum"``
(majority elections and majority commit). Nobody promotes or rejoins by hand
there, and a second client keeps writing to the first leader (its connections
stay there). Each run also records what it *found* (:data:`FINDINGS`): two
leaders in one term, two leaders at once, acknowledged writes lost, nodes still
diverged after healing. For ``"quorum"`` the first, the third and the fourth
are broken promises: never two leaders in one term, no write acknowledged by a
majority ever lost (checked at every election and at the end), and convergence
without an operator.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .cluster import Cluster
from .errors import ConfigError, ReplsimError
from .failover import DESIGNS, attach
from .history.checks import (
    AckWatch,
    check_converged,
    check_log_matching,
    check_no_lost_writes,
    check_one_leader_per_term,
    check_time_order,
    leaders_at_once,
    leaders_by_term,
    lost_by_clients,
)
from .history.measures import lost_writes
from .node.commit import CommitPolicy, CommitWatch, First, Quorum, SemiSync

MODES = ("async", "one", "all", "semi", "first", "any")
"""Commit modes: asynchronous (0 sync replicas), one synchronous replica, all followers synchronous;
and commit policies: MySQL's semi-sync with a short timeout, PostgreSQL's FIRST k and ANY k (the
standbys listed in a random order, k and the stage confirmed drawn at random)."""
POLICY_MODES = ("semi", "first", "any")

FINDINGS = (
    "two leaders in one term",
    "two leaders at once",
    "acknowledged writes lost",
    "diverged after healing",
)
"""What the checkers look for in every run, whatever the design (``Result.findings``)."""

_NO_HANDS = ("promote", "rejoin")  # with an automatic failover, nobody does these by hand


@dataclass(frozen=True)
class Config:
    """What kind of schedules to make: cluster size (``None``: 3-6 at random), mode, base loss, lengths."""

    nodes: int | None = None
    mode: str = "async"
    loss: float = 0.0
    duration: float = 8.0  # seconds of faults
    settle: float = 3.0  # seconds to converge, after the faults and again after the rejoins
    actions: int = 14  # faults and client actions, on average
    design: str = "operator"  # who fails over: see replsim.failover.DESIGNS
    rate: float | None = None  # the client's writes per second (None: 10, 20 or 40, drawn per seed)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.design not in DESIGNS:
            raise ConfigError(f"design must be one of {', '.join(DESIGNS)}, got {self.design!r}")
        if self.design != "operator" and self.mode != "async":
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

    def cluster(self) -> Cluster:
        """A fresh cluster with this schedule's settings (and its design attached)."""
        c = Cluster(
            leader=self.names[0],
            followers=list(self.names[1:]),
            delay=self.delay,
            jitter=self.jitter,
            loss=self.config.loss,
            heartbeat=0.1,
            sync_replicas=self.sync_replicas,
            seed=self.seed,
            keep_messages=0,
        )
        for name, flush, apply in self.stages:
            c.set_stages(name, flush=flush, apply=apply)
        if self.commit:
            c.set_commit(policy(self.commit))
        if self.config.design != "operator":
            attach(c, self.config.design, timeout=_TIMEOUTS[self.config.design])
        return c

    def clients(self, c: Cluster) -> list:
        """Start this schedule's clients: one writing to the leader of the moment; with an automatic
        failover, a second one that keeps writing to the first leader."""
        writers = [c.start_writes(rate=self.rate, keys=["a", "b", "c"])]
        if self.config.design != "operator":
            writers.append(c.start_writes(rate=self.rate / 2, keys=["d"], name="sticky", node=self.names[0]))
        return writers

    def replay(self) -> str:
        """A short script that replays this schedule and runs its checks."""
        lines = [
            "from replsim import Cluster",
            "from replsim.faults import attempt, settle_and_check",
            "from replsim.history.checks import AckWatch",
            *(
                ["from replsim.node.commit import CommitWatch, First, Quorum, SemiSync"]
                if self.commit
                else []
            ),
            "",
            f"c = Cluster(leader={self.names[0]!r}, followers={list(self.names[1:])!r},",
            f"            delay={self.delay!r},"
            f"            jitter={self.jitter!r}, loss={self.config.loss!r}, heartbeat=0.1,",
            f"            sync_replicas={self.sync_replicas}, seed={self.seed}, keep_messages=0)",
            *(f"c.set_stages({n!r}, flush={f!r}, apply={a!r})" for n, f, a in self.stages),
            *([f"c.set_commit({self.commit})", "commits = CommitWatch(c)"] if self.commit else []),
        ]
        design = self.config.design
        if design != "operator":
            lines[0] += "\nfrom replsim.failover import attach"
            lines.append(f"attach(c, {design!r}, timeout={_TIMEOUTS[design]!r})")
        lines += [
            "watch = AckWatch(c)  # checks each acknowledgement as it happens",
            f"writers = [c.start_writes(rate={self.rate!r}, keys=['a', 'b', 'c'])]",
        ]
        if design != "operator":
            lines.append(
                f"writers.append(c.start_writes(rate={self.rate / 2!r}, keys=['d'], name='sticky', "
                f"node={self.names[0]!r}))"
            )
        lines += [
            *(a.code() for a in self.actions),
            f"c.run(until={self.config.duration!r})",
            "for w in writers:",
            "    w.stop()",
            f"print(settle_and_check(c, mode={self.config.mode!r}, settle={self.config.settle!r},",
            f"                       watch=watch, design={design!r})"
            + (" + commits.check())" if self.commit else ")"),
        ]
        return "\n".join(lines)


_TIMEOUTS: dict[str, Any] = {"naive": 1.0, "fencing": 1.0, "quorum": (0.3, 0.6)}
"""Failover timeouts in schedules (heartbeats every 0.1 s): the monitor's silence, the election range."""


def generate(seed: int, config: Config = Config()) -> Schedule:
    """The schedule of ``seed``: made from the seed alone, the same on every machine."""
    rng = random.Random(f"replsim-faults:{seed}")
    n = config.nodes or rng.randint(3, 6)
    names = tuple(f"n{i}" for i in range(1, n + 1))
    sync = {"async": 0, "one": 1, "all": n - 1}.get(config.mode, 0)
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
    if config.design != "operator":  # the same draws, so a seed's faults are the same in every design
        actions = [a for a in actions if a.name not in _NO_HANDS]
    commit, stages = _commit_settings(seed, config.mode, names)
    return Schedule(seed, config, names, sync, delay, jitter, rate, tuple(actions), commit, stages)


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


def policy(code: str) -> CommitPolicy:
    """The commit policy a schedule's code names (``SemiSync(...)``, ``First(...)``, ``Quorum(...)``)."""
    made = eval(code, {"__builtins__": {}}, {"SemiSync": SemiSync, "First": First, "Quorum": Quorum})
    if not isinstance(made, CommitPolicy):
        raise ConfigError(f"not a commit policy: {code!r}")
    return made


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call an action; a refusal (crashing a crashed node, a write to a follower...) is part of the test."""
    try:
        fn(*args, **kwargs)
    except ReplsimError:
        pass


def settle_and_check(
    cluster: Cluster,
    mode: str = "async",
    settle: float = 3.0,
    watch: AckWatch | None = None,
    design: str = "operator",
    findings: dict[str, int] | None = None,
) -> list[str]:
    """End the faults (heal, no loss, recover everyone), let the cluster settle, and check it.

    Checked twice: as it is (the nodes the leader streams to must converge), then
    after an operator rejoins every other node (all must converge, nothing pending).
    With ``design="quorum"`` nobody rejoins anything: every node must converge on
    its own, and the promises of majority elections are checked. ``findings``, if
    given, is filled with what the checkers found (:data:`FINDINGS`).
    """
    c = cluster
    if c.network.faulty:
        c.heal()
    names = c.names
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            c.set_link(a, b, loss=0.0)
    for n in names:
        if not c.node(n).up:
            c.recover(n)
    bad = [f"without rejoin: {v}" for v in _settle(c, settle, every_node=False)]
    bad = [v for v in bad if "pending" not in v]  # a deposed leader nobody repointed may still hold some
    diverged = check_converged(c, every_node=True)  # before any operator steps in
    if design == "quorum":  # elections and majority commit: no operator needed
        bad += [f"without an operator: {v}" for v in diverged]
    else:
        for n in names:
            if n != c.leader:
                c.rejoin(n)
        bad += [f"after rejoin: {v}" for v in _settle(c, settle, every_node=True)]
    bad += check_log_matching(c.nodes)
    bad += check_time_order(c.history)
    if watch is not None:
        bad += watch.check()
    if mode == "all":
        bad += check_no_lost_writes(c)
    if design == "quorum":
        bad += check_one_leader_per_term(c.history, c.now)
        bad += check_leaders_hold_acknowledged_writes(c)
    if findings is not None:
        h = c.history
        findings["two leaders in one term"] = sum(len(v) > 1 for v in leaders_by_term(h, c.now).values())
        findings["two leaders at once"] = len(leaders_at_once(h, c.now))
        findings["acknowledged writes lost"] = len(c.lost_writes())
        findings["diverged after healing"] = int(any("pending" not in v for v in diverged))
    return bad


def check_leaders_hold_acknowledged_writes(cluster: Cluster) -> list[str]:
    """Every leader, the moment it was appointed, held every write acknowledged before (and the current
    leader holds every acknowledged write now): Raft's leader completeness, for writes a majority held."""
    h = cluster.history
    bad = []
    for when, who in [*h.leaders[1:], (cluster.now, cluster.leader)]:
        for op in lost_writes(h, when, who):
            bad.append(f"{who} led from t={when:.6g} without the acknowledged write {op!r}")
    return bad


def _settle(c: Cluster, settle: float, every_node: bool) -> list[str]:
    """Let ``settle`` seconds pass and check convergence; followers that apply slowly (stages) get
    the time to apply the whole log once more, plus two retry intervals, before it counts."""
    c.advance(settle)
    bad = check_converged(c, every_node=every_node)
    nodes = c.nodes.values()
    extra = max(n.apply_time for n in nodes) * c.node(c.leader).lsn + 2 * max(n.retry_interval for n in nodes)
    while bad and extra > 0:
        step = min(extra, 0.5)
        c.advance(step)
        extra -= step
        bad = check_converged(c, every_node=every_node)
    return bad


@dataclass
class Result:
    """One schedule run: its cluster (for a closer look), the violations, and what the checkers found."""

    schedule: Schedule
    cluster: Cluster
    violations: list[str]
    findings: dict[str, int] = field(default_factory=dict)


def run(schedule: Schedule) -> Result:
    """Run a schedule and check its history."""
    c = schedule.cluster()
    commits = CommitWatch(c) if schedule.commit else None
    watch = AckWatch(c)
    writers = schedule.clients(c)
    for a in schedule.actions:
        c.run(until=a.time)
        attempt(getattr(c, a.name), *a.args, **dict(a.kwargs))
    c.run(until=schedule.config.duration)
    for w in writers:
        w.stop()
    config = schedule.config
    found: dict[str, int] = {}
    bad = settle_and_check(c, config.mode, config.settle, watch, config.design, found)
    if commits is not None:
        bad += commits.check()
    return Result(schedule, c, bad, found)


def shrink(schedule: Schedule, fails: Callable[[Schedule], bool] | None = None) -> Schedule:
    """Delete actions one at a time while the schedule still fails: a shorter replay of the same bug."""
    fails = fails or (lambda s: bool(run(s).violations))
    current = schedule
    changed = True
    while changed:
        changed = False
        for i in range(len(current.actions)):
            smaller = replace(current, actions=current.actions[:i] + current.actions[i + 1 :])
            if fails(smaller):
                current, changed = smaller, True
                break
    return current


@dataclass
class Failure:
    """A failing seed, what its checks found, and a minimal replay."""

    seed: int
    violations: list[str]
    replay: str

    def __str__(self) -> str:
        found = "\n".join(f"  - {v}" for v in self.violations[:5])
        return f"seed {self.seed} failed:\n{found}\nminimal replay:\n{self.replay}"


@dataclass
class Report:
    """What ``explore`` found over many seeds."""

    config: Config
    schedules: int = 0
    failures: list[Failure] = field(default_factory=list)
    acknowledged: int = 0  # writes acknowledged, over all schedules
    lost: int = 0  # of those, missing from the final leader's log
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FINDINGS, 0))  # schedules with each
    miscounted: list[int] = field(default_factory=list)  # seeds whose lost writes two counts disagree on

    def __str__(self) -> str:
        head = (
            f"{self.schedules} schedules ({self.config.design}, {self.config.mode}, "
            f"loss {self.config.loss:g}): "
            f"{len(self.failures)} failed; {self.acknowledged} writes acknowledged, {self.lost} of them lost"
        )
        return "\n\n".join([head, *map(str, self.failures[:3])])

    def add(self, other: Report) -> None:
        """Add another report's counts to this one (the same config, other seeds)."""
        self.schedules += other.schedules
        self.failures += other.failures
        self.acknowledged += other.acknowledged
        self.lost += other.lost
        for k, v in other.found.items():
            self.found[k] += v
        self.miscounted += other.miscounted


def explore(
    config: Config, seeds: Iterable[int], shrink_failures: bool = True, max_failures: int = 3
) -> Report:
    """Run the schedule of each seed and check it; shrink the first few failures to minimal replays."""
    report = Report(config)
    for seed in seeds:
        result = run(generate(seed, config))
        report.schedules += 1
        acked = result.cluster.history.writes("ok")
        report.acknowledged += len(acked)
        lost = result.cluster.lost_writes()
        report.lost += len(lost)
        if lost != lost_by_clients(result.cluster):
            report.miscounted.append(seed)
        for k, v in result.findings.items():
            report.found[k] += v > 0
        if result.violations:
            schedule = result.schedule
            if shrink_failures and len(report.failures) < max_failures:
                schedule = shrink(schedule)
            report.failures.append(Failure(seed, result.violations, schedule.replay()))
    return report


# --- the learner runs the disasters: many schedules against each design -----------------
QUICK = {"nodes": 3, "duration": 5.0, "settle": 1.5, "rate": 10.0}
"""Short schedules on 3 nodes (5 s of faults, 10 writes a second), for a table in a lesson."""


def _explore_part(args: tuple[Config, int, int]) -> Report:
    config, start, stop = args
    return explore(config, range(start, stop), shrink_failures=False)


def compare(
    designs: Iterable[str] = ("naive", "fencing", "quorum"),
    schedules: int = 1000,
    workers: int | None = None,
    **config: Any,
) -> dict[str, Report]:
    """Run seeds ``0 .. schedules-1`` against each design (``QUICK`` schedules unless ``config`` says
    otherwise) on ``workers`` processes (default: one per CPU, at most 4); one report per design."""
    if isinstance(schedules, bool) or not isinstance(schedules, int) or schedules < 1:
        raise ConfigError(f"schedules must be a whole number >= 1, got {schedules!r}")
    configs = {d: Config(**{**QUICK, **config, "design": d}) for d in designs}
    if workers is None:
        import os

        workers = max(1, min(os.cpu_count() or 1, 4))
    step = -(-schedules // (2 * workers))
    parts = [
        (cfg, s, min(s + step, schedules)) for cfg in configs.values() for s in range(0, schedules, step)
    ]
    if workers == 1:
        done = [_explore_part(p) for p in parts]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a fresh interpreter per worker, safe inside a notebook's threaded kernel
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = list(pool.map(_explore_part, parts))
    out = {d: Report(cfg) for d, cfg in configs.items()}
    for (cfg, _, _), part in zip(parts, done):
        out[cfg.design].add(part)
    return out


def table(reports: dict[str, Report]) -> str:
    """What the checkers found per design, as a text table: schedules with each finding, writes lost."""
    head = ["design", "schedules", *FINDINGS[:2], "lost writes (schedules)", FINDINGS[3], "broken"]
    rows = [head]
    for design, r in reports.items():
        lost = f"{r.lost} ({r.found['acknowledged writes lost']})"
        found = [str(r.found[k]) for k in FINDINGS]
        rows.append([design, str(r.schedules), found[0], found[1], lost, found[3], str(len(r.failures))])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in rows
    )
