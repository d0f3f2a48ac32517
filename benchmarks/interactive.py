"""Interactive benchmark: how long one click on a lesson's control panel takes, redraw included.

The setup is lesson 1's panel: ``Cluster(leader="Anchor", followers=["Channel A",
"Channel B", "Channel C"], delay=0.05, seed=1)`` with a steady writer
(``start_writes(rate=5, keys=["headline"])``), shown in
``ControlPanel(cluster)`` with the default actions (write, crash, recover,
advance) and plots (the live cluster view and the lag plot). Before timing, 60 s of
virtual time pass (300 writes in the history, as after a minute of exploring).

One run times these five steps, in this order, each as a button click (or a
call) from Python, exactly as a learner's click runs it in the kernel:

1. ``write``: click Write (``headline = Thursday`` on the leader);
2. ``crash``: click Crash with the node dropdown on "Channel B";
3. ``advance``: click Advance with the seconds slider at 10;
4. ``recover``: click Recover ("Channel B" restarts, 50 entries behind);
5. ``redraw``: ``panel.refresh()`` with nothing changed.

Each step includes the simulator's work, the status line, the message line, the
live view's data (what is new since the last step, built from the record) and the
lag plot (PNG encoding, ``Image.value``); it excludes the browser, which draws the
view and receives the PNG over the kernel's websocket (the browser test times that).
The bytes of view data each step sends are printed too (the panel's view only sends
what is new: the target is under 20 kB a click). Each run builds a
fresh cluster and panel, so every run does exactly the same work; one untimed
run first warms up fonts and caches. Timing: wall clock (``time.perf_counter``)
around each step; ``--repeats`` runs (default 30). The script checks that every
step succeeded (no error in the panel) and prints, for each step and for all
steps together, the median and the 95th percentile in milliseconds. The last
line is exactly ``interactive median: X ms, p95: Y ms``.

Target (benchmarks/README.md): median under 100 ms. No timed assertions.
Other busy processes on the machine show up directly in these timings; the
median of the process's CPU time per step is printed too, to tell the two apart.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from replsim import Cluster
from replsim.ui import ControlPanel

STEPS = ("write", "crash", "advance", "recover", "redraw")


def _lesson_one_panel() -> ControlPanel:
    cluster = Cluster(leader="Anchor", followers=["Channel A", "Channel B", "Channel C"], delay=0.05, seed=1)
    cluster.start_writes(rate=5, keys=["headline"])
    cluster.advance(60.0)
    panel = ControlPanel(cluster)
    panel.inputs["write_key"].value = "headline"
    panel.inputs["write_value"].value = "Thursday"
    panel.inputs["node"].value = "Channel B"
    panel.inputs["seconds"].value = 10.0
    return panel


def _one_run() -> dict[str, tuple[float, float, int]]:
    """Build a fresh panel and time each step: {step: (wall seconds, cpu seconds, view bytes sent)}."""
    panel = _lesson_one_panel()
    actions = {
        "write": panel.buttons["write"].click,
        "crash": panel.buttons["crash"].click,
        "advance": panel.buttons["advance"].click,
        "recover": panel.buttons["recover"].click,
        "redraw": panel.refresh,
    }
    out = {}
    for step in STEPS:
        w0, c0 = time.perf_counter(), time.process_time()
        sent = panel.view.bytes_sent
        actions[step]()
        out[step] = (time.perf_counter() - w0, time.process_time() - c0, panel.view.bytes_sent - sent)
        if panel.last_error is not None:
            sys.exit(f"step {step!r} failed: {panel.last_error}")
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table of median and p95 milliseconds per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs (default 30)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    _one_run()  # warm-up: fonts, caches, imports
    wall: dict[str, list[float]] = {s: [] for s in STEPS}
    cpu: dict[str, list[float]] = {s: [] for s in STEPS}
    sent: dict[str, int] = {}
    for _ in range(args.repeats):
        for step, (w, c, b) in _one_run().items():
            wall[step].append(w * 1000)
            cpu[step].append(c * 1000)
            sent[step] = b  # the same in every run (deterministic)

    print(f"lesson-1 control panel, {args.repeats} runs; milliseconds per step (wall clock)")
    print(f"{'step':<10}{'median':>9}{'p95':>9}{'cpu median':>12}{'view kB':>9}")
    for step in STEPS:
        w = np.array(wall[step])
        print(
            f"{step:<10}{np.median(w):9.1f}{np.percentile(w, 95):9.1f}{np.median(cpu[step]):12.1f}"
            f"{sent[step] / 1000:9.1f}"
        )
    every = np.concatenate([wall[s] for s in STEPS])
    every_cpu = np.concatenate([cpu[s] for s in STEPS])
    print(f"{'all':<10}{np.median(every):9.1f}{np.percentile(every, 95):9.1f}{np.median(every_cpu):12.1f}")
    print(f"interactive median: {np.median(every):.1f} ms, p95: {np.percentile(every, 95):.1f} ms")


if __name__ == "__main__":
    main()
