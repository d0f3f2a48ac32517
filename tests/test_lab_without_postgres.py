"""Lesson 8 on a machine without PostgreSQL: the lab imports, says how to get PostgreSQL, and skips."""

from __future__ import annotations

import pathlib
import platform

import nbformat
import pytest
from nbclient import NotebookClient

from replsim.lab import binaries
from replsim.lab.notebook import SKIPPED, open_lab

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSON_8 = ROOT / "notebooks" / "08_real_postgresql.ipynb"


@pytest.mark.parametrize(
    "system, machine, expected",
    [
        ("Linux", "aarch64", ["no wheel for this machine", "apt-get install postgresql", "conda-forge"]),
        ("Linux", "x86_64", ["pip install pgserver;", "apt-get install postgresql", "conda-forge"]),
        ("Darwin", "arm64", ["brew install postgresql", "conda-forge"]),
        ("Windows", "AMD64", ["WSL", "conda-forge"]),
    ],
)
def test_the_hint_fits_the_platform(monkeypatch, system, machine, expected):
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    hint = binaries.install_hint()
    assert all(e in hint for e in expected), hint
    assert "REPLSIM_PG_BIN" in hint and "pg_config --bindir" in hint


def test_an_empty_postgres_folder_is_refused_with_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setenv("REPLSIM_PG_BIN", str(tmp_path))
    reason = binaries.unavailable_reason()
    assert reason and f"{tmp_path} lacks initdb" in reason and "conda-forge" in reason


def test_without_pgserver_a_postgres_on_the_path_is_used(monkeypatch, tmp_path):
    """pg_config --bindir names the folder (Debian, Homebrew and conda-forge all ship pg_config)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for program in binaries.PROGRAMS:
        (bindir / program).write_text("")
    (tmp_path / "pg_config").write_text(f"#!/bin/sh\necho {bindir}\n")
    (tmp_path / "pg_config").chmod(0o755)
    monkeypatch.delenv("REPLSIM_PG_BIN", raising=False)
    monkeypatch.setattr(binaries, "_pgserver_dir", lambda: None)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert binaries.find_bin() == bindir
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(binaries.PostgresError, match="no PostgreSQL found on this machine; to get one"):
        binaries.find_bin()


def test_open_lab_outside_a_notebook_explains_and_returns_none(monkeypatch, tmp_path):
    monkeypatch.setenv("REPLSIM_PG_BIN", str(tmp_path))
    said: list[str] = []
    assert open_lab(out=said.append) is None
    assert said[0].startswith("PostgreSQL cannot run here") and "Skipped" in said[1]


@pytest.mark.timeout(300)
def test_lesson_8_explains_itself_and_skips_its_cells_without_postgres(monkeypatch, tmp_path):
    """Run All on a machine with no PostgreSQL: the first cell says how to get it, every later cell
    prints that it was skipped, and nothing fails."""
    monkeypatch.setenv("REPLSIM_PG_BIN", str(tmp_path))  # an empty folder: no PostgreSQL here
    nb = nbformat.read(LESSON_8, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    printed = ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream") for c in code]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    first = next(i for i, c in enumerate(code) if "open_lab(" in c.source)
    assert printed[first].startswith("PostgreSQL cannot run here") and "conda-forge" in printed[first]
    assert "print 'Skipped'" in printed[first]
    assert all(p == SKIPPED + "\n" for p in printed[first + 1 :]), printed[first + 1 :]
