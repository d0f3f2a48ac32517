"""The panel's words: times, counts, and the simulator's refusals said in terms of the panel's buttons.

The simulator's error messages are written for someone calling it from Python
("recover('Sous chef A') brings it back"); a panel says what to click instead
("Recover Sous chef A to bring it back"). Only refusals the panel knows are reworded;
any other message is shown as the simulator wrote it.
"""

from __future__ import annotations

import re

# (pattern in the simulator's message, the panel's words); applied in order
_REWORDINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (r"recover\('([^']+)'\) brings it back", r"Recover \1 to bring it back"),
        (r"; call heal\(\) first", "; click Heal first"),
        (
            r"until a follower is promoted \(promote\) or it recovers \(recover\)",
            "until you Promote a follower or Recover it",
        ),
        (r"; recover it, or use another node", "; Recover it, or pick another node"),
        (r": it is down; recover it first", ": it is down; Recover it first"),
        (r"partition\(\) needs at least one group of node names", "pick the nodes to cut off"),
    )
)
_QUOTED_NAME = re.compile(r"'([^'\n]{1,60})'")


def panel_words(message: str) -> str:
    """A refusal from the simulator in the panel's words: buttons, not Python calls; names unquoted."""
    for pattern, words in _REWORDINGS:
        message = pattern.sub(words, message)
    return _QUOTED_NAME.sub(r"\1", message)


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 entry``, ``2 entries``: a count with its noun in the right number."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def seconds(t: float) -> str:
    """A time as the panel writes it everywhere (message line and status alike): ``3.0 s``, ``0.15 s``,
    ``0.005 s``: to the millisecond, without trailing zeros past the first decimal."""
    text = f"{t:.3f}".rstrip("0")
    return (text + "0" if text.endswith(".") else text) + " s"


__all__ = ["panel_words", "plural", "seconds"]
