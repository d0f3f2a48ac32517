"""The README's example runs, and says what it prints."""

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_example_runs_and_loses_the_writes_it_says():
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lost = int(out.getvalue().split()[0])
    assert lost == 500  # replica-2 missed 5 s of writes at 100 per second
    table = out.getvalue().splitlines()[-3:]
    assert [row.split()[:3] for row in table] == [
        ["primary", "follower", "DOWN"],
        ["replica-1", "follower", "up"],
        ["replica-2", "leader", "up"],
    ]
    # replica-1 follows the new leader: at most the write in flight behind it
    assert 0 <= int(table[2].split()[-2]) - int(table[1].split()[-2]) <= 1
