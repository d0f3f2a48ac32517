"""The learner runs the disasters: many seeded schedules against each failover design, as a table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import ConfigError
from .run import FINDINGS, Report, explore
from .schedule import Config

QUICK = {
    "nodes": 3,
    "duration": 5.0,
    "settle": 1.5,
    "rate": 10.0,
    "clients": False,
    "stages": False,
    "idle": False,
}
"""Short schedules on 3 nodes (5 s of faults, 10 writes a second, without the extra faults of
``replsim.dst.schedule``), for a table in a lesson."""


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
