"""The port a client talks through: what it needs from the cluster, and nothing more.

Clients (``client.py``, ``workload.py``, ``policies.py``) are written against these
protocols, not against :class:`~replsim.cluster.Cluster`, so the cluster may import the
clients without the clients importing the cluster back.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..engine import Network, Simulator
from ..history import History, Op


class ClusterPort(Protocol):
    """What a client uses: time and randomness, the network, the record, and who leads."""

    sim: Simulator
    network: Network
    history: History
    _written: set  # keys ever written (a read of a key never written is refused)

    @property
    def now(self) -> float: ...
    @property
    def leader(self) -> str: ...
    @property
    def names(self) -> list[str]: ...
    def node(self, name: str) -> Any: ...
    def write(self, key: Any, value: Any, node: str | None = None) -> Op: ...


class WritePort(Protocol):
    """Where a writer sends its writes: a client on the network (``client.Client``)."""

    def write(self, key: Any, value: Any, node: str | None = None) -> Op: ...


__all__ = ["ClusterPort", "WritePort"]
