"""The judge: a learner's rule against a thousand seeded disasters, the first failure shrunk and told.

Workers: the schedules are shared among ``workers`` processes made with the ``"fork"``
start method, where the platform offers it (Linux): a forked worker inherits the
learner's function, even one defined in a notebook cell, which ``"spawn"`` (macOS's and
Windows' default) could not pickle. Where fork is missing, or on macOS where forking a
process with threads is unsafe, the judge runs every schedule in its own process.
The verdict is the same whatever the number of workers: results are taken in seed
order and the first failure is the lowest failing seed.

Untrusted rules: every call goes through :class:`~replsim.judge.guard.Guard`. The
first schedule in which the rule raises, answers nonsense or runs past its budget
stops the judge, which reports the error with the learner's line and the seed. A
worker that stops answering altogether (``stuck`` seconds) is killed and reported
the same way. The judge always ends. The budget is wall-clock time, so it is generous
(1 s a call by default): a busy machine must not make a correct rule look slow.
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..cluster import Cluster
from ..dst.run import shrink
from ..engine.sim import check_time
from ..errors import ConfigError
from .guard import Guard, RuleError
from .rules import TRIALS, Outcome

_JOB: tuple[str, Callable[..., Any], float] | None = None
"""(trial, rule, budget) of the judge running now: forked workers inherit it."""


def _one(seed: int) -> tuple[int, dict[str, int], dict[str, float], tuple[str, str] | None]:
    """Run one seed's schedule under the rule: (seed, violations found, costs, error)."""
    assert _JOB is not None
    key, rule, budget = _JOB
    trial = TRIALS[key]
    try:
        out = trial.run(trial.schedule(seed), Guard(rule, budget))
    except RuleError as exc:
        return seed, {}, {}, (exc.message, exc.line)
    except Exception as exc:  # never the kernel's problem: the seed names it
        return seed, {}, {}, (f"the simulation failed with your rule: {type(exc).__name__}: {exc}", "")
    return seed, out.found, out.costs, None


def can_fork() -> bool:
    """Whether worker processes can be forked here (see the module's docstring)."""
    return "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"


def _count(n: int, kind: str) -> str:
    """``2 read-your-writes violations``, ``1 monotonic-reads violation``, ``27 acknowledged writes lost``."""
    return f"{n} {kind}s" if n != 1 and kind.endswith("violation") else f"{n} {kind}"


@dataclass
class Verdict:
    """What the judge found: counts by kind (schedules with each), costs, the first failure retold."""

    rule: str
    trial: str
    schedules: int = 0
    violations: dict[str, int] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    failing: list[int] = field(default_factory=list)  # failing seeds, in order
    error: str = ""  # the rule's error, with its line and seed ("" if none)
    error_seed: int | None = None
    story: list[str] = field(default_factory=list)  # the first failure, shrunk, as numbered lines
    replay: Cluster | None = None  # the first failure's shrunk run, for a timeline
    window: tuple[float, float] = (0.0, 1.0)  # where its timeline is worth looking
    kinds: tuple[str, ...] = ()  # the message kinds its timeline shows

    @property
    def first(self) -> int | None:
        """The lowest failing seed (None: none failed)."""
        return self.failing[0] if self.failing else None

    @property
    def passed(self) -> bool:
        return not self.failing and not self.error

    def summary(self) -> str:
        """How many ran, the violations by kind, costs."""
        lines = [f"{self.schedules} schedules judged your {self.trial} {self.rule}:"]
        for kind, n in self.violations.items():
            lines.append(f"  {kind:<30} {n:>5} schedules")
        reads = self.costs.get("reads")
        if reads:
            stale = self.costs["stale reads"]
            lines.append(f"  (stale reads, allowed: {stale:.0f} of {reads:.0f} reads)")
            lines.append(f"  mean read latency: {self.costs['read latency ms'] / reads:.1f} ms")
        if self.error:
            lines.append(f"stopped at seed {self.error_seed}: {self.error}")
        elif self.passed:
            lines.append("no violation: it passes.")
        else:
            lines.append(f"{len(self.failing)} schedules failed; the first is seed {self.first}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        if not self.story:
            return self.summary()
        told = "\n".join(self.story)
        return f"{self.summary()}\n\nSeed {self.first}, shrunk to its shortest schedule:\n{told}"

    def __repr__(self) -> str:
        return f"Verdict({self.trial}, {self.schedules} schedules, {len(self.failing)} failed)"


def _words(action: Any) -> str:
    """A schedule's action in words."""
    args = action.args
    if action.name == "partition":
        return "the network splits: " + " | ".join(", ".join(g) for g in args)
    if action.name == "cut":
        return f"messages from {args[0]} to {args[1]} stop"
    if action.name == "heal":
        return "the network heals"
    if action.name == "set_link":
        return f"the link {args[0]}-{args[1]} loses {dict(action.kwargs).get('loss', 0):.0%} of messages"
    if action.name == "start_writes":
        return "a burst of writes starts"
    return f"{action.name} {' '.join(map(str, args))}"


def tell(schedule: Any, out: Outcome, kinds: Iterable[str]) -> list[str]:
    """The shrunk failure as numbered lines: the faults, the rule's decisions, and what was found."""
    steps = [(a.time, _words(a)) for a in schedule.actions] + list(out.decisions)
    steps.sort(key=lambda s: s[0])
    found = [_count(out.found[k], k) for k in kinds if out.found.get(k)]
    lines = [f"{i:>2}. t={t:.3f} s: {what}" for i, (t, what) in enumerate(steps, 1)]
    lines.append(f"{len(lines) + 1:>2}. found: {'; '.join(found)}")
    return lines


def judge(
    rule: Callable[..., Any],
    trial: str,
    schedules: int = 1000,
    *,
    workers: int = 2,
    budget: float = 1.0,
    progress: bool = True,
    show: bool = True,
    stuck: float = 60.0,
) -> Verdict:
    """Judge ``rule`` (a read policy, promotion or vote rule: ``trial`` is ``"read"``, ``"promotion"``
    or ``"vote"``; see ``replsim.judge.rules`` for what each is given) on seeds ``0..schedules-1``.

    ``workers``: processes (1: this one; see the module's docstring); ``budget``: seconds a call
    may take; ``progress``: a line counting the schedules as they run; ``show``: print the verdict.
    Returns a :class:`Verdict`.
    """
    global _JOB
    if trial not in TRIALS:
        raise ConfigError(f"trial must be one of {', '.join(TRIALS)}, got {trial!r}")
    if not callable(rule):
        raise ConfigError(f"the rule must be a function (def my_rule(...): ...), got {rule!r}")
    for name, value, low in (("schedules", schedules, 1), ("workers", workers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}")
    check_time("budget", budget, positive=True)
    check_time("stuck", stuck, positive=True)
    t = TRIALS[trial]
    verdict = Verdict(getattr(rule, "__name__", repr(rule)), t.name, violations=dict.fromkeys(t.kinds, 0))
    _JOB = (trial, rule, budget)
    seeds = range(schedules)
    step = max(1, schedules // 10)
    pool = None
    if progress:  # a heading first: a folded output shows its first line, never a result
        print(f"Judging {verdict.rule}, your {t.name}, in {schedules:,} seeded fault schedules:")
    try:
        if workers > 1 and can_fork() and schedules > 1:
            gc.freeze()  # the workers share the parent's objects: no collection copies them page by page
            pool = multiprocessing.get_context("fork").Pool(workers)
            gc.unfreeze()
            size = max(1, min(25, schedules // (4 * workers)))
            chunks = [seeds[i : i + size] for i in range(0, schedules, size)]
            it = pool.imap(_many, chunks)
            results: Any = (r for chunk in chunks for r in _next(it, stuck, chunk))
        else:
            results = map(_one, seeds)
        for seed, found, costs, error in results:
            if error is not None:
                verdict.error = error[0] + (f", at {error[1]}" if error[1] else "")
                verdict.error_seed = seed
                break
            verdict.schedules += 1
            for k, v in found.items():
                verdict.violations[k] += v > 0
            for k, v in costs.items():
                verdict.costs[k] = verdict.costs.get(k, 0.0) + v
            if any(found.values()):
                verdict.failing.append(seed)
            if progress and (verdict.schedules % step == 0 or verdict.schedules == schedules):
                print(f"\r  {verdict.schedules:,} of {schedules:,} run", end="", flush=True)
    finally:
        _JOB = None
        if pool is not None:
            pool.terminate()
            pool.join()
        if progress:
            print(flush=True)
    if verdict.first is not None:
        _retell(verdict, rule, trial, budget)
    if show:
        print(verdict)
    return verdict


def _many(seeds: range) -> list[tuple[int, dict[str, int], dict[str, float], tuple[str, str] | None]]:
    """Run a chunk of seeds in a worker, stopping at the first error."""
    out = []
    for seed in seeds:
        out.append(_one(seed))
        if out[-1][3] is not None:
            break
    return out


def _next(it: Any, stuck: float, chunk: range) -> list[tuple[int, dict, dict, tuple[str, str] | None]]:
    """The workers' next chunk of results, or an error naming its seeds if none comes within ``stuck`` s."""
    try:
        return it.next(timeout=stuck)
    except multiprocessing.TimeoutError:
        what = f"a worker ran schedules {chunk[0]}-{chunk[-1]} for over {stuck:g} s without an answer"
        return [(chunk[0], {}, {}, (what, ""))]


def _retell(verdict: Verdict, rule: Callable[..., Any], trial: str, budget: float) -> None:
    """Shrink the first failure and replay it, keeping its messages, for the story and the timeline."""
    t = TRIALS[trial]

    def fails(s: Any) -> bool:
        try:
            return any(t.run(s, Guard(rule, budget)).found.values())
        except RuleError:
            return False

    small = shrink(t.schedule(verdict.first), fails)
    out = t.run(small, Guard(rule, budget), 10_000)
    verdict.story = tell(small, out, t.kinds)
    verdict.replay = out.cluster
    times = [a.time for a in small.actions] + [d[0] for d in out.decisions]
    verdict.window = (max(0.0, min(times, default=0.0) - 0.05), max(times, default=1.0) + 0.3)
    verdict.kinds = t.view


__all__ = ["judge", "Verdict", "tell", "can_fork"]
