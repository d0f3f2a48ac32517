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


def markdown_of(path):
    return [c.source for c in cells(path) if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_questions_objectives_and_a_time_estimate(path):
    first = markdown_of(path)[0]
    assert first.startswith("# "), "the first cell is the title"
    assert re.search(r"\*\*Time:\*\* about \d+ minutes", first), "a time estimate: **Time:** about N minutes"
    assert "**Questions this" in first, "the questions it answers"
    assert "By the end of this" in first, "its objectives"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_lesson_is_titled_lesson(path):
    assert markdown_of(path)[0].startswith("# Lesson")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ends_with_key_points(path):
    last = cells(path)[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## Key points")
    assert last.source.count("\n- ") >= 3, "a few key points, as a list"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_a_widget_a_plot_and_a_think_first_question_it_checks(path):
    cs = cells(path)
    markdown = [c.source for c in cs if c.cell_type == "markdown"]
    code = "\n".join(c.source for c in cs if c.cell_type == "code")
    assert any("Think first" in m for m in markdown), "a think-first question"
    assert any("<details>" in m and "<summary><b>Answer" in m for m in markdown), "its answer, hidden"
    assert "my_prediction" in code, "a cell that checks the learner's prediction"
    assert re.search(r"\b(ControlPanel|PgPanel)\(", code), "a widget the learner drives"
    assert "plt.show()" in code, "a plot"


def _heading_level(source):
    m = re.match(r"(#+) ", source)
    return len(m.group(1)) if m else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_your_turn_has_a_task_and_a_folded_solution(path):
    markdown = markdown_of(path)
    turns = [i for i, m in enumerate(markdown) if re.match(r"#+ Your turn", m)]
    assert turns, "a 'Your turn' section where the learner drives a panel"
    for i in turns:
        level = _heading_level(markdown[i])
        section = [markdown[i]]
        for m in markdown[i + 1 :]:
            if _heading_level(m) is not None and _heading_level(m) <= level:
                break
            section.append(m)
        text = "\n".join(section)
        assert "**Task.**" in text, f"{markdown[i].splitlines()[0]!r}: a task to solve"
        assert re.search(r"<details>\s*<summary><b>Solution", text), (
            f"{markdown[i].splitlines()[0]!r}: a folded solution"
        )


def _hidden(cell, part):
    return cell.metadata.get("jupyter", {}).get(f"{part}_hidden") is True


def _guesses(cs):
    """Each cell where the learner types a guess, with the cells up to where its answer may be seen:
    the folded Answer for a prediction, the next text cell for a multiple-choice check."""
    for i, c in enumerate(cs):
        m = (
            re.search(r"^my_(prediction|choice)\w* = ", c.source, flags=re.M)
            if c.cell_type == "code"
            else None
        )
        if not m:
            continue
        after = []
        for n in cs[i + 1 :]:
            if n.cell_type == "markdown" and (m.group(1) == "choice" or "<summary><b>Answer" in n.source):
                break
            after.append(n)
        yield i, m.group(1), after


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_answer_shows_before_the_guess(path):
    """Between a guess and its answer, every stored output stays collapsed until the learner runs the
    cell (JupyterLab's outputs_hidden; nbval still compares it), and the check's source, which holds
    the explanations, is folded too."""
    cs = cells(path)
    sites = list(_guesses(cs))
    assert sites, "at least one prediction or choice"
    for i, kind, after in sites:
        code = [c for c in after if c.cell_type == "code"]
        assert code, f"cell {i}: a {kind} with nothing that checks it"
        for c in code:
            assert not c.outputs or _hidden(c, "outputs"), (
                f"cell {i}: this output shows the answer: {c.source[:60]!r}"
            )
            if re.search(r"^check_(prediction|choice)\(", c.source, flags=re.M):
                assert _hidden(c, "source"), f"cell {i}: the check's explanation shows: {c.source[:60]!r}"
        assert any("check_" in c.source for c in code), f"cell {i}: the {kind} is never checked"


def _fold_line(cell):
    """The line JupyterLab 4 shows in place of a folded output: the first non-empty line of the first
    output, in its preferred format (as its getOutputPlaceholderText does)."""
    first = cell.outputs[0]
    data = first.get("data") or {"text": first.get("text", "")}
    kinds = ["text/html", "image/svg+xml", "application/pdf", "text/markdown", "text/plain", "text"]
    text = next((data[k] for k in kinds if isinstance(data.get(k), str)), "")
    return next((line for line in text.split("\n") if line), "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_folded_output_shows_a_heading_not_a_result(path):
    """A folded output still shows its first line; that line must announce, never answer."""
    for i, c in enumerate(cells(path)):
        if c.cell_type == "code" and c.outputs and _hidden(c, "outputs"):
            line = _fold_line(c)
            ok = line.endswith((":", "...")) or line.startswith(("Put ", "<Figure "))
            assert ok, f"cell {i}: the fold shows {line!r}; print a heading first (ending with ':')"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_lesson_cell_holds_an_assert(path):
    """A learner who changes a number to try a what-if never meets an author's AssertionError."""
    for i, c in enumerate(cells(path)):
        if c.cell_type == "code":
            assert not re.search(r"^\s*assert\b", c.source, flags=re.M), (
                f"cell {i} asserts: {c.source[:80]!r}"
            )


def _next_link(path):
    last = cells(path)[-1].source
    assert "**Next:**" in last, "a 'Next' after the key points"
    after = last[last.index("**Next:**") :]
    return re.search(r"\]\((\d\d)_\w+\.ipynb\)", after).group(1)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_next_comes_after_the_key_points_and_leads_to_the_following_lesson(path):
    """The first link after "Next" goes to the next lesson in order (the last one back to the map)."""
    n = int(path.name[:2])
    want = f"{n + 1:02d}" if n + 1 < len(NOTEBOOKS) else "00"
    assert _next_link(path) == want
    last = cells(path)[-1].source
    assert last.index("## Key points") < last.index("**Next:**")
    assert not any("**Next:**" in c.source for c in cells(path)[:-1]), "one 'Next', at the end"


def test_the_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    assert [nb.name for nb in NOTEBOOKS if f"notebooks/{nb.name}" not in readme] == []


def _lesson_rows(text, link_prefix):
    """The rows of a lessons table: number -> (title, linked notebook or None)."""
    rows = {}
    for n, title in re.findall(r"^\| (\d) \| ([^|]+?) \|", text, flags=re.M):
        link = re.fullmatch(rf"\[(.+)\]\({re.escape(link_prefix)}(\d\d_\w+\.ipynb)\)", title)
        if link:
            rows[int(n)] = (link.group(1), link.group(2))
        else:
            rows[int(n)] = (title.removesuffix(" (being written)"), None)
    return rows


def test_the_readme_table_and_lesson_0s_map_list_the_same_lessons_honestly():
    """Both list lessons 0 to 9 by the same titles; a lesson is linked exactly when its notebook exists,
    and every other one says it is being written (no dates, no "coming soon")."""
    readme = (ROOT / "README.md").read_text()
    start = "\n".join(c.source for c in cells(NOTEBOOKS[0]) if c.cell_type == "markdown")
    in_readme, in_map = _lesson_rows(readme, "notebooks/"), _lesson_rows(start, "")
    assert sorted(in_readme) == sorted(in_map) == list(range(10))
    assert {n: t for n, (t, _) in in_readme.items()} == {n: t for n, (t, _) in in_map.items()}
    built = {int(nb.name[:2]): nb.name for nb in NOTEBOOKS}
    assert {n: nb for n, (_, nb) in in_readme.items() if nb} == {n: nb for n, nb in built.items()}
    assert {n: nb for n, (_, nb) in in_map.items() if nb} == {n: nb for n, nb in built.items() if n != 0}
    for text in (readme, start):
        assert "coming soon" not in text.lower()
        rows = re.findall(r"^\| (\d) \| ([^|]+?) \|", text, flags=re.M)
        unbuilt = [title for n, title in rows if int(n) not in built]
        assert all(t.endswith("(being written)") for t in unbuilt), unbuilt


def test_no_lesson_is_promised_any_more():
    """Every lesson exists: no text says one is still being written or coming soon."""
    for source in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py")):
        text = source.read_text().lower()
        assert "being written" not in text and "coming soon" not in text, source.name
