"""Small helpers the lessons share, so that no notebook repeats another's mechanics."""

from __future__ import annotations

from typing import Any

from .errors import ConfigError


def check_prediction(
    guess: Any,
    actual: Any,
    right: str,
    *,
    unit: str = "",
    source: str = "the simulation",
    tolerance: float = 0,
    explain: str = "",
) -> bool | None:
    """Compare a learner's ``guess`` with the ``actual`` number and say so; True if right, None if no guess.

    ``right`` says what is true, with ``{}`` where the number goes ("Channel B is {} entries behind").
    A wrong guess gets ``explain`` after the comparison, so the learner learns why, not just that.
    """
    if guess is None:
        print("Put your guess in my_prediction above, then run these cells again.")
        return None
    try:
        ok = abs(float(guess) - float(actual)) <= tolerance
    except (TypeError, ValueError):
        ok = guess == actual
    if ok:
        print(f"Right: {right.format(actual)}.")
        return True
    print(
        f"Not quite: you said {guess}{unit}, {source} says {actual}{unit}."
        + (f" {explain}" if explain else "")
    )
    return False


def sample(cluster: Any, until: float, every: float, measure: Any) -> tuple[list[float], list[Any]]:
    """Let time pass until ``until`` in steps of ``every`` seconds, recording ``measure(cluster)`` after each.

    Returns (times, values). For quantities the record does not keep, like the size of a leader's log.
    """
    if isinstance(every, bool) or not isinstance(every, (int, float)) or not every > 0:
        raise ConfigError(f"every must be a number of seconds > 0, got {every!r}")
    times, values = [], []
    while cluster.now < until - 1e-9:
        cluster.advance(min(every, until - cluster.now))
        times.append(round(cluster.now, 9))
        values.append(measure(cluster))
    return times, values
