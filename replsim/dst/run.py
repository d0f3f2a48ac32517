"""Running a fault schedule, checking what each mode promises, shrinking a failure to a short replay.

Checked on every schedule (``settle_and_check``):

- at the moment a write waiting for k replicas is acknowledged, its leader and at
  least k other nodes hold that exact entry; an outcome never changes once settled;
- log matching: two logs holding the same (epoch, LSN) agree on everything before it;
- the record is in time order;
- converged: after the faults stop and the network heals, every up node the
  leader streams to holds the leader's log and data (with heartbeats: followers
  ask again for what they lost only when they hear from the leader); then, after
  an operator rejoins every node, all of them do, and no operation is left pending;
- fully synchronous replication (``mode="all"``): no acknowledged write is lost;
- the commit policies of ``replsim.node.commit`` (modes ``semi``, ``first``, ``any``):
  each acknowledged write had the confirmations its policy asks for, from standbys
  that do hold it, and a write is lost only to the promotion of a node that had not
  confirmed it (``AckWatch``, which checks every policy, ``sync_replicas`` included);
- majority elections (design ``"quorum"``): never two leaders in one term, no write
  acknowledged by a majority ever lost (at every election and at the end), and
  convergence without an operator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..cluster import Cluster
from ..errors import ReplsimError
from ..history.checks import (
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
from ..history.measures import lost_writes
from ..log import epoch_at
from .schedule import Config, Schedule, generate

FINDINGS = (
    "two leaders in one term",
    "two leaders at once",
    "acknowledged writes lost",
    "diverged after healing",
)
"""What the checkers look for in every run, whatever the design (``Result.findings``)."""


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
    bad = _settle(c, settle, every_node=False)
    bad = [v for v in bad if "pending" not in v]  # a deposed leader nobody repointed may still hold some
    stuck = {n for n in names if c.node(n).needs_rebuild is not None or c.node(n).broken}
    bad = [f"without rejoin: {v}" for v in bad if v.split()[0] not in stuck]  # they show their trouble
    if c.heartbeat_interval is None:  # nothing tells a follower it lacks the end of the log: no promise
        bad = [v for v in bad if " holds lsn " not in v]  # but it follows the leader it was given
    diverged = check_converged(c, every_node=True)  # before any operator steps in
    if design == "quorum" and diverged:  # slow followers may hold elections up: give them their time
        diverged = _settle(c, 0.0, every_node=True)
    if design == "quorum":  # elections and majority commit: no operator needed
        bad += [f"without an operator: {v}" for v in diverged]
    else:
        for n in names:
            if n != c.leader:
                c.rejoin(n)
        c.advance(settle)
        _work_off(c)  # a slow follower learns it needs a rebuild only once it reaches the leader's answer
        bad += check_rebuilds_needed(c)
        for n in names:  # the operator rebuilds the nodes that show they need it
            if n != c.leader and (c.node(n).needs_rebuild is not None or c.node(n).broken):
                c.rebuild(n)
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


def check_rebuilds_needed(cluster: Cluster) -> list[str]:
    """A node that says it needs a rebuild really cannot catch up from the leader: the leader's log
    starts after its position, or its own log differs from the leader's at or before its base."""
    lead = cluster.node(cluster.leader)
    bad = []
    for n in cluster.names:
        node = cluster.node(n)
        if n == lead.name or node.needs_rebuild is None:
            continue
        mine, theirs = node.log, lead.log
        behind_base = node.lsn < theirs.base
        # its base holds what the leader lacks (the leader ends before it), or holds in another epoch
        differs = mine.base > 0 and (
            mine.base > theirs.last_lsn
            or epoch_at(mine.history, mine.base) != epoch_at(theirs.history, mine.base)
        )
        if not (behind_base or differs):
            bad.append(f"{n} says it needs a rebuild, but the leader {lead.name} holds all it lacks")
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


def _work_off(c: Cluster, most: float = 60.0) -> None:
    """Let time pass while a follower still works off what it has received (up to ``most`` seconds)."""
    end = c.now + most
    busy = False
    while c.now < end and any(n.applied_by > c.now for n in c.nodes.values()):
        c.advance(0.5)
        busy = True
    if busy:
        c.advance(0.5)  # and its question to the leader, and the answer


def _settle(c: Cluster, settle: float, every_node: bool) -> list[str]:
    """Let ``settle`` seconds pass and check convergence; followers that apply slowly (stages) get
    the time to work off what they have received, then to apply the whole log once more, plus two
    retry intervals, before it counts."""
    c.advance(settle)
    bad = check_converged(c, every_node=every_node)
    nodes = c.nodes.values()
    backlog = max(n.applied_by for n in nodes) - c.now
    extra = max(backlog, 0.0) + max(n.apply_time for n in nodes) * c.node(c.leader).lsn
    extra += 2 * max(n.retry_interval for n in nodes)
    cap = c.now + extra + 60.0  # a follower still working off its backlog is given more, up to this
    while bad and (extra > 0 or any(n.applied_by > c.now for n in nodes)) and c.now < cap:
        step = min(extra, 0.5) if extra > 0 else 0.5
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


def run(schedule: Schedule, setup: Callable[[Cluster], Any] | None = None, keep_messages: int = 0) -> Result:
    """Run a schedule and check its history. ``setup``, if given, is called with the fresh cluster
    before anything runs (``replsim.judge`` puts a learner's rule in place there); ``keep_messages``:
    how many messages the cluster's journal keeps (for a timeline)."""
    c = schedule.cluster(keep_messages)
    if setup is not None:
        setup(c)
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
