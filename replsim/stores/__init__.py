"""What a node holds: a store built only by applying log entries in order.

A store is pluggable: the key-value store is the default; any object with the
methods of :class:`Store` can take its place (``Cluster(store=...)``).
"""

from .base import Store
from .kv import KVStore

__all__ = ["Store", "KVStore"]
