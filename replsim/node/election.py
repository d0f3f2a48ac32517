"""Elections by majority vote, Raft style: terms, one vote per term, up-to-date voters, random timeouts.

``Elections(cluster)`` gives every node of a cluster an :class:`Elector`, and from
then on nobody promotes anyone by hand:

- a follower that hears no leader for its *election timeout* (drawn at random
  from ``timeout = (low, high)`` seconds, from the node's own random stream)
  stands as a *candidate*: it starts a new term (the cluster's epoch), votes for
  itself and asks every other node for its vote;
- a node votes at most once per term, and only for a candidate whose log is at
  least as up to date as its own (a later last epoch, or the same epoch and at
  least as long), so a candidate that lacks a write held by a majority cannot
  win;
- a candidate that gathers the votes of a majority (itself included) leads that
  term; a candidate that hears from the leader of its term, or of a later one,
  becomes its follower; when nobody wins (a *split vote*) the candidates time out
  again, each after a new random timeout, and stand in a new term;
- ``check_quorum``: a leader that has not heard from a majority (itself
  included) for one election timeout steps down, so a leader cut off in a
  minority stops accepting writes on its own;
- ``commit="majority"``: a write is acknowledged once a majority holds it (the
  leader and ``n // 2`` followers); ``"async"`` keeps the cluster's setting.

The node's own replication (``replication.py``) is unchanged: the elector is a
part of the node (``node.elector``), which the node tells of every append and
acknowledgement it receives, and which answers two messages of its own,
``vote(term, last_lsn, last_epoch)`` and ``voted(term, granted)``. Whether a
vote is granted is one rule, :func:`grant_vote`. A node's term and its vote
survive a crash.
Source: Ongaro and Ousterhout, *In Search of an Understandable Consensus
Algorithm* (USENIX ATC 2014), sections 5.2 and 5.4; section 9.3 measures
election times against the timeout range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..engine.sim import check_time
from ..errors import ConfigError
from .messages import HEADER, Vote, Voted
from .quorum import majority
from .replication import CANDIDATE, FOLLOWER, LEADER, Node

if TYPE_CHECKING:
    from ..cluster import Cluster

COMMITS = ("majority", "async")


class Round(NamedTuple):
    """One candidacy: who stood, in which term, when, the votes it got, and whether it won."""

    term: int
    candidate: str
    start: float
    votes: tuple[str, ...]
    won: float | None  # when it won, or None


class Elections:
    """Raft-style elections on every node of ``cluster`` (see the module's docstring).

    ``timeout``: the election timeout's range in seconds, ``(low, high)``, each
    node drawing from it at random (``low == high``: no randomness). It should
    be well above the leader's ``heartbeat`` interval and the network's round
    trip (Raft: broadcastTime << electionTimeout << MTBF; its paper uses
    150-300 ms; MongoDB's default is 10 s). ``vote``: the vote rule, a function with
    :func:`grant_vote`'s signature (default :func:`grant_vote`; ``replsim.judge`` puts a
    learner's rule here).
    """

    def __init__(
        self,
        cluster: Cluster,
        timeout: tuple[float, float] = (0.15, 0.30),
        *,
        commit: str = "majority",
        check_quorum: bool = True,
        vote: Callable[..., bool] | None = None,
    ) -> None:
        if not all(hasattr(cluster, a) for a in ("nodes", "failover", "heartbeat_interval", "sync_replicas")):
            raise ConfigError(f"Elections need a Cluster, got {cluster!r}")
        if cluster.failover is not None:
            raise ConfigError(f"the cluster already has an automatic failover: {cluster.failover!r}")
        low, high = check_timeouts(timeout)
        if commit not in COMMITS:
            raise ConfigError(f"commit must be one of {', '.join(COMMITS)}, got {commit!r}")
        hb = cluster.heartbeat_interval
        if hb is None or hb >= low:
            raise ConfigError(
                f"the leader's heartbeat ({hb!r} s) must be shorter than the lowest election timeout "
                f"({low:g} s): otherwise followers time out while the leader is fine"
            )
        chosen = getattr(cluster, "_commit", None)
        if commit == "majority" and chosen is not None:
            raise ConfigError(
                f"the cluster already waits for {chosen.describe()}; elections with commit='majority' "
                "set their own rule. Pass commit='async' to keep the cluster's policy"
            )
        if not isinstance(check_quorum, bool):
            raise ConfigError(f"check_quorum must be True or False, got {check_quorum!r}")
        if vote is not None and not callable(vote):
            raise ConfigError(f"vote must be a function with grant_vote's signature, got {vote!r}")
        self.vote: Callable[..., bool] = grant_vote if vote is None else vote
        """The vote rule every elector asks (:func:`grant_vote`, or a learner's replacement)."""
        self.cluster = cluster
        self.timeout = (low, high)
        self.commit = commit
        self.check_quorum = check_quorum
        self.majority = majority(len(cluster.nodes))
        self.rounds: list[Round] = []  # every candidacy, in order
        if commit == "majority":
            cluster.sync_replicas = self.majority - 1
            for node in cluster.nodes.values():
                node.sync_replicas = self.majority - 1
        self.electors = {name: Elector(self, node) for name, node in cluster.nodes.items()}
        cluster.failover = self

    def __repr__(self) -> str:
        low, high = self.timeout
        return f"Elections({len(self.electors)} nodes, timeout {low:g}-{high:g} s, commit={self.commit})"

    @property
    def design(self) -> str:
        """The failover design's name, as in ``replsim.failover.DESIGNS``."""
        return "quorum"

    def split_votes(self, since: float = 0.0) -> int:
        """Terms started at or after ``since`` in which nobody won."""
        terms: dict[int, bool] = {}
        for r in self.rounds:
            if r.start >= since:
                terms[r.term] = terms.get(r.term, False) or r.won is not None
        return sum(1 for won in terms.values() if not won)

    def first_win(self, since: float = 0.0) -> Round | None:
        """The first candidacy won at or after ``since``."""
        wins = [r for r in self.rounds if r.won is not None and r.won >= since]
        return min(wins, key=lambda r: r.won) if wins else None  # type: ignore[arg-type, return-value]


def check_timeouts(timeout: Any) -> tuple[float, float]:
    """``(low, high)`` election timeouts in seconds, or a ConfigError saying what is allowed."""
    if not isinstance(timeout, (tuple, list)) or len(timeout) != 2:
        raise ConfigError(f"timeout must be (low, high) in seconds, got {timeout!r}")
    low = check_time("the lowest election timeout", timeout[0], positive=True)
    high = check_time("the highest election timeout", timeout[1], positive=True)
    if high < low:
        raise ConfigError(f"timeout must be (low, high) with low <= high, got {timeout!r}")
    if high > 3600:
        raise ConfigError(f"election timeouts must be at most 3600 s, got {timeout!r}")
    return low, high


def grant_vote(
    candidate: str,
    term: int,
    last_lsn: int,
    last_epoch: int,
    *,
    role: str,
    voted: tuple[int, str] | None,
    log: tuple[int, int],
) -> bool:
    """The vote rule: may a voter, now in ``term``, vote for ``candidate`` standing in ``term``?

    ``last_lsn``, ``last_epoch``: the candidate's last log position and the epoch that wrote it;
    ``role``: the voter's role; ``voted``: whom it voted for already, ``(term, name)`` or None;
    ``log``: the voter's own (last lsn, last epoch). Raft: one vote per term (a node voting again
    for the same candidate is fine), and only for a log at least as up to date as the voter's
    (a later last epoch, or the same and at least as long). A learner's rule can replace this one.
    """
    return (
        role == FOLLOWER
        and (voted is None or voted[0] < term or voted[1] == candidate)
        and (last_epoch, last_lsn) >= (log[1], log[0])
    )


class Elector:
    """One node's part in elections: its vote, its election timer, and the votes it gathers."""

    def __init__(self, elections: Elections, node: Node) -> None:
        self.elections = elections
        self.node = node
        self.sim = node.sim
        self.peers = [n for n in elections.cluster.nodes if n != node.name]
        self.rng = self.sim.stream(f"election:{node.name}")
        self.voted: tuple[int, str] | None = None  # (term, candidate): durable
        self.votes: set[str] = set()  # votes for this node in its current candidacy
        self.heard = self.sim.now  # when it last heard from a leader of its term (or granted a vote)
        self.acked: dict[str, float] = {}  # leader: when each follower last answered in this term
        self.leading_since = self.sim.now
        self.round: int | None = None  # index in elections.rounds of this node's current candidacy
        self.timeout = self._draw()
        self.timer = self.sim.timer(self._tick)
        self.timer.set(self.timeout)
        node.elector = self
        node._wire()

    def __repr__(self) -> str:
        return f"Elector({self.node.name!r}, voted={self.voted}, timeout={self.timeout:.3f})"

    def _draw(self) -> float:
        low, high = self.elections.timeout
        return low if low == high else self.rng.uniform(low, high)

    # --- messages ---------------------------------------------------------
    def heard_append(self, src: str, epoch: int) -> None:
        """Any append (or heartbeat) from a leader of this term or a later one: it lives; follow it.
        (The node hears it before it handles the append.)"""
        node = self.node
        if epoch >= node.epoch and node.up:
            self.heard = self.sim.now
            if node.role == CANDIDATE and epoch == node.epoch:  # another won this term
                node._become_follower(src)
                node._changed()

    def heard_ack(self, src: str, epoch: int) -> None:
        """A follower answered (an acknowledgement, or a confirmation of what it received): note it
        (for check-quorum), before the node counts it."""
        if epoch == self.node.epoch:
            self.acked[src] = self.sim.now

    def on_vote(self, src: str, term: int, last_lsn: int, last_epoch: int) -> None:
        """A candidate asks for this node's vote in ``term``."""
        node = self.node
        if not node.up:
            node.host.dead_letter(node.name, "vote", src)
            return
        if term > node.epoch:
            self._new_term(term, f"{src!r} stands for term {term}")
        log = node.log
        granted = term == node.epoch and self.elections.vote(
            src,
            term,
            last_lsn,
            last_epoch,
            role=node.role,
            voted=self.voted,
            log=(log.last_lsn, log.last_epoch),
        )
        if granted:
            self.voted = (term, src)
            self.heard = self.sim.now  # a node that just voted waits a full timeout before standing
        node.send(src, "voted", Voted(node.name, node.epoch, granted), HEADER)

    def on_voted(self, src: str, term: int, granted: bool) -> None:
        """A voter answers this node's request for a vote."""
        node = self.node
        if not node.up:
            node.host.dead_letter(node.name, "voted", src)
            return
        if term > node.epoch:
            self._new_term(term, f"{src!r} is in term {term}")
            return
        if not granted or node.role != CANDIDATE or term != node.epoch:
            return
        self.votes.add(src)
        self._record(votes=True)
        if len(self.votes) >= self.elections.majority:
            self._win()

    # --- time -------------------------------------------------------------
    def _tick(self) -> None:
        node = self.node
        now = self.sim.now
        if not node.up:  # a crashed node does nothing; after it restarts it waits a full timeout
            self.heard = self.leading_since = now
            self.acked.clear()
            self.timer.set(self.timeout)
            return
        if node.role == LEADER:
            self._check_quorum(now)
            return
        due = self.heard + self.timeout
        if now < due:
            self.timer.set(due - now)
        else:
            self._stand()

    def _check_quorum(self, now: float) -> None:
        low = self.elections.timeout[0]
        if self.elections.check_quorum and now - self.leading_since >= low:
            heard = 1 + sum(1 for f in self.peers if self.acked.get(f, -1.0) >= now - low)
            if heard < self.elections.majority:
                node = self.node
                node._abort_pending(
                    f"{node.name!r} stepped down before a majority confirmed: outcome unknown"
                )
                node._become_follower(None)
                node._changed()
                node._event(
                    "step down",
                    f"{node.name!r} heard from {heard} of {len(self.peers) + 1} nodes in {low:g} s: "
                    f"no majority, so it stops leading term {node.epoch}",
                )
                self.heard = now
                self.timeout = self._draw()
                self.timer.set(self.timeout)
                return
        self.heard = now  # a leader hears itself: if it is deposed, it waits a full timeout to stand
        self.timer.set(low)

    # --- becoming a candidate, a leader, a follower ----------------------------
    def _stand(self) -> None:
        """No leader heard for a whole timeout: start a new term and ask for votes."""
        node = self.node
        now = self.sim.now
        term = node.epoch + 1
        node._become_follower(None)
        node.role = CANDIDATE
        node.epoch = term
        node._changed()
        self.voted = (term, node.name)
        self.votes = {node.name}
        self.round = len(self.elections.rounds)
        self.elections.rounds.append(Round(term, node.name, now, (node.name,), None))
        node._event(
            "candidate",
            f"{node.name!r} heard from no leader for {now - self.heard:.3f} s: it stands for term {term}",
        )
        self.heard = now
        self.timeout = self._draw()
        self.timer.set(self.timeout)
        log = node.log
        node.broadcast(self.peers, "vote", Vote(node.name, term, log.last_lsn, log.last_epoch), HEADER)
        if len(self.votes) >= self.elections.majority:  # a cluster of one
            self._win()

    def _win(self) -> None:
        node = self.node
        now = self.sim.now
        term = node.epoch
        self._record(won=now)
        node.become_leader(term, self.peers)
        self.acked = {}
        self.leading_since = now
        votes = ", ".join(sorted(self.votes))
        node.host.appointed(
            node.name,
            "elected",
            f"{node.name!r} won term {term} with {len(self.votes)} of {len(self.peers) + 1} votes ({votes})",
        )
        self.timer.set(self.elections.timeout[0])

    def _new_term(self, term: int, why: str) -> None:
        """A later term exists: adopt it, and lead, stand or follow nobody until its leader is heard."""
        node = self.node
        if node.role == LEADER:
            node._step_down(term, why)
            self.heard = self.sim.now
        else:
            node._become_follower(None)
            node.epoch = term
            node._changed()
        self.timer.set(max(self.heard + self.timeout - self.sim.now, 0.0))

    def _record(self, votes: bool = False, won: float | None = None) -> None:
        if self.round is None:
            return
        r = self.elections.rounds[self.round]
        if votes:
            r = r._replace(votes=tuple(sorted(self.votes)))
        if won is not None:
            r = r._replace(won=won)
        self.elections.rounds[self.round] = r


def leaders_elected(rounds: Iterable[Round]) -> dict[int, list[str]]:
    """Term -> the candidates that won it (more than one would break Raft's election safety)."""
    out: dict[int, list[str]] = {}
    for r in rounds:
        if r.won is not None:
            out.setdefault(r.term, []).append(r.candidate)
    return out


__all__ = [
    "Elections",
    "Elector",
    "Round",
    "check_timeouts",
    "grant_vote",
    "leaders_elected",
    "COMMITS",
]
