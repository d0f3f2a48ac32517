"""Shared test helpers."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: thousands of fault schedules and the like; `make quick` leaves them out"
    )


SUMMARY: list[str] = []
"""Lines a test leaves for the end of the run (pytest shows a passing test's prints only with ``-s``)."""


def pytest_terminal_summary(terminalreporter) -> None:
    if SUMMARY:
        terminalreporter.section("fault schedules")
        for line in SUMMARY:
            terminalreporter.write_line(line)


def require(ok: bool, reason: str) -> None:
    """Skip the test with ``reason`` when ``ok`` is false; in CI (CI=true) fail instead.

    Used by the tests that need a part a learner's laptop may lack (Chromium,
    a PostgreSQL that can start). In CI those parts are installed, so a missing
    one is a failure, never a silent skip.
    """
    if ok:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"required in CI but missing: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the PostgreSQL labs whose Python process is gone. Lesson 8 leaves its servers running for
    the learner, and nbval ends the lesson's kernel outright (no clean-up runs in it), so the test
    run stops them; the next lab start would also do it (``reap_orphans``)."""
    import tempfile
    import time
    from pathlib import Path

    from replsim.errors import ReplsimError
    from replsim.lab.binaries import runner
    from replsim.lab.cleanup import OWNER_FILE, PREFIX, alive, reap_orphans

    labs = list(Path(tempfile.gettempdir()).glob(f"{PREFIX}*"))
    deadline = time.monotonic() + 10  # a kernel just told to stop may take a moment to be gone
    while labs and time.monotonic() < deadline:
        owners = []
        for folder in labs:
            try:
                owners.append(int((folder / OWNER_FILE).read_text()))
            except (OSError, ValueError):
                continue
        if not any(pid != os.getpid() and alive(pid) for pid in owners):
            break
        time.sleep(0.2)
    try:
        reap_orphans(runner())
    except (ReplsimError, OSError):  # no PostgreSQL here: no lab could have started
        pass
