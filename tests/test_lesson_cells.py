"""Each lesson's code, run cell by cell outside the notebook: its panels are built with the actions the
text describes, and its answers are the numbers the text quotes. (These checks used to be `assert`s in
the lessons' cells, where a learner trying a what-if would meet them.)"""

from __future__ import annotations

import pathlib

import jupytext
import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from replsim.ui import ControlPanel  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run_lesson(stem: str) -> dict:
    """Every code cell of lessons/<stem>.py, in order, in one namespace (the notebook's, minus IPython)."""
    nb = jupytext.read(ROOT / "lessons" / f"{stem}.py", fmt="py:percent")
    ns: dict = {"__name__": f"lesson_{stem}"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{stem}.py", "exec"), ns)
            plt.close("all")
    return ns


def panels(ns: dict) -> list[ControlPanel]:
    return [v for v in ns.values() if isinstance(v, ControlPanel)]


EXPECTED = {
    "00_start_here": lambda ns: ns["stale_share"] == 50,
    "01_news_anchor": lambda ns: ns["behind_before_return"] == 40,
    "02_head_chef": lambda ns: ns["leader_busy_4"] == 16,
    "03_replication_methods": lambda ns: ns["one_row"].size == 24 + 24 + 4096,
    "04_lag_and_reads": lambda ns: (
        ns["window_ms"] == 64.5
        and (ns["read_verdict"].first, len(ns["read_verdict"].failing)) == (0, 723)
        and ns["solved_reads"].passed
    ),
    "05_anchor_falls": lambda ns: (
        len(ns["lost"]) == 32
        and len(ns["lost_a"]) == 2
        and (ns["promotion_verdict"].first, len(ns["promotion_verdict"].failing)) == (15, 150)
        and ns["solved_promotion"].passed
    ),
    "06_split_brain": lambda ns: (
        len(ns["at_heal"]) == 51
        and ns["reports"]["quorum"].lost == 0
        and ns["reports"]["naive"].lost > ns["reports"]["fencing"].lost > 0
        and all(len(r.failures) == 0 for r in ns["reports"].values())
        and (ns["vote_verdict"].first, len(ns["vote_verdict"].failing)) == (1, 325)
        and ns["solved_vote"].passed
    ),
    "07_sync_vs_async": lambda ns: ns["steps"]["remote_apply"]["acknowledged"] == 41.0,
    "09_recap_quiz": lambda ns: (
        (ns["answer_1"], ns["answer_2"], ns["answer_3"], ns["answer_4"], ns["answer_5"])
        == (10, 151, 6, 29, 0)
    ),
}
ACTIONS = {
    "00_start_here": ["write", "crash", "recover", "advance"],
    "01_news_anchor": ["write", "crash", "recover", "advance"],
    "02_head_chef": ["add follower", "crash", "recover", "spread reads", "advance"],
    "03_replication_methods": ["sql", "crash", "recover", "advance"],
    "04_lag_and_reads": ["write", "read", "advance", "rate"],
    "05_anchor_falls": ["crash", "recover", "promote running", "rejoin", "advance"],
    "06_split_brain": ["split", "heal", "design", "advance"],
    "07_sync_vs_async": [
        "commit",
        "write",
        "crash",
        "recover",
        "partition",
        "heal",
        "failover",
        "rate",
        "advance",
    ],
    "09_recap_quiz": ["write", "crash", "recover", "promote", "partition", "heal", "advance"],
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_a_lesson_runs_and_gets_the_numbers_and_panels_its_text_describes(stem):
    ns = run_lesson(stem)
    assert EXPECTED[stem](ns), "a number the lesson's text quotes has changed"
    built = panels(ns)
    assert built, "the lesson builds a panel"
    assert [p.actions for p in built][-1] == ACTIONS[stem]
    assert all(p.children for p in built), "every panel is built with its widgets"
