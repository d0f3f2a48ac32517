"""The judge: how long 1,000 seeded fault schedules take under each shipped wrong rule, with 1 and 2 workers.

What is timed: ``replsim.judge.judge(rule, trial, 1000, workers=w, progress=False, show=False)`` for the
read policy, promotion rule and vote rule of lessons 4, 5 and 6 (their shipped wrong examples, so the
time includes shrinking and replaying the first failure), wall clock (``time.perf_counter``). Target
(benchmarks/README.md): under 10 s each with two workers on the 2-core development machine. The
verdicts must be the same with 1 and 2 workers (checked). The last line printed is exactly
``judge seconds (2 workers, slowest rule): X``.
"""

from __future__ import annotations

import argparse
import time

from replsim.judge import judge


def nearest(session, nodes):
    return min(nodes, key=lambda n: n.delay).name


def first_answer(followers, nodes):
    return followers[0].name, False


def every_vote(candidate, me):
    return True


RULES = {"read": nearest, "promotion": first_answer, "vote": every_vote}


def main(argv: list[str] | None = None) -> None:
    """Time each rule's judging with 1 and 2 workers; print the seconds and the ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--schedules", type=int, default=1000, help="schedules per rule (default 1000)")
    a = p.parse_args(argv)
    slowest = 0.0
    print(f"{'rule':<10} {'1 worker s':>11} {'2 workers s':>12} {'ratio':>6}  verdict")
    for trial, rule in RULES.items():
        times, verdicts = [], []
        for w in (1, 2):
            t = time.perf_counter()
            v = judge(rule, trial, a.schedules, workers=w, progress=False, show=False)
            times.append(time.perf_counter() - t)
            verdicts.append((v.schedules, v.violations, v.failing, v.story))
        if verdicts[0] != verdicts[1]:
            raise SystemExit(f"{trial}: the verdict differs between 1 and 2 workers")
        slowest = max(slowest, times[1])
        found = ", ".join(f"{k}: {n}" for k, n in v.violations.items())
        ratio = times[0] / times[1]
        print(f"{trial:<10} {times[0]:>11.2f} {times[1]:>12.2f} {ratio:>6.2f}  {found}; first {v.first}")
    print(f"judge seconds (2 workers, slowest rule): {slowest:.2f}")


if __name__ == "__main__":
    main()
