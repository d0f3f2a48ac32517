"""Lesson 3's comparison: one workload shipped by statement, row or page, and what each costs and leaves.

The mechanics are in ``replsim.stores.shipping`` (what the log holds) and
``replsim.stores.sqlite`` (a real SQLite database per node, ``sql_store``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..cluster import Cluster
from ..history import Op
from ..stores.shipping import method_named
from ..stores.sqlite import sql_store
from .shop import SHOP_SCHEMA, run_statements


# --- one workload, shipped one way -----------------------------------------------------
@dataclass
class Shipped:
    """A workload replicated one way: the cluster it ran on, and what it cost and left behind."""

    name: str
    cluster: Cluster
    ops: list[Op]

    @property
    def entries(self) -> list[Any]:
        """The log entry of each statement (None for one the leader refused)."""
        log = self.cluster.node(self.cluster.leader).log
        return [log[o.lsn] if o.lsn is not None else None for o in self.ops]

    @property
    def sizes(self) -> list[int]:
        """Bytes shipped to each follower for each statement (0 for a refused one)."""
        return [e.size if e is not None else 0 for e in self.entries]

    @property
    def total(self) -> int:
        """Bytes shipped to each follower for the whole workload."""
        return sum(self.sizes)

    @property
    def divergent_rows(self) -> int:
        """Rows (by table and primary key) that are not the same on every node, from their databases."""
        return len(self.cluster.divergence())

    def __repr__(self) -> str:
        return f"Shipped({self.name!r}: {self.total:,} bytes, {self.divergent_rows} divergent rows)"


def ship(
    statements: Iterable[str],
    method: str = "row",
    *,
    fix: str | None = None,
    schema: str | None = None,
    followers: Iterable[str] = ("replica-1", "replica-2"),
    delay: float = 0.010,
    seed: int = 3,
    every: float = 0.1,
    page_size: int | dict[str, int] = 4096,
    reverse_unordered_selects: bool | Iterable[str] = ("replica-2",),
) -> Shipped:
    """Run ``statements`` on a fresh cluster ("primary" and ``followers``) replicated by ``method``.

    By default the shop's tables (``SHOP_SCHEMA``), links of 10 ms, one statement every 0.1 s,
    and replica-2 storing its rows in another order (``reverse_unordered_selects``).
    """
    store = sql_store(
        method,
        schema=SHOP_SCHEMA if schema is None else schema,
        fix=fix,
        page_size=page_size,
        reverse_unordered_selects=reverse_unordered_selects,
    )
    cluster = Cluster("primary", list(followers), delay=delay, seed=seed, store=store)
    ops = run_statements(cluster, list(statements), every)
    return Shipped(method_named(method, fix).name, cluster, ops)


__all__ = ["Shipped", "ship", "sql_store"]
