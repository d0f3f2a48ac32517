"""Automatic failover: who promotes a follower when the leader stops answering, and what stops the old one.

Four designs (``DESIGNS``), from none to Raft:

- ``"operator"``: nothing automatic; a person calls ``promote`` and ``rejoin``.
- ``"naive"``: a :class:`FailoverMonitor` asks every node "are you there?" and,
  when the leader has not answered for ``timeout`` seconds, promotes the most
  up-to-date follower it can reach. Nothing fences the old leader: it never
  steps down, even when it hears of the newer epoch (``Node.fencing = False``),
  and goes on accepting writes from the clients that still reach it. PostgreSQL
  behaves like this: it does not detect a dead primary itself, and a tool that
  promotes a standby does not stop the old primary.
- ``"fencing"``: the same monitor, and epochs fence: a deposed leader steps down
  the moment it hears from any node of a newer epoch, and the monitor repoints it
  to the new leader (its own writes are then discarded). Until it hears, it
  still accepts writes.
- ``"quorum"``: no monitor; the nodes elect their leader by majority vote and a
  write is acknowledged once a majority holds it (``replsim.node.election``).

``attach(cluster, design)`` sets a design up on a cluster; ``build`` makes a
cluster and attaches one. Lesson 6's scenario is ``replsim.course.split_brain``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .cluster import Cluster
from .engine.sim import check_time
from .errors import ConfigError, ReplsimError
from .node import LEADER, Node
from .node.election import COMMITS, Elections
from .node.messages import HEADER, Ping
from .node.quorum import majority

DESIGNS = ("operator", "naive", "fencing", "quorum")
"""Failover designs, from none (an operator) to majority elections (see the module's docstring)."""

DESIGN_NAMES = {
    "operator": "an operator promotes by hand",
    "naive": "naive failover (a monitor, no fencing)",
    "fencing": "failover monitor + epochs with fencing",
    "quorum": "majority elections + majority commit (Raft)",
}


class Seen(NamedTuple):
    """What a node last told the monitor: when, its role, epoch, log position and whom it follows."""

    time: float
    role: str
    epoch: int
    lsn: int
    last_epoch: int
    leader: str | None


def most_up_to_date(choices: dict[str, Seen], names: list[str]) -> str | None:
    """The promotion rule: whom to promote, among the followers the monitor reached in time.

    ``choices``: each reachable follower's last answer (``Seen``: its epoch, position and the epoch
    of its last entry); ``names``: every node, in the cluster's order. This rule takes the most up
    to date log (the latest last epoch, then the longest), the first in ``names`` on a tie; None
    promotes nobody this round. A learner's rule can replace it (``FailoverMonitor(promotion=...)``);
    whether the old leader is fenced is the monitor's ``fencing``.
    """
    order = {n: i for i, n in enumerate(names)}
    return max(choices, key=lambda n: (choices[n].last_epoch, choices[n].lsn, -order[n]), default=None)


class FailoverMonitor:
    """A failover tool running on node ``on`` (so a partition cuts it off with that node).

    Every ``interval`` seconds it pings every node; a node that is up answers
    with its role, epoch and position. When the leader (``cluster.leader``) has
    not answered as leader for ``timeout`` seconds, it promotes the follower it
    heard from with the most up-to-date log (``Cluster.promote``, a new epoch)
    and repoints the followers it can reach. Later, any follower it can reach
    that follows someone else, or has not yet heard from the leader in its epoch,
    is repointed too (``Cluster.rejoin``). It never
    touches a node that answers as a leader: with ``fencing`` off nothing else
    does either, and that node leads on. ``promotion``: the promotion rule
    (default :func:`most_up_to_date`).
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        on: str | None = None,
        timeout: float = 1.0,
        interval: float = 0.25,
        fencing: bool = True,
        promotion: Callable[[dict[str, Seen], list[str]], str | None] | None = None,
    ) -> None:
        if not isinstance(cluster, Cluster):
            raise ConfigError(f"a FailoverMonitor needs a Cluster, got {cluster!r}")
        promotion = most_up_to_date if promotion is None else promotion
        if cluster.failover is not None:
            raise ConfigError(f"the cluster already has an automatic failover: {cluster.failover!r}")
        on = cluster.names[-1] if on is None else on
        cluster.node(on)
        self.interval = check_time("interval", interval, positive=True)
        self.timeout = check_time("timeout", timeout, positive=True)
        if self.timeout < 2 * self.interval:
            raise ConfigError(
                f"timeout ({timeout!r} s) must be at least two ping intervals ({2 * self.interval:g} s)"
            )
        if not isinstance(fencing, bool):
            raise ConfigError(f"fencing must be True or False, got {fencing!r}")
        if not callable(promotion):
            raise ConfigError(
                f"promotion must be a function (choices, names) -> name or None, got {promotion!r}"
            )
        self.promotion = promotion
        self.cluster = cluster
        self.on = on
        self.fencing = fencing
        self.seen: dict[str, Seen] = {}
        self.since = cluster.now  # when the monitor (re)started watching
        self.promotions = 0
        self._acted = -1.0  # when it last promoted or repointed: older answers do not show the result
        for node in cluster.nodes.values():
            node.fencing = fencing
        host = cluster.nodes[on]
        host.monitor = self
        host._wire()
        self.timer = cluster.sim.timer(self._tick)
        self.timer.set(self.interval)
        cluster.failover = self

    def __repr__(self) -> str:
        fence = "with" if self.fencing else "without"
        return f"FailoverMonitor(on {self.on!r}, timeout {self.timeout:g} s, {fence} fencing)"

    @property
    def design(self) -> str:
        """The failover design's name, as in ``DESIGNS``."""
        return "fencing" if self.fencing else "naive"

    def on_pong(self, src: str, role: str, epoch: int, lsn: int, last_epoch: int, leader: str | None) -> None:
        """A node answered a ping."""
        host = self.cluster.nodes[self.on]
        if not host.up:
            host.host.dead_letter(self.on, "pong", src)
            return
        self.seen[src] = Seen(self.cluster.now, role, epoch, lsn, last_epoch, leader)

    def _tick(self) -> None:
        c = self.cluster
        now = c.now
        self.timer.set(self.interval)
        host = c.nodes[self.on]
        if not host.up:  # the monitor's own machine is down: it forgets, and starts again after
            self.seen.clear()
            self.since = now
            return
        self.seen[self.on] = _state(host, now)
        others = [n for n in c.names if n != self.on]
        c.network.broadcast(others, "ping", Ping(self.on), HEADER)
        if now - self.since >= self.timeout:
            self._decide(now)

    def _decide(self, now: float) -> None:
        c = self.cluster
        fresh = {n: s for n, s in self.seen.items() if now - s.time <= self.timeout}
        lead = c.leader
        alive = lead in fresh and fresh[lead].role == LEADER
        if not alive:
            choices = {n: s for n, s in fresh.items() if n != lead and s.role != LEADER}
            best = self.promotion(choices, c.names) if choices else None
            if best is None:
                return
            if best not in choices:
                raise ConfigError(f"the promotion rule chose {best!r}, not one of {sorted(choices)}")
            quiet = now - self.seen[lead].time if lead in self.seen else now - self.since
            try:
                c.history.event(
                    now,
                    "monitor",
                    self.on,
                    f"no answer as leader from {lead!r} for {quiet:.2f} s: promotes {best!r} "
                    f"(lsn {fresh[best].lsn}, "
                    + (
                        "the most up to date it can reach)"
                        if self.promotion is most_up_to_date
                        else "its rule's choice)"
                    ),
                )
                c.promote(best, followers=[n for n in choices if n != best])
                self.promotions += 1
                self._acted = now
            except ReplsimError:  # a node it heard from has crashed since: try again next round
                pass
            return
        acted = self._acted
        epoch = fresh[lead].epoch
        for n, s in fresh.items():
            # a follower of another node, or of no one, or one that has not heard from the leader in its epoch
            stray = s.leader != lead or s.epoch < epoch
            if n != lead and s.role != LEADER and stray and s.time > acted:
                try:
                    c.rejoin(n)
                    self._acted = now
                except ReplsimError:
                    pass


def _state(node: Node, now: float) -> Seen:
    return Seen(now, node.role, node.epoch, node.lsn, node.log.last_epoch, node.leader)


def attach(
    cluster: Cluster,
    design: str,
    *,
    timeout: float | tuple[float, float] | None = None,
    on: str | None = None,
    commit: str | None = None,
) -> FailoverMonitor | Elections | None:
    """Set ``design`` up on ``cluster`` and return what runs it (None for ``"operator"``).

    ``timeout``: for the monitor designs, seconds of silence before it promotes
    (default 1 s); for ``"quorum"``, the election timeout's range (default
    0.15-0.30 s). ``on``: the node the monitor runs on (default: the last one).
    ``commit``: ``"majority"`` (a write is acknowledged once a majority of the nodes
    holds it) or ``"async"``; by default majority for ``"quorum"``, the cluster's
    own setting otherwise.
    """
    if design not in DESIGNS:
        raise ConfigError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
    if commit is not None and commit not in COMMITS:
        raise ConfigError(f"commit must be one of {', '.join(COMMITS)}, got {commit!r}")
    if design == "operator":
        if timeout is not None or on is not None:
            raise ConfigError("the operator design has no timeout and no monitor")
    elif design == "quorum":
        if on is not None:
            raise ConfigError("with majority elections there is no monitor to place: leave out on=")
        timeout = (0.15, 0.30) if timeout is None else timeout
        return Elections(cluster, timeout, commit=commit or "majority")  # type: ignore[arg-type]
    elif timeout is not None and isinstance(timeout, (tuple, list)):
        raise ConfigError(f"the monitor's timeout is one number of seconds, got {timeout!r}")
    if commit == "majority":
        k = majority(len(cluster.nodes)) - 1  # followers: the leader is one of the majority
        cluster.sync_replicas = k
        for node in cluster.nodes.values():
            node.sync_replicas = k
    if design == "operator":
        return None
    fencing = design == "fencing"
    return FailoverMonitor(cluster, on=on, timeout=1.0 if timeout is None else timeout, fencing=fencing)


def build(design: str, names: Sequence[str] = ("n1", "n2", "n3"), **settings: Any) -> Cluster:
    """A cluster of ``names`` (the first leads) with ``design`` attached.

    ``settings``: ``Cluster`` settings (``delay``, ``seed``, ...; ``heartbeat`` 0.05 s by default),
    plus ``timeout``, ``on`` and ``commit`` for :func:`attach`.
    """
    names = list(names)
    if len(names) < 2:
        raise ConfigError(f"a failover needs at least two nodes, got {names!r}")
    timeout = settings.pop("timeout", None)
    on = settings.pop("on", None)
    commit = settings.pop("commit", None)
    settings.setdefault("heartbeat", 0.05)
    c = Cluster(leader=names[0], followers=names[1:], **settings)
    attach(c, design, timeout=timeout, on=on, commit=commit)
    return c


def design_of(cluster: Cluster) -> str:
    """The failover design running on ``cluster``."""
    return "operator" if cluster.failover is None else cluster.failover.design


__all__ = [
    "DESIGNS",
    "DESIGN_NAMES",
    "FailoverMonitor",
    "most_up_to_date",
    "Seen",
    "attach",
    "build",
    "design_of",
]
