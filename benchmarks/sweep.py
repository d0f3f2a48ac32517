"""Lesson 7's sweep: how long the cell that runs every commit mode over 100 seeded failovers takes.

What is timed: ``replsim.sweep.commit_sweep(seeds=range(100))`` exactly as lesson 7 calls it (6 modes
x 100 failovers, each a primary and three standbys with a client writing about 200 times a second for
0.5-1.5 s), then its summary, wall clock (``time.perf_counter``), best of ``--repeat`` runs after a
``gc.collect()``. Target (benchmarks/README.md): under 10 s on the 2-core development machine, so that
the lesson can be rerun in class. The results must be the same in every run (they are seeded).
The last line printed is exactly ``sweep seconds: X``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

from replsim.course.sweep import commit_sweep, summary, table


def main(argv: list[str] | None = None) -> None:
    """Time the sweep and print its table and its time."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=100, help="failovers per mode (default 100, as the lesson)")
    p.add_argument("--repeat", type=int, default=2, help="timed runs; the best counts (default 2)")
    a = p.parse_args(argv)
    if a.seeds < 1 or a.repeat < 1:
        p.error("--seeds and --repeat must be >= 1")
    times, tables = [], set()
    for _ in range(a.repeat):
        gc.collect()
        t0 = time.perf_counter()
        runs = commit_sweep(seeds=range(a.seeds))
        text = table(summary(runs))
        times.append(time.perf_counter() - t0)
        tables.add(text)
    if len(tables) != 1:
        sys.exit("the sweep is not deterministic: two runs gave different tables")
    print(text)
    print(f"{len(runs)} failovers; runs: {', '.join(f'{t:.2f} s' for t in times)}; the same table each time")
    print(f"sweep seconds: {min(times):.2f}")


if __name__ == "__main__":
    main()
