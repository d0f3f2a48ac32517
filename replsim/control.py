"""An operator's actions on a cluster: promote a follower, repoint one, rebuild one, add one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .engine.network import _names
from .errors import ConfigError, NodeStateError
from .node import FOLLOWER, LEADER, Node

if TYPE_CHECKING:
    from .history import History


class Control:
    """The operator's side of :class:`~replsim.cluster.Cluster` (a part of it)."""

    nodes: dict[str, Node]
    clients: dict[str, Any]
    history: History
    _leader: str
    _epoch: int

    def promote(self, name: str, followers: Iterable[str] | None = None) -> None:
        """Make follower ``name`` the leader of a new epoch (a manual failover).

        ``followers``: the nodes an operator repoints to the new leader (default:
        every other node, the old leader included, as fencing would). Leave the
        old leader out to model a failover that cannot reach it.
        """
        node = self.node(name)
        if not node.up:
            raise NodeStateError(f"cannot promote {name!r}: it is down; recover it first")
        if node.role == LEADER:
            raise NodeStateError(f"{name!r} is already a leader (epoch {node.epoch})")
        if node.broken:
            raise NodeStateError(f"cannot promote {name!r}: {node.broken}; rebuild it first")
        if followers is None:
            others = [n for n in self.nodes if n != name]
        else:
            others = _names(followers, "followers")
            for n in others:
                self.node(n)
                if n == name:
                    raise ConfigError(f"{name!r} cannot follow itself")
            dup = sorted({n for n in others if others.count(n) > 1})
            if dup:
                raise ConfigError(f"followers must be named once each; repeated: {', '.join(map(repr, dup))}")
        self._epoch = max(self._epoch, *(n.epoch for n in self.nodes.values())) + 1
        for n in others:
            self.nodes[n].follow(name, self._epoch)
        node.become_leader(self._epoch, others)
        self._leader = name
        self.history.event(
            self.now, "promote", name, f"{name!r} leads epoch {self._epoch} from lsn {node.lsn}"
        )

    def _appointed(self, name: str, kind: str, detail: str) -> None:
        """``name`` became leader without ``promote`` (it won an election): clients now write to it,
        unless a later epoch already has a leader (a win of an older term, learned late)."""
        epoch = self.nodes[name].epoch
        if epoch < self._epoch:
            self.history.event(
                self.now, f"{kind} late", name, f"{detail}; epoch {self._epoch} already has a leader"
            )
            return
        self._epoch = epoch
        self._leader = name
        self.history.event(self.now, kind, name, detail)

    def _repoint(self, name: str) -> tuple[Node, Node]:
        node = self.node(name)
        if name == self._leader:
            raise NodeStateError(f"{name!r} is the current leader; this is for the other nodes")
        lead = self.nodes[self._leader]
        node.follow(self._leader, lead.epoch)
        if name not in lead.followers:
            lead.followers.append(name)
        return node, lead

    def rejoin(self, name: str) -> None:
        """Make ``name`` follow the current leader again, like ``pg_rewind`` and a restart as standby.

        Entries that only ``name`` holds (never replicated before a failover, or
        written while it wrongly led) are discarded when it reconciles.
        """
        node, _ = self._repoint(name)
        self.history.event(self.now, "rejoin", name, f"{name!r} follows {self._leader!r} again")
        node.catch_up()

    def rebuild(self, name: str) -> None:
        """Replace ``name``'s data by a fresh copy of the leader's (``pg_basebackup``), then stream to it.

        For a follower that cannot catch up (the leader removed the log it needs)
        or whose replication stopped with an error.
        """
        node = self.node(name)
        if not node.up:
            raise NodeStateError(f"cannot rebuild {name!r}: it is down; recover it first")
        lead = self.nodes[self._leader]
        if not lead.up:
            raise NodeStateError(f"cannot rebuild {name!r}: the leader {self._leader!r} is down")
        self._repoint(name)
        self.history.event(self.now, "rebuild", name, f"{name!r} gets a fresh copy of {self._leader!r}")
        lead.send_snapshot(name)

    def add_follower(self, name: str) -> None:
        """Add a new, empty node that follows the leader: it starts from a copy of the leader's data
        (a snapshot at the leader's position), then streams the log from there."""
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"node names must be non-empty strings, got {name!r}")
        if name in self.nodes or name in self.clients:
            raise ConfigError(f"the name {name!r} is taken; pick another for the new node")
        self._add_node(name, role=FOLLOWER)
        self.history.event(self.now, "add", name, f"{name!r} joins as a follower of {self._leader!r}")
        self._record_network()
        lead = self.nodes[self._leader]
        lead.followers.append(name)
        if lead.up:
            lead.send_snapshot(name)
