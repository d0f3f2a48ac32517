"""Lesson 8's first step: start the lab, or say how to get PostgreSQL and skip the lab's cells."""

from __future__ import annotations

from typing import Any

from .binaries import unavailable_reason
from .postgres import PgCluster

SKIPPED = "Skipped: this cell needs the lab's PostgreSQL servers, which could not start (see the first cell)."


def open_lab(standbys: int = 2, out: Any = print) -> PgCluster | None:
    """Start a primary and ``standbys`` streaming standbys, saying each step as it begins.

    If PostgreSQL cannot run here, say why and how to get it on this platform, and (in a notebook)
    make every later cell print :data:`SKIPPED` instead of running, so Run All explains itself rather
    than failing; running ``open_lab`` again once PostgreSQL is installed starts the lab after all.
    """
    reason = unavailable_reason()
    if reason is not None:
        out(f"PostgreSQL cannot run here, so this lab cannot start.\n\nWhy: {reason}.")
        out(
            "\nThe lab's cells below will print 'Skipped' instead of running. Install PostgreSQL as "
            "described above, then run this cell again (or restart the kernel and run the lesson)."
        )
        _skip_later_cells(True)
        return None
    _skip_later_cells(False)
    pg = PgCluster(standbys=standbys).start(progress=lambda step: out(f"{step}..."))
    out(f"ready: {', '.join(pg.servers)}")
    return pg


def _skip(lines: list[str]) -> list[str]:
    """An IPython input transformer: any cell but the one that opens the lab prints SKIPPED."""
    return lines if any("open_lab(" in line for line in lines) else [f"print({SKIPPED!r})\n"]


def _skip_later_cells(on: bool) -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to skip
        return
    shell = get_ipython()
    if shell is None:
        return
    hooks = shell.input_transformers_post
    if _skip in hooks:
        hooks.remove(_skip)
    if on:
        hooks.append(_skip)
