"""The README's examples run, and say what they print; lesson 9 shows the same instructor's recipe."""

import contextlib
import io
import pathlib
import re
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def examples():
    """The README's python code blocks, dedented (the recipe sits in a list item)."""
    return [textwrap.dedent(c) for c in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)]


def run(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    return out.getvalue()


def test_the_readme_says_what_its_first_example_prints():
    """The text block after the first example is exactly what it prints."""
    stated = re.search(
        r"```python\n.*?```\n\nIt prints[^`]*?:\n\n```text\n(.*?)```", README.read_text(), re.S
    )
    assert stated, "the README's first example should be followed by 'It prints ...:' and a text block"
    assert run(examples()[0]) == stated.group(1)


def test_the_readme_example_runs_and_loses_the_writes_it_says():
    first, _ = examples()
    printed = run(first)
    lost = int(printed.split()[0])
    assert lost == 500  # replica-2 missed 5 s of writes at 100 per second
    table = printed.splitlines()[-3:]
    assert [row.split()[:3] for row in table] == [
        ["primary", "follower", "DOWN"],
        ["replica-1", "follower", "up"],
        ["replica-2", "leader", "up"],
    ]
    # replica-1 follows the new leader: at most the write in flight behind it
    assert 0 <= int(table[2].split()[-2]) - int(table[1].split()[-2]) <= 1


def test_the_instructors_recipe_prints_what_it_says_and_lesson_9_shows_the_same():
    _, recipe = examples()
    assert run(recipe) == "40 acknowledged writes lost\n"  # 2 s of writes at 20 a second
    lesson = (ROOT / "lessons" / "09_recap_quiz.py").read_text()
    shown = re.search(r"# ```python\n(.*?)# ```", lesson, flags=re.S).group(1)
    assert "\n".join(line[2:] for line in shown.splitlines()) + "\n" == recipe


def test_the_readme_links_the_instructors_guide_and_it_plans_six_sessions():
    guide = ROOT / "lessons" / "INSTRUCTORS.md"
    assert "(lessons/INSTRUCTORS.md)" in README.read_text()
    text = guide.read_text()
    sessions = re.findall(r"^\| (\d) \| ", text.split("## Six sessions of 90 minutes")[1], flags=re.M)
    assert sessions[:6] == ["1", "2", "3", "4", "5", "6"]
    for topic in ("Binder is slow", "PostgreSQL will not start", "Writing a new scenario", "misconception"):
        assert topic in text, topic
    # every lesson has a line in the table of misconceptions
    table = text.split("## What each lesson targets")[1].split("## When things go wrong")[0]
    assert sorted({int(n) for n in re.findall(r"^\| (\d) \| ", table, flags=re.M)}) == list(range(10))
