"""Shared test helpers."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: thousands of fault schedules and the like; `make quick` leaves them out"
    )


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
