"""Deterministic simulation testing: seeded fault schedules, their checks, shrinking, and comparisons.

As FoundationDB and TigerBeetle do it: a seed alone makes a schedule
(:mod:`.schedule`); running it gives a history, and checkers judge it (:mod:`.run`);
a failure names its seed and prints a short script that replays it, shrunk by
deleting actions while the failure remains. :mod:`.compare` runs many schedules
against each failover design, for lesson 6's table.
"""

from .compare import QUICK, compare, table
from .run import (
    FINDINGS,
    Failure,
    Report,
    Result,
    attempt,
    check_leaders_hold_acknowledged_writes,
    explore,
    run,
    settle_and_check,
    shrink,
)
from .schedule import MODES, POLICY_MODES, Action, Config, NetClient, Schedule, generate, policy

__all__ = [
    "MODES",
    "POLICY_MODES",
    "FINDINGS",
    "QUICK",
    "Config",
    "Action",
    "NetClient",
    "Schedule",
    "generate",
    "policy",
    "attempt",
    "settle_and_check",
    "check_leaders_hold_acknowledged_writes",
    "Result",
    "run",
    "shrink",
    "Failure",
    "Report",
    "explore",
    "compare",
    "table",
]
