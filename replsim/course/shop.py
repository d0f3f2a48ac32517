"""A small shop on SQL: its tables and a day's statements, the workload of lesson 3.

The statements are ordinary SQL a shop's application might send: INSERTs, ``UPDATE ... WHERE``,
a DELETE, one statement that touches all 1,000 items, and the non-deterministic kinds that
trouble statement shipping: ``random()``, ``randomblob()``, ``datetime('now')``, and a ``LIMIT``
with no ``ORDER BY`` (which rows it picks is up to the database).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import ConfigError, ReplsimError

if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..history import Op

SHOP_SCHEMA = """\
CREATE TABLE items (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL,
    price  INTEGER NOT NULL,   -- in cents
    stock  INTEGER NOT NULL
);
CREATE TABLE orders (
    id         INTEGER PRIMARY KEY,
    item       INTEGER NOT NULL,
    qty        INTEGER NOT NULL,
    placed_at  TEXT NOT NULL,
    coupon     TEXT,
    status     TEXT NOT NULL DEFAULT 'new'
);
"""

SHOP_DAY: list[tuple[str, str]] = [
    (
        "stock 1,000 items",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
        "INSERT INTO items SELECT i, 'item ' || i, 100 + i % 900, 20 FROM n",
    ),
    ("order item 17", "INSERT INTO orders (item, qty, placed_at) VALUES (17, 2, datetime('now', 'subsec'))"),
    ("order item 99", "INSERT INTO orders (item, qty, placed_at) VALUES (99, 1, datetime('now', 'subsec'))"),
    (
        "order with a coupon",
        "INSERT INTO orders (item, qty, placed_at, coupon) "
        "VALUES (42, 1, datetime('now', 'subsec'), hex(randomblob(4)))",
    ),
    ("order item 7", "INSERT INTO orders (item, qty, placed_at) VALUES (7, 3, datetime('now', 'subsec'))"),
    ("prices +10% (1,000 rows)", "UPDATE items SET price = price * 11 / 10"),
    ("sell 2 of item 17 (1 row)", "UPDATE items SET stock = stock - 2 WHERE id = 17"),
    ("random discount on item 42", "UPDATE items SET price = price - abs(random() % 50) WHERE id = 42"),
    ("cancel the order of item 99", "UPDATE orders SET status = 'cancelled' WHERE item = 99"),
    ("delete cancelled orders", "DELETE FROM orders WHERE status = 'cancelled'"),
    (
        "retire any 3 items (LIMIT, no ORDER BY)",
        "DELETE FROM items WHERE id IN (SELECT id FROM items WHERE stock > 0 LIMIT 3)",
    ),
    (
        "prize for a random order",
        "UPDATE orders SET status = 'prize' WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT 1)",
    ),
]
"""The shop's day: (what it does, the SQL), in order."""


def run_statements(cluster: Cluster, statements: Sequence[str], every: float = 0.1) -> list[Op]:
    """Send each statement to the leader, ``every`` seconds apart, then let ``every`` more pass.

    A statement the leader refuses (bad SQL: SQLite's own error) is recorded as a failed
    write and the others go on. Returns the operations, in order.
    """
    if isinstance(statements, str) or not all(isinstance(s, str) and s.strip() for s in statements):
        raise ConfigError("statements must be a list of SQL texts (non-empty strings)")
    if isinstance(every, bool) or not isinstance(every, (int, float)) or not 0 < every <= 60:
        raise ConfigError(f"every must be a number of seconds in (0, 60], got {every!r}")
    ops = []
    for sql in statements:
        try:
            ops.append(cluster.execute(sql))
        except ReplsimError:
            ops.append(cluster.history.ops[-1])
        cluster.advance(every)
    return ops
