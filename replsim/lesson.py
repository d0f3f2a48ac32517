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
        near = "" if _same(guess, actual) else f" (you said {guess}{unit}, close enough)"
        print(f"Right: {right.format(actual)}{near}.")
        return True
    print(
        f"Not quite: you said {guess}{unit}, {source} says {actual}{unit}."
        + (f" {explain}" if explain else "")
    )
    return False


def _same(guess: Any, actual: Any) -> bool:
    try:
        return float(guess) == float(actual)
    except (TypeError, ValueError):
        return guess == actual


def check_choice(choice: Any, right: str, why: dict[str, str]) -> bool | None:
    """A multiple-choice check: say whether ``choice`` (a letter) is ``right``, and explain that choice.

    ``why`` maps every letter offered to what is true about it, so a wrong answer teaches something
    too (why that choice is tempting, and what it misses). True if right, False if not, None if no
    choice was made yet. The answer is never named on a wrong choice: the learner can try another.
    """
    if (
        not isinstance(why, dict)
        or len(why) < 2
        or not all(isinstance(k, str) and len(k) == 1 and isinstance(v, str) and v for k, v in why.items())
    ):
        raise ConfigError("why must map two or more single letters ('a', 'b', ...) to an explanation each")
    if right not in why:
        raise ConfigError(f"right must be one of the letters explained ({', '.join(why)}), got {right!r}")
    letters = ", ".join(why)
    if choice is None:
        print(f"Put one letter ({letters}) in my_choice above, then run this cell again.")
        return None
    picked = str(choice).strip().strip(")").strip().lower()
    if picked not in why:
        print(f"{choice!r} is not one of the choices: put one letter ({letters}) in my_choice.")
        return None
    if picked == right:
        print(f"Right ({picked}): {why[picked]}")
        return True
    print(f"Not quite ({picked}): {why[picked]} Try another answer.")
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
