"""The course environment: Binder, conda and pip agree, and the README's links lead somewhere.

When a ``binder/`` folder exists, Binder reads only the files in it, so ``binder/environment.yml``
must be the root ``environment.yml``, and ``binder/postBuild`` must install the package itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml  # PyYAML: comes with JupyterLab (jupyter-events needs it)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the copy of tomli that pip carries
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
ENV = ROOT / "environment.yml"
BINDER_ENV = ROOT / "binder" / "environment.yml"
POSTBUILD = ROOT / "binder" / "postBuild"
PYPROJECT = ROOT / "pyproject.toml"
README = ROOT / "README.md"
START = "notebooks/00_start_here.ipynb"


def normalise(requirement: str) -> str:
    """The package name of a pip or conda requirement: lowercase, '_' and '.' as '-', no extras or version.

    >>> normalise("psycopg[binary]>=3.2"), normalise("Typing_Extensions"), normalise("python=3.11")
    ('psycopg', 'typing-extensions', 'python')
    """
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def environment_packages(path: Path) -> dict[str, str]:
    """Every package of an environment.yml (conda ones and those under ``pip:``), name -> requirement."""
    doc = yaml.safe_load(path.read_text())
    found: dict[str, str] = {}
    for dep in doc.get("dependencies") or []:
        if isinstance(dep, dict):
            for req in dep.get("pip") or []:
                found[normalise(req)] = req
        else:
            found[normalise(str(dep))] = str(dep)
    return found


def pyproject_packages() -> dict[str, str]:
    """The packages the course needs: [project] dependencies plus the ``course`` extra."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    reqs = list(project.get("dependencies", [])) + list(project.get("optional-dependencies", {})["course"])
    return {normalise(r): r for r in reqs}


def test_binder_environment_is_the_root_environment() -> None:
    """Binder ignores the root environment.yml when binder/ exists: the two files must be the same."""
    assert BINDER_ENV.read_bytes() == ENV.read_bytes(), (
        "binder/environment.yml differs from environment.yml: copy one onto the other"
    )


@pytest.mark.parametrize("path", [ENV, BINDER_ENV], ids=["environment.yml", "binder/environment.yml"])
def test_environment_lists_every_course_package(path: Path) -> None:
    """Everything pip installs for the course (dependencies + [course]) is in the environment file."""
    have = environment_packages(path)
    missing = sorted(set(pyproject_packages()) - set(have))
    assert not missing, f"{path.relative_to(ROOT)} lacks packages from pyproject.toml: {missing}"


@pytest.mark.parametrize("tool", ["nbval", "pytest-timeout", "jupytext", "nbconvert"])
def test_environment_can_check_and_rebuild_the_notebooks(tool: str) -> None:
    """An instructor on conda can check the notebooks' numbers (`pytest notebooks/`: nbval, and
    pytest-timeout for the `timeout` option pyproject sets) and rebuild them (`tools/nbbuild.py`:
    jupytext, nbconvert), pinned as the test extra pins them."""
    have = environment_packages(ENV)
    assert tool in have, f"environment.yml should list {tool}"
    test_extra = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["test"]
    wanted = next(r for r in test_extra if normalise(r) == tool)
    assert have[tool].replace(" ", "") == wanted, f"pin {tool} as pyproject.toml does: {wanted}"


def test_environment_pins_python_311() -> None:
    """Binder's default Python is not ours: the environment pins a minor version, 3.11, not a range."""
    have = environment_packages(ENV)
    assert "python" in have, "environment.yml does not list python"
    assert re.fullmatch(r"python\s*=\s*3\.11", have["python"].strip()), (
        f"environment.yml should pin 'python=3.11', not {have['python']!r}"
    )


def test_postbuild_installs_the_package() -> None:
    """Binder does not install replsim from environment.yml: postBuild does, strictly."""
    text = POSTBUILD.read_text()
    lines = [ln.strip() for ln in text.splitlines()]
    assert lines and lines[0].startswith("#!"), "binder/postBuild needs a shebang (#!/usr/bin/env bash)"
    assert "set -euo pipefail" in lines, (
        "binder/postBuild must 'set -euo pipefail' so a failed step fails the build"
    )
    install = re.compile(r"^(python3? -m )?pip install --no-deps -e \.$")
    assert any(install.match(ln) for ln in lines), (
        "binder/postBuild must install the package: 'python -m pip install --no-deps -e .'"
    )


def test_readme_binder_link_opens_lesson_0() -> None:
    """The README's Binder link opens JupyterLab at the start notebook, which exists."""
    links = re.findall(r"https://mybinder\.org/v2/[^\s)\"'>]+", README.read_text())
    assert links, "README.md has no mybinder.org launch link"
    for link in links:
        url = urlparse(link)
        assert url.path.startswith("/v2/gh/"), f"not a GitHub Binder link: {link}"
        assert parse_qs(url.query).get("urlpath") == [f"lab/tree/{START}"], (
            f"the Binder link should end with ?urlpath=lab/tree/{START}: {link}"
        )
    assert (ROOT / START).exists(), f"{START} is missing"


def test_readme_names_only_existing_notebooks() -> None:
    """Every notebook the README names exists."""
    named = sorted(set(re.findall(r"notebooks/[\w./-]+?\.ipynb", README.read_text())))
    assert named, "README.md names no notebook"
    missing = [n for n in named if not (ROOT / n).is_file()]
    assert not missing, f"README.md names notebooks that do not exist: {missing}"


def _conda_lines() -> list[str]:
    """The README's conda block, as commands run after ``conda env create ... && conda activate``."""
    block = re.search(r"With conda[^\n]*\n\n```bash\n(.*?)```", README.read_text(), re.S)
    assert block, "README.md has no conda block after 'With conda'"
    lines = [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]
    first = re.fullmatch(r"conda env create -f environment\.yml && conda activate replsim && (.+)", lines[0])
    assert first, f"the conda block should start by creating and activating the environment: {lines[0]!r}"
    return [first.group(1), *lines[1:]]


@pytest.mark.slow
def test_the_environments_packages_run_the_readmes_conda_lines(tmp_path: Path) -> None:
    """The conda route, as far as this machine can take it: it reaches no conda channel, so the packages
    environment.yml lists are installed with pip instead (same names and bounds) into a fresh
    environment, and the README's conda lines run there, on a copy of the repository: the package
    installs, the notebooks match their sources (jupytext), and nbval checks lesson 0's numbers with
    pytest-timeout's option understood. What this cannot check is conda's own solve of the channel."""
    import shutil
    import subprocess
    import sys

    from conftest import require

    uv = Path(sys.executable).with_name("uv")
    require(uv.exists(), "uv is missing: pip install -e '.[test]'")
    lines = _conda_lines()
    assert lines[2].endswith("pytest notebooks/"), lines
    env = tmp_path / "env"
    made = subprocess.run(
        [str(uv), "venv", "--seed", "--python", sys.executable, str(env)], capture_output=True
    )
    assert made.returncode == 0, made.stderr.decode()
    wanted = [r for name, r in environment_packages(ENV).items() if name not in ("python", "pip")]
    python = env / "bin" / "python"
    got = subprocess.run(
        [str(uv), "pip", "install", "--python", str(python), *wanted],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if got.returncode and re.search(r"network|connect|dns|fetch", got.stderr, re.I):
        require(False, f"the package index cannot be reached: {got.stderr.strip().splitlines()[-1]}")
    assert got.returncode == 0, got.stderr
    repo = tmp_path / "repo"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    path = f"{env / 'bin'}:/usr/bin:/bin"
    runs = [lines[0], lines[2].replace("pytest notebooks/", f"pytest -p no:cacheprovider {START}")]
    for line in runs:  # the course line (tools/course.py) starts a server: tests/test_course_launch.py
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=repo,
            env={"PATH": path, "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, (
            f"{line!r} failed in the environment's packages:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
        assert "Unknown config option" not in done.stdout + done.stderr, done.stdout[-2000:]
