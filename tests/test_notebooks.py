"""Every lesson keeps the course's format, and ships executed (nbval then checks its numbers)."""

import pathlib
import re

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LESSONS = [nb for nb in NOTEBOOKS if not nb.name.startswith("00_")]


def cells(path):
    return nbformat.read(path, as_version=4).cells


def test_there_is_a_start_notebook_and_lessons():
    assert NOTEBOOKS[0].name == "00_start_here.ipynb" and LESSONS


def test_the_notebooks_folder_holds_the_lessons_and_nothing_else():
    """A learner who opens notebooks/ in JupyterLab sees the lessons, not their sources or tools."""
    shown = sorted(p.name for p in (ROOT / "notebooks").iterdir() if not p.name.startswith("."))
    assert shown == [nb.name for nb in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_without_errors(path):
    code = [c for c in cells(path) if c.cell_type == "code" and c.source.strip()]
    assert all(c.execution_count is not None for c in code), "run tools/nbbuild.py to execute it"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "executed top to bottom, once"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_lesson_has_objectives_a_widget_a_plot_a_hidden_answer_and_a_recap(path):
    cs = cells(path)
    markdown = [c.source for c in cs if c.cell_type == "markdown"]
    code = "\n".join(c.source for c in cs if c.cell_type == "code")
    assert markdown[0].startswith("# Lesson") and "By the end of this" in markdown[0]
    assert any("<details>" in m and "<summary>" in m for m in markdown), "a think-first answer, hidden"
    assert "my_prediction" in code, "a cell that checks the learner's prediction"
    assert re.search(r"\b(ControlPanel|PgPanel)\(", code), "a widget the learner drives"
    assert "plt.show()" in code, "a plot"
    assert any(m.startswith("## Recap") for m in markdown)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widget_cells_are_followed_by_an_assert_on_their_state(path):
    cs = cells(path)
    for i, c in enumerate(cs):
        if "nbval-ignore-output" in c.metadata.get("tags", []):
            after = next(n for n in cs[i + 1 :] if n.cell_type == "code")
            assert "assert" in after.source, f"cell {i} hides its output: the next code cell must check it"


def test_the_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    assert [nb.name for nb in NOTEBOOKS if f"notebooks/{nb.name}" not in readme] == []
