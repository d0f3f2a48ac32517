"""The quick start as a new user meets it: `make course` opens lesson 0 at a URL that works as printed,
says which port it took and how to stop, installs the course only; every command the README shows is
one the project itself runs."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"
START_S = 120


# --- the README's commands are the project's own ----------------------------------------------
def makefile_recipes() -> dict[str, list[str]]:
    """Each Makefile target's recipe lines, with the variables written out as a shell would see them."""
    text = MAKEFILE.read_text().replace("\\\n", " ")
    names = dict(re.findall(r"^([A-Z_]+) \?=? ?:?= ?(.*)$", text, re.M))
    names |= dict(re.findall(r"^([A-Z_]+) :?= (.*)$", text, re.M))

    def expand(line: str) -> str:
        for _ in range(5):
            line = re.sub(r"\$\((\w+)\)", lambda m: names.get(m.group(1), m.group(0)), line)
        return line.strip().lstrip("@")

    recipes: dict[str, list[str]] = {}
    target = None
    for line in text.splitlines():
        if m := re.match(r"^([^\s#:=][^:=]*?):(?!=)", line):
            target = expand(m.group(1))
            recipes[target] = []
        elif line.startswith("\t") and target:
            recipes[target].append(expand(line))
    return recipes


def commands_run_by_the_project() -> list[str]:
    """Command lines that the Makefile, CI and Binder run."""
    lines = [ln for recipe in makefile_recipes().values() for ln in recipe]
    for script in (ROOT / ".ci" / "run", ROOT / "binder" / "postBuild"):
        lines += [
            ln.strip() for ln in script.read_text().splitlines() if ln.strip() and not ln.startswith("#")
        ]
    return lines


def readme_commands() -> list[str]:
    """Every command in the README's bash blocks (split at '&&', comments removed)."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
    found = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            found += [part.strip() for part in line.split("&&") if part.strip()]
    return found


def _words(command: str) -> list[str]:
    """A command's words, with every spelling of the course's Python as 'python' and --quiet dropped."""
    words = shlex.split(command)
    python = {".venv/bin/python", "python", "python3", "$(PYTHON)", "$(BIN)/python"}
    return [("python" if w in python else w) for w in words if w != "--quiet"]


# The conda lines cannot run here (no conda-forge); what each one stands for, and where it is tested.
CONDA_ONLY = {
    "conda env create -f environment.yml": "Binder builds binder/environment.yml, tested to be this file",
    "conda activate replsim": "environment.yml names the environment replsim (tested below)",
    "pytest notebooks/": "make test runs pytest, whose testpaths include notebooks/ (pyproject.toml)",
}


def test_every_readme_command_is_one_the_project_runs() -> None:
    run = [_words(c) for c in commands_run_by_the_project()]
    targets = makefile_recipes()
    unknown = []
    for command in readme_commands():
        words = _words(command)
        if words[0] == "make":
            target = next((w for w in words[1:] if "=" not in w), None)
            if target not in targets:
                unknown.append(command)
        elif command not in CONDA_ONLY and not any(r[: len(words)] == words for r in run):
            unknown.append(command)
    assert readme_commands(), "the README shows no commands"
    assert not unknown, f"README commands that neither the Makefile, CI nor Binder runs: {unknown}"


def test_make_variables_the_readme_names_exist() -> None:
    text = MAKEFILE.read_text()
    for var in set(re.findall(r"make \w+ ([A-Z]+)=", README.read_text())):
        assert re.search(rf"^{var} \?=", text, re.M), f"the README sets {var}=, which the Makefile ignores"


def test_the_conda_environment_is_named_as_the_readme_says() -> None:
    assert re.search(r"^name: replsim$", (ROOT / "environment.yml").read_text(), re.M)


def test_make_course_installs_the_course_only_and_make_test_adds_the_tools() -> None:
    recipes = makefile_recipes()
    ready = {t: lines for t, lines in recipes.items() if t.startswith(".venv/.")}
    course = next(lines for t, lines in ready.items() if "course" in t)
    assert any('-e ".[course]"' in ln for ln in course), course
    assert not any("test" in ln for ln in course), f"make course installs the test tools: {course}"
    test_text = MAKEFILE.read_text()
    assert re.search(r"^course: \$\(COURSE_READY\)$", test_text, re.M)
    assert re.search(r"^test: \$\(TEST_READY\)$", test_text, re.M)
    assert any('".[course,test]"' in ln for t, lines in ready.items() if "test" in t for ln in lines)


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M), ".ci/run must run the README's `make test`"


# --- the launcher ---------------------------------------------------------------------------------
def _launch(port: int, home: Path) -> tuple[subprocess.Popen, list[str]]:
    """Start tools/course.py --no-browser; return it and the lines it printed up to the URL."""
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "ws")]:  # fmt: skip
        env[var] = str(home / sub)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "course.py"), "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=home,
    )  # fmt: skip
    lines: list[str] = []
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "Ctrl-C" in line:
            return proc, lines
    proc.kill()
    raise AssertionError(f"tools/course.py printed no URL in {START_S} s: {lines}")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, ""


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    return proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(300)
def test_make_course_prints_a_url_that_opens_lesson_0_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    proc, lines = _launch(port, tmp_path)
    try:
        url = next(re.search(r"http://\S+", ln).group(0) for ln in lines if "http://" in ln)
        assert url.startswith(f"http://127.0.0.1:{port}/lab/tree/notebooks/00_start_here.ipynb?token=")
        assert any(f"port {port}" in ln for ln in lines), lines
        status, page = _get(url)
        assert status == 200 and "JupyterLab" in page, f"the printed URL answered {status}"
        base = url.split("/lab/")[0]
        assert _get(f"{base}/api/contents/notebooks/00_start_here.ipynb")[0] == 403, (
            "no token, yet allowed in"
        )
        token = url.split("token=")[1]
        status, body = _get(f"{base}/api/contents/notebooks/00_start_here.ipynb?token={token}")
        assert status == 200 and '"type": "notebook"' in body
    finally:
        code = _stop(proc)
    assert code == 0, f"Ctrl-C ended the launcher with {code}"
    with socket.socket() as s, contextlib.suppress(OSError):
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the server still listens after Ctrl-C"


@pytest.mark.timeout(300)
def test_a_busy_port_is_replaced_by_the_next_and_the_launcher_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc, lines = _launch(port, tmp_path)
        try:
            said = "\n".join(lines)
            assert f"(port {port} was busy)" in said, said
            taken = int(re.search(r"on port (\d+)", said).group(1))
            assert taken != port and f"127.0.0.1:{taken}/lab/tree/" in said
        finally:
            _stop(proc)
