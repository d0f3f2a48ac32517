"""The three decisions a learner's rule can take over, what the rule sees, and how a run of it is judged.

What a rule sees is a snapshot: named tuples of plain values, never a live node or
cluster, so nothing it does changes the simulation except its answer.

- **read policy** ``rule(session: Session, nodes: tuple[NodeInfo, ...])``: returns the
  name of the node to read from, or ``(name, position)`` for a node that must first
  hold that log position. Judged on the session anomalies of
  ``replsim.history.anomalies`` (stale reads are counted, not failed: any replica
  read may be stale) and the read latency paid.
- **promotion rule** ``rule(followers: tuple[Follower, ...], nodes: int)``: the
  followers the failover monitor heard from in the last second (in the order they first
  answered; each with how long ago it answered) and how many nodes the cluster has;
  returns None (promote nobody now), a name (promote it, without fencing), or
  ``(name, fence)``, where ``fence=True`` fences the old leader (it steps down when it
  hears of the newer epoch). Judged on acknowledged writes lost and on split
  brain (two nodes still leading once the network has healed for a while).
- **vote rule** ``rule(candidate: Candidate, me: Voter) -> bool``: grant the vote or
  not. Judged on two leaders in one term and on committed (majority-acknowledged)
  writes lost.

Each trial makes its schedule from a seed alone: the read trial its own small one (a
leader, followers at random distances, two sessions, follower cuts, crashes and slow
applies); the promotion and vote trials a small ``replsim.dst`` schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from ..clients.policies import ReadPolicy
from ..cluster import Cluster
from ..course.sessions import Sessions, read_stats
from ..dst.run import attempt, check_leaders_hold_acknowledged_writes, run
from ..dst.schedule import Action, Config, generate
from ..history.anomalies import MONOTONIC, PREFIX, RYW, STALE, find_anomalies
from ..history.checks import leaders_at_once, leaders_by_term
from ..history.record import OK
from .guard import Guard

LOST = "acknowledged writes lost"
SPLIT = "split brain"
TWO = "two leaders in one term"
COMMITTED = "committed writes lost"


class Session(NamedTuple):
    """The reading client: its name, the log position of its latest acknowledged write (0: none), and
    the highest position it has seen (its writes and its reads)."""

    name: str
    last_write: int
    last_seen: int


class NodeInfo(NamedTuple):
    """A node as the reader knows it: name, role, whether it is up, the log position it has applied,
    and its one-way delay from the client in seconds."""

    name: str
    role: str
    up: bool
    position: int
    delay: float


class Follower(NamedTuple):
    """A follower the failover monitor heard from: its name, log position, the epoch of its last entry,
    the epoch it is in, and how long ago (seconds) it answered (what it said then)."""

    name: str
    position: int
    last_epoch: int
    epoch: int
    age: float


class Candidate(NamedTuple):
    """A node asking for a vote: its name, the term it stands in, its last log position and that
    entry's epoch."""

    name: str
    term: int
    last_position: int
    last_epoch: int


class Voter(NamedTuple):
    """The node asked: its term (the candidate's), its role, whom it voted for in this term (None:
    nobody yet), and its own last log position and that entry's epoch."""

    term: int
    role: str
    voted_for: str | None
    last_position: int
    last_epoch: int


class Outcome(NamedTuple):
    """One judged run: violations found by kind, costs, the cluster, and the rule's decisions."""

    found: dict[str, int]
    costs: dict[str, float]
    cluster: Cluster
    decisions: list[tuple[float, str]]


# --- reads ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadSchedule:
    """A read trial's schedule: followers' delays from the leader, the sessions' places, the faults."""

    seed: int
    delays: tuple[float, ...]  # one-way delay leader -> each follower
    clients: tuple[tuple[str, float], ...]  # (the node a client stands beside, its delay to the others)
    stages: tuple[tuple[str, float], ...]  # (follower, apply time)
    actions: tuple[Action, ...] = ()
    until: float = 3.0


class RuleReads(ReadPolicy):
    """A read policy that asks a learner's rule."""

    name = "your read policy"

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def choose(self, client: Any) -> tuple[str, int]:
        c = client.cluster
        seen = [o.lsn for o in client.ops if o.outcome == OK and o.lsn]
        writes = [o.lsn for o in client.ops if o.kind == "write" and o.outcome == OK and o.lsn]
        session = Session(client.name, max(writes, default=0), max(seen, default=0))
        net = c.network
        nodes = tuple(
            NodeInfo(n, c.node(n).role, c.node(n).up, c.node(n).lsn, net.link(client.name, n).delay)
            for n in c.names
        )
        answer = self.guard(session, nodes)
        node, after = answer if isinstance(answer, tuple) and len(answer) == 2 else (answer, 0)
        if not isinstance(node, str) or node not in c.names:
            raise self.guard.wrong(answer, f"a node's name ({', '.join(c.names)}) or (name, position)")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise self.guard.wrong(answer, "the position to wait for must be a whole number >= 0")
        return node, after


def read_schedule(seed: int) -> ReadSchedule:
    """The read trial's schedule of ``seed``: made from the seed alone."""
    rng = random.Random(f"replsim-judge-reads:{seed}")
    n = rng.randint(3, 4)
    delays = tuple(rng.choice([0.002, 0.01, 0.04, 0.08]) for _ in range(n - 1))
    names = [f"n{i}" for i in range(1, n + 1)]
    clients = tuple((rng.choice(names[1:]), rng.choice([0.02, 0.05])) for _ in range(2))
    stages = tuple((f, rng.choice([0.002, 0.01])) for f in names[1:] if rng.random() < 0.3)
    actions = []
    for _ in range(rng.randint(2, 6)):
        t = round(rng.uniform(0.1, 2.5), 3)
        follower = rng.choice(names[1:])
        kind = rng.choice(["cut", "cut", "crash", "recover", "heal"])
        args = ("n1", follower) if kind == "cut" else () if kind == "heal" else (follower,)
        actions.append(Action(t, kind, args))
    actions.sort(key=lambda a: a.time)
    return ReadSchedule(seed, delays, clients, stages, tuple(actions))


def run_reads(s: ReadSchedule, guard: Guard, keep_messages: int = 0) -> Outcome:
    """Two sessions read and write under the rule while the faults happen; their anomalies."""
    names = [f"n{i}" for i in range(1, len(s.delays) + 2)]
    c = Cluster(leader="n1", followers=names[1:], heartbeat=0.1, seed=s.seed, keep_messages=keep_messages)
    for f, d in zip(names[1:], s.delays):
        c.set_link("n1", f, delay=d)
    for f, apply in s.stages:
        c.set_stages(f, apply=apply)
    clients = []
    for i, (near, far) in enumerate(s.clients):
        delays = {n: (0.0005 if n == near else far) for n in names}
        clients.append(c.client(f"app{i + 1}", delays=delays, timeout=1.0))
    sessions = Sessions(clients, RuleReads(guard), keys=("x", "y"), writes=0.3, think=0.05, until=s.until)
    for a in s.actions:
        c.run(until=a.time)
        attempt(getattr(c, a.name), *a.args)
    c.run(until=s.until + 1.0)
    ops = sessions.ops
    anomalies = find_anomalies(ops)
    found = {k: sum(a.kind == k for a in anomalies) for k in (RYW, MONOTONIC, PREFIX)}
    stats = read_stats(ops, c.leader)
    costs = {
        "reads": float(stats["reads"]),
        "stale reads": float(sum(a.kind == STALE for a in anomalies)),
        "read latency ms": stats["mean ms"] * stats["reads"],
    }
    decisions = [(a.ops[-1].invoke, str(a)) for a in anomalies if a.kind != STALE][:5]
    return Outcome(found, costs, c, decisions)


# --- promotions and votes -----------------------------------------------------------------------------

SMALL = {"clients": False, "stages": False, "idle": False, "duration": 4.0, "actions": 8, "rate": 10.0}
"""The judge's own schedules: shorter than the fault suite's, with fewer writes, so that a thousand
of them run in seconds."""

PROMOTE_CONFIG = Config(design="fencing", mode="majority", **SMALL)
VOTE_CONFIG = Config(design="quorum", **SMALL)
CRASHES = ("crash", "recover", "partition", "heal")  # promotion trials: whole nodes fail, or split cleanly


def promote_schedule(seed: int) -> Any:
    """The promotion trial's schedule: three to six nodes, a majority must hold each acknowledged write;
    crashes, recoveries and partitions (no one-way cuts: the monitor's view of who is reachable holds)."""
    s = generate(seed, PROMOTE_CONFIG)
    return replace(s, actions=tuple(a for a in s.actions if a.name in CRASHES))


def vote_schedule(seed: int) -> Any:
    """The vote trial's schedule: majority elections under every kind of fault."""
    return generate(seed, VOTE_CONFIG)


def _promotion(guard: Guard, c: Cluster, decisions: list) -> Any:
    """The monitor's promotion rule (``FailoverMonitor(promotion=...)``), asking the learner's rule."""
    monitor = c.failover

    def promotion(choices: dict, names: list[str]) -> str | None:
        now = c.now
        followers = tuple(
            Follower(n, s.lsn, s.last_epoch, s.epoch, round(now - s.time, 6)) for n, s in choices.items()
        )
        answer = guard(followers, len(names))
        if answer is None:
            return None
        name, fence = answer if isinstance(answer, tuple) and len(answer) == 2 else (answer, False)
        if not isinstance(name, str) or name not in choices:
            raise guard.wrong(answer, f"None, or the name of a follower it was shown ({', '.join(choices)})")
        if not isinstance(fence, bool):
            raise guard.wrong(answer, "fence must be True or False")
        monitor.fencing = fence or monitor.fencing
        for node in c.nodes.values():
            node.fencing = monitor.fencing
        how = "and fences the old leader" if fence else "without fencing the old leader"
        seen = ", ".join(f"{f.name} at {f.position}, {f.age:.2f} s ago" for f in followers)
        decisions.append((c.now, f"your rule promotes {name} {how} (it was shown: {seen})"))
        return name

    return promotion


def run_promotion(s: Any, guard: Guard, keep_messages: int = 0) -> Outcome:
    """A failover monitor promotes with the rule; writes lost, and two leaders after healing."""
    decisions: list[tuple[float, str]] = []

    def setup(c: Cluster) -> None:
        c.failover.promotion = _promotion(guard, c, decisions)
        c.failover.fencing = False
        for node in c.nodes.values():
            node.fencing = False

    result = run(s, setup, keep_messages)
    c = result.cluster
    healed = s.config.duration + s.config.settle  # the network healed a while ago: one leader by now
    split = [w for w in leaders_at_once(c.history, c.now) if w[0] <= healed < w[1]]
    found = {LOST: len(c.lost_writes()), SPLIT: len(split)}
    return Outcome(found, {}, c, decisions)


def _vote(guard: Guard) -> Any:
    """The electors' vote rule (``grant_vote``'s signature), asking the learner's rule."""

    def vote(
        candidate: str, term: int, last_lsn: int, last_epoch: int, *, role: str, voted: Any, log: Any
    ) -> bool:
        mine = voted[1] if voted is not None and voted[0] == term else None
        answer = guard(Candidate(candidate, term, last_lsn, last_epoch), Voter(term, role, mine, *log))
        if not isinstance(answer, bool):
            raise guard.wrong(answer, "a vote is True (granted) or False")
        return answer

    return vote


def run_vote(s: Any, guard: Guard, keep_messages: int = 0) -> Outcome:
    """Majority elections with the rule deciding every vote; two leaders in a term, committed writes lost."""

    def setup(c: Cluster) -> None:
        c.failover.vote = _vote(guard)

    result = run(s, setup, keep_messages)
    c = result.cluster
    twice = {t: who for t, who in leaders_by_term(c.history, c.now).items() if len(who) > 1}
    found = {TWO: len(twice), COMMITTED: len(check_leaders_hold_acknowledged_writes(c))}
    decisions = [
        (r.won, f"{r.candidate} wins term {r.term} with the votes of {', '.join(r.votes)}")
        for r in c.failover.rounds
        if r.won is not None
    ]
    return Outcome(found, {}, c, decisions)


@dataclass(frozen=True)
class Trial:
    """One decision to judge: its name, the violations it counts, its schedules, and how a run goes."""

    name: str
    kinds: tuple[str, ...]
    schedule: Any  # seed -> schedule
    run: Any  # (schedule, guard, keep_messages) -> Outcome
    view: tuple[str, ...]  # the message kinds its timeline shows


TRIALS = {
    "read": Trial(
        "read policy",
        (RYW, MONOTONIC, PREFIX),
        read_schedule,
        run_reads,
        ("client request", "client response", "append"),
    ),
    "promotion": Trial(
        "promotion rule", (LOST, SPLIT), promote_schedule, run_promotion, ("ping", "append", "ack")
    ),
    "vote": Trial(
        "vote rule",
        (TWO, COMMITTED),
        vote_schedule,
        run_vote,
        ("vote request", "vote", "append", "heartbeat"),
    ),
}
"""The trials by the decision they judge."""

__all__ = [
    "Session",
    "NodeInfo",
    "Follower",
    "Candidate",
    "Voter",
    "Outcome",
    "Trial",
    "TRIALS",
    "LOST",
    "SPLIT",
    "TWO",
    "COMMITTED",
]
