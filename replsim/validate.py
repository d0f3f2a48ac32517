"""Argument checks, in one place: each returns the value (converted) or raises ConfigError saying what
was wrong and what is allowed. Every public call of replsim checks its arguments with these."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from .errors import ConfigError


def _real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)  # numpy numbers are Real too


def seconds(name: str, value: Any, *, positive: bool = False, most: float | None = None) -> float:
    """``value`` as float seconds: a finite number >= 0 (``positive``: > 0; at most ``most``)."""
    if not _real(value):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ConfigError(
            f"{name} must be a finite number of seconds {'> 0' if positive else '>= 0'}, got {value!r}"
        )
    if most is not None and v > most:
        raise ConfigError(f"{name} must be at most {most:g} seconds, got {value!r}")
    return v


def whole(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` if it is a whole number >= ``low`` (and <= ``high``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        limits = f">= {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"{name} must be a whole number {limits}, got {value!r}")
    if value < low or (high is not None and value > high):
        limits = f">= {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"{name} must be a whole number {limits}, got {value!r}")
    return int(value)


def number(name: str, value: Any, low: float, high: float, *, open_low: bool = False) -> float:
    """``value`` as a float in [``low``, ``high``] (``open_low``: (``low``, ``high``])."""
    ok = _real(value) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > low if open_low else v >= low) and v <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise ConfigError(f"{name} must be a number in {bracket}{low:g}, {high:g}], got {value!r}")
    return float(value)


def flag(name: str, value: Any) -> bool:
    """``value`` if it is True or False."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return value


def one_of(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """``value`` if it is one of ``allowed``."""
    allowed = list(allowed)
    try:
        ok = value in allowed
    except TypeError:  # unhashable or uncomparable
        ok = False
    if not ok:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def instance(name: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is a ``kind`` (``what`` says it in words, e.g. "a read policy (Nearest(), ...)")."""
    if not isinstance(value, kind):
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    return value


def mapping(name: str, value: Any, check: Callable[[str, Any], Any], what: str) -> dict:
    """``value`` as a dict whose values pass ``check(name, v)`` (``what``: the keys and values in words)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a dict of {what}, got {value!r}")
    return {k: check(f"{name}[{k!r}]", v) for k, v in value.items()}


__all__ = ["seconds", "whole", "number", "flag", "one_of", "instance", "mapping"]
