"""Calling a learner's rule safely: a time budget per call, its answer checked, its errors made readable.

A rule is untrusted input. :class:`Guard` calls it; whatever goes wrong (it raises,
answers something the simulator cannot use, or runs past its budget) becomes a
:class:`RuleError` naming the rule, the line of the learner's own code it stopped at,
and what was wrong. The judge catches it, reports it with the schedule's seed, and ends.

The time budget uses ``signal.setitimer`` (a ``SIGALRM`` interrupts the rule) where it
can: on the main thread of a Unix process, which a notebook's kernel and the judge's
worker processes are. Elsewhere a call that took too long is caught when it returns.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any


class RuleError(Exception):
    """The learner's rule failed: it raised, answered nonsense or took too long (not a replsim error,
    so nothing in the simulator takes it for a refusal and carries on)."""

    def __init__(self, message: str, line: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line  # "line 3 of my_vote (file.py:12)", or "" when no line of the rule ran

    def __str__(self) -> str:
        return f"{self.message}" + (f", at {self.line}" if self.line else "")


class _TooLong(BaseException):
    """Raised by the alarm inside a rule that runs past its budget (a BaseException: a rule's own
    ``except Exception`` cannot swallow it)."""


def _alarm(signum: int, frame: Any) -> None:
    raise _TooLong


def where(fn: Callable[..., Any], tb: Any) -> str:
    """The last line of ``fn``'s own code in traceback ``tb``: ``"line N of fn (file:line)"``."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    found = ""
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == code.co_filename:
            found = f"line {lineno - code.co_firstlineno + 1} of {fn.__name__} ({code.co_filename}:{lineno})"
    return found


class Guard:
    """Calls ``rule`` with a time ``budget`` (seconds) per call, and turns its failures into RuleError."""

    def __init__(self, rule: Callable[..., Any], budget: float = 1.0) -> None:
        if not callable(rule):
            raise TypeError(f"a rule must be a function, got {rule!r}")
        self.rule = rule
        self.name = getattr(rule, "__name__", repr(rule))
        self.budget = budget
        self.calls = 0
        self.alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        start = time.perf_counter()
        old = None
        if self.alarm:
            old = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, self.budget)
        try:
            answer = self.rule(*args)
        except _TooLong:
            tb = sys.exc_info()[2]
            raise RuleError(f"{self.name} took longer than {self.budget:g} s", where(self.rule, tb)) from None
        except RecursionError as exc:
            raise RuleError(f"{self.name} recursed too deeply", where(self.rule, exc.__traceback__)) from None
        except Exception as exc:  # the learner's own error, whatever it is
            line = where(self.rule, exc.__traceback__)
            raise RuleError(f"{self.name} raised {type(exc).__name__}: {exc}", line) from None
        finally:
            if self.alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
        if time.perf_counter() - start > self.budget:
            raise RuleError(f"{self.name} took longer than {self.budget:g} s")
        return answer

    def wrong(self, answer: Any, wanted: str) -> RuleError:
        """The error for an answer the simulator cannot use."""
        return RuleError(f"{self.name} returned {answer!r}: {wanted}")


__all__ = ["RuleError", "Guard", "where"]
