"""A database node: replication (streaming, catch-up, reconciliation, fencing, sync commit)."""

from .replication import CANDIDATE, FOLLOWER, HEADER, LEADER, Host, Node

__all__ = ["Node", "Host", "LEADER", "FOLLOWER", "CANDIDATE", "HEADER"]
