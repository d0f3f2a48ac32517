"""Each lesson's stated time is within 20% of an estimate measured from its text, and lesson 0's map
shows the same times.

The estimate (a learner at an intermediate level, as in the pedagogy review): text read at 150 words a
minute (markdown, the folded answers and solutions included; code cells' comments not counted); half a
minute per code cell to read and run it; a minute and a half per plot; three minutes per prediction; two
per multiple-choice check; two and a half per numbered step of a "Your turn" task. Sections marked
"Going deeper (optional)" are counted apart, as the lesson's optional extra.
"""

from __future__ import annotations

import pathlib
import re

import jupytext
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
WORDS_PER_MINUTE = 150
PER_CODE_CELL, PER_PLOT, PER_PREDICTION, PER_CHOICE, PER_TASK_STEP = 0.5, 1.5, 3.0, 2.0, 2.5


def estimate(path: pathlib.Path) -> tuple[float, float]:
    """(core minutes, optional minutes) for one lesson source."""
    core = optional = 0.0
    part = "core"
    for cell in jupytext.read(path, fmt="py:percent").cells:
        text = cell.source
        if cell.cell_type == "markdown":
            if re.match(r"#+ ", text):
                part = "optional" if re.match(r"#+ Going deeper", text) else "core"
            minutes = len(re.findall(r"\w+", text)) / WORDS_PER_MINUTE
            if "**Task.**" in text:
                task = text.split("**Task.**", 1)[1]
                minutes += PER_TASK_STEP * max(1, len(re.findall(r"^\d+\. ", task, flags=re.M)))
        else:
            minutes = PER_CODE_CELL + PER_PLOT * text.count("plt.show()")
            minutes += PER_PREDICTION * len(re.findall(r"^my_prediction\w* = ", text, flags=re.M))
            minutes += PER_CHOICE * len(re.findall(r"^my_choice\w* = ", text, flags=re.M))
        if part == "optional":
            optional += minutes
        else:
            core += minutes
    return core, optional


def stated(path: pathlib.Path) -> tuple[int, int]:
    """(minutes, optional minutes) from the lesson's '**Time:** about N minutes[, plus M ...]'."""
    text = path.read_text()
    m = re.search(r"\*\*Time:\*\* about (\d+) minutes(?:, plus (\d+))?", text)
    return int(m.group(1)), int(m.group(2) or 0)


def test_the_estimates_can_be_read(capsys):
    with capsys.disabled():
        print("\nlesson                          stated  estimated (core + optional)")
        for path in LESSONS:
            core, extra = estimate(path)
            print(f"{path.stem:30} {stated(path)[0]:5}    {core:5.1f} + {extra:4.1f}")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_the_stated_time_is_within_20_percent_of_the_estimate(path):
    (minutes, optional), (core, extra) = stated(path), estimate(path)
    assert abs(minutes - core) <= 0.2 * core, f"says {minutes} min, estimated {core:.0f}"
    assert abs(optional - extra) <= max(0.2 * extra, 1), (
        f"optional part: says {optional}, estimated {extra:.0f}"
    )


def test_lesson_0s_map_shows_each_lessons_stated_time():
    start = LESSONS[0].read_text()
    shown = {int(n): int(t) for n, t in re.findall(r"^# \| (\d) \| [^|]+ \| (\d+) \|", start, flags=re.M)}
    assert shown == {int(p.stem[:2]): stated(p)[0] for p in LESSONS}


def stretches(path: pathlib.Path) -> list[float]:
    """Minutes (by the estimate above) from the start, and between active steps, to the next one or the
    end: an active step is a prediction, a multiple-choice check, or a panel the learner drives."""
    out, run, optional = [], 0.0, False
    for cell in jupytext.read(path, fmt="py:percent").cells:
        text = cell.source
        if cell.cell_type == "markdown" and re.match(r"#+ ", text):
            optional = bool(re.match(r"#+ Going deeper", text))
        if optional:
            continue
        if cell.cell_type == "markdown":
            run += len(re.findall(r"\w+", text.split("**Task.**")[0])) / WORDS_PER_MINUTE
        else:
            run += PER_CODE_CELL + PER_PLOT * text.count("plt.show()")
            if re.search(r"^my_(prediction|choice)\w* = |\b(ControlPanel|PgPanel)\(", text, flags=re.M):
                out.append(run)
                run = 0.0
    return out + [run]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_an_active_step_at_least_every_ten_minutes(path):
    longest = max(stretches(path))
    assert longest <= 10, f"{longest:.1f} minutes without a prediction, a check or a panel"
