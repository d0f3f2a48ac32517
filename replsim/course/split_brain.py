"""Lesson 6's scenario: a leader in the east, two followers in the west, a partition between them."""

from __future__ import annotations

import functools

from ..cluster import Cluster
from ..errors import ConfigError
from ..failover import build

EAST, WEST = ["east", "app-east"], ["west-1", "west-2", "app-west"]
"""The two sides of lesson 6's partition: nodes and the clients next to them."""


def split_brain(
    design: str = "naive", *, seed: int = 8, rate: float = 5.0, commit: str | None = None
) -> Cluster:
    """Lesson 6's cluster: ``east`` leads ``west-1`` and ``west-2`` (10 ms apart, 0.5 ms jitter).

    Two clients on the network write ``rate`` times a second (0.5 s timeout):
    ``app-east``, next to ``east``, always to ``east`` (its connections stay
    there); ``app-west``, next to ``west-2``, to the leader of the moment. The
    monitor (naive and fencing designs) runs on ``west-2``. ``EAST`` and ``WEST``
    name the two sides for ``partition``. ``commit`` as in :func:`attach`.
    ``rebuild(cluster, design)`` makes the same scenario with another design.
    """
    timeout = 1.0 if design in ("naive", "fencing") else (0.15, 0.30)
    names = ["east", "west-1", "west-2"]
    c = build(design, names, delay=0.010, jitter=0.0005, seed=seed, timeout=timeout, commit=commit)
    c.client("app-east", near="east", timeout=0.5).start_writes(rate, keys=["east-orders"], node="east")
    c.client("app-west", near="west-2", timeout=0.5).start_writes(rate, keys=["west-orders"])
    c.recipe = functools.partial(split_brain, seed=seed, rate=rate, commit=commit)
    return c


def rebuild(cluster: Cluster, design: str) -> Cluster:
    """A fresh cluster made the way ``cluster`` was (``cluster.recipe``), with another design."""
    recipe = getattr(cluster, "recipe", None)
    if recipe is None:
        raise ConfigError("this cluster was not made by a recipe (like split_brain); make a new one by hand")
    return recipe(design)


__all__ = ["EAST", "WEST", "split_brain", "rebuild"]
