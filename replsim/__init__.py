"""replsim: a small, fast, deterministic simulator of leader-follower database replication."""

from .cluster import Cluster, Writer
from .errors import (
    ConfigError,
    NetworkError,
    NodeDownError,
    NodeStateError,
    ReadOnlyError,
    ReplsimError,
    UnknownKeyError,
    UnknownNodeError,
)
from .history import Event, History, Op
from .log import Entry, Log
from .network import Network
from .node import Node
from .sim import Simulator

__all__ = [
    "Cluster",
    "Writer",
    "Simulator",
    "Network",
    "Node",
    "Log",
    "Entry",
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
]
__version__ = "0.1.0"
