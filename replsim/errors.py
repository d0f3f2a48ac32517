"""Errors raised by replsim's public API: each names what was wrong and what is allowed."""

from __future__ import annotations


class ReplsimError(Exception):
    """Base class of every error replsim raises on purpose."""


class ConfigError(ReplsimError, ValueError):
    """A parameter is out of range (a negative delay, a loss rate above 1, ...)."""


class UnknownNodeError(ReplsimError, KeyError):
    """A node name that is not in the cluster."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownKeyError(ReplsimError, KeyError):
    """A read of a key that was never written to any node."""

    def __str__(self) -> str:
        return str(self.args[0])


class NodeStateError(ReplsimError):
    """An action that does not fit the node's state (crash a crashed node, ...)."""


class NodeDownError(ReplsimError):
    """The node a client talked to has crashed and does not answer."""


class ReadOnlyError(ReplsimError):
    """A write sent to a follower, modelled on PostgreSQL's SQLSTATE 25006."""

    sqlstate = "25006"


class NetworkError(ReplsimError):
    """A partition, cut or heal that does not fit the network's state."""


class RunLimitError(ReplsimError):
    """A run would not end: too many events in one call, or time beyond the simulation's horizon."""


class StoreError(ReplsimError):
    """A node's store refused a change (bad SQL, a page format it cannot read, ...)."""
