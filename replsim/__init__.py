"""replsim: a small, fast, deterministic simulator of leader-follower database replication."""

from .clients import Client, Writer
from .cluster import Cluster
from .engine import Message, Network, Simulator, Timer
from .errors import (
    ConfigError,
    NetworkError,
    NodeDownError,
    NodeStateError,
    ReadOnlyError,
    ReplsimError,
    RunLimitError,
    StoreError,
    UnknownKeyError,
    UnknownNodeError,
)
from .history import Event, History, Op
from .log import Compacted, Entry, Log
from .node import Node
from .stores import KVStore, Store

__all__ = [
    "Cluster",
    "Client",
    "Writer",
    "Simulator",
    "Timer",
    "Network",
    "Message",
    "Node",
    "Log",
    "Entry",
    "KVStore",
    "Store",
    "History",
    "Op",
    "Event",
    "ReplsimError",
    "ConfigError",
    "UnknownNodeError",
    "UnknownKeyError",
    "NodeStateError",
    "NodeDownError",
    "ReadOnlyError",
    "NetworkError",
    "RunLimitError",
    "StoreError",
    "Compacted",
]
__version__ = "0.3.0"
