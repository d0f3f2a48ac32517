"""The course installs on every platform the README lists: its dependencies resolve to wheels there.

For each platform and Python version, uv resolves ``pyproject.toml``'s dependencies plus the
``course`` extra as pip would on that machine (environment markers evaluated for that platform,
transitive ones included) and accepts wheels only, as a learner without a compiler needs. So a
future dependency without a wheel for one of these platforms fails here, naming the platform.
The PostgreSQL lab's server wheel (pgserver) exists for some platforms only: it must be installed
where it exists and left out elsewhere (lesson 8 then uses a PostgreSQL installed another way).

Needs the package index (PyPI or the machine's mirror): without it the test is skipped on a
laptop, and fails in CI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# The README's "Platforms" line names these, in this order; uv's name for each.
PLATFORMS = {
    "Linux x86-64": "x86_64-unknown-linux-gnu",
    "Linux ARM64": "aarch64-unknown-linux-gnu",
    "macOS (Apple silicon)": "aarch64-apple-darwin",
    "macOS (Intel)": "x86_64-apple-darwin",
    "Windows x86-64": "x86_64-pc-windows-msvc",
}
PYTHONS = ("3.11", "3.12", "3.13", "3.14")  # from Binder's (the oldest the course supports) to the newest
# where pgserver has wheels: these platforms, Python 3.9-3.12
WITH_PGSERVER = {"Linux x86-64", "macOS (Apple silicon)", "macOS (Intel)", "Windows x86-64"}
PGSERVER_PYTHONS = {"3.11", "3.12"}
OFFLINE = re.compile(r"error sending request|dns error|Failed to fetch|Could not connect|timed out", re.I)


def _uv() -> str | None:
    found = Path(sys.executable).with_name("uv")
    return str(found) if found.exists() else shutil.which("uv")


def resolve(uv: str, platform: str, python: str, offline: bool = False) -> subprocess.CompletedProcess:
    """uv's resolution of the course's dependencies for one platform and Python, wheels only.

    ``offline``: from uv's cache alone (half a second instead of ten), asking the index only for
    what the cache lacks.
    """
    cmd = [uv, "pip", "compile", str(ROOT / "pyproject.toml"), "--extra", "course", "--quiet"]
    cmd += ["--python-platform", PLATFORMS[platform], "--python-version", python, "--only-binary", ":all:"]
    cmd += ["--no-header", "--no-annotate"]
    done = subprocess.run(
        [*cmd, "--offline"] if offline else cmd, capture_output=True, text=True, timeout=300
    )
    if offline and done.returncode and re.search(r"network (connectivity )?(is|was) disabled", done.stderr):
        return resolve(uv, platform, python)
    return done


@pytest.fixture(scope="module")
def resolutions() -> dict[tuple[str, str], subprocess.CompletedProcess]:
    """Every (platform, Python) resolution: the first from the index, which refreshes uv's cache of it,
    the others from that cache."""
    uv = _uv()
    require(uv is not None, "uv is missing: pip install -e '.[test]'")
    pairs = [(p, py) for p in PLATFORMS for py in PYTHONS]
    first = resolve(uv, *pairs[0])
    if first.returncode and OFFLINE.search(first.stderr):
        require(False, f"the package index cannot be reached: {first.stderr.strip().splitlines()[-1]}")
    return {pairs[0]: first} | {pair: resolve(uv, *pair, offline=True) for pair in pairs[1:]}


def test_the_readme_lists_the_platforms_checked_here() -> None:
    line = next((ln for ln in README.read_text().splitlines() if ln.startswith("**Platforms:**")), None)
    assert line is not None, "README.md's quick start has no '**Platforms:**' line"
    for platform in PLATFORMS:
        assert platform in line, f"README's Platforms line does not name {platform}: {line}"


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_course_resolves_to_wheels_on(platform: str, python: str, resolutions) -> None:
    done = resolutions[platform, python]
    assert done.returncode == 0, (
        f"the course cannot be installed on {platform}, Python {python}:\n{done.stderr}"
    )
    pinned = {ln.split("==")[0].lower() for ln in done.stdout.splitlines() if "==" in ln}
    for needed in ("jupyterlab", "ipywidgets", "apsw", "matplotlib", "psycopg-binary"):
        assert needed in pinned, f"{needed} missing from the resolution for {platform}: {sorted(pinned)}"
    wheel = platform in WITH_PGSERVER and python in PGSERVER_PYTHONS
    assert ("pgserver" in pinned) == wheel, (
        f"pgserver {'missing' if wheel else 'asked for'} on {platform}, {python}"
    )
