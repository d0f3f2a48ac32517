"""Small helpers the lessons share, so that no notebook repeats another's mechanics."""

from __future__ import annotations

from typing import Any


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
