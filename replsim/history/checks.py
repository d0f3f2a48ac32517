"""Checks that find what went wrong: divergence between nodes, and the promises each mode makes.

Each ``check_*`` function returns a list of violations in words (empty: all good);
the fault-schedule suite (``replsim.faults``) runs them on finished histories.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .measures import values_at
from .record import OK, PENDING, History, Op, has_held

if TYPE_CHECKING:
    from ..node import Node


MISSING = "<missing>"


def _items(store: Any) -> dict[Any, Any]:
    """A store's content as a mapping (key-value stores: their table)."""
    data = getattr(store, "data", None)
    if isinstance(data, dict):
        return data
    return dict(store.items())


def divergence(
    nodes: dict[str, Node],
    names: list[str] | None = None,
    history: History | None = None,
    at: float | None = None,
) -> dict[Any, dict[str, Any]]:
    """Keys whose values differ between nodes: ``{key: {node: value or '<missing>'}}``, sorted by key.

    With ``at``, the nodes' data at that time, rebuilt from ``history`` (key-value stores).
    """
    names = list(nodes) if names is None else names
    if at is not None and not all(isinstance(getattr(nodes[n].store, "data", None), dict) for n in names):
        raise ConfigError(
            "divergence(at=...) rebuilds past data from key-value changes; these nodes hold another "
            "kind of store (SQL): compare them now, with divergence()"
        )
    if at is None:
        tables = {n: _items(nodes[n].store) for n in names}
    else:
        tables = {n: values_at(history, n, at) for n in names}  # type: ignore[arg-type]
    keys: set = set()
    for t in tables.values():
        keys.update(t)
    out: dict[Any, dict[str, Any]] = {}
    for k in sorted(keys, key=repr):
        vals = {n: t.get(k, MISSING) for n, t in tables.items()}
        if len({repr(v) for v in vals.values()}) > 1:
            out[k] = vals
    return out


# --- what each mode promises, checked on a finished (or running) cluster ------------
def check_log_matching(nodes: dict[str, Node]) -> list[str]:
    """Two logs that hold the same (epoch, LSN) hold one entry there and agree on all before it."""
    bad = []
    names = list(nodes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            la, lb = nodes[a].log, nodes[b].log
            lo, hi = max(la.base, lb.base) + 1, min(la.last_lsn, lb.last_lsn)
            if lo > hi:
                continue
            same = map(
                operator.is_, la.entries[lo - la.base - 1 : hi - la.base], lb.entries[lo - lb.base - 1 :]
            )
            if all(same):  # the common case: the very entries the leader wrote, in both
                continue
            first_diff = None
            for lsn in range(lo, hi + 1):
                ea, eb = la[lsn], lb[lsn]
                if ea.epoch == eb.epoch:
                    if ea != eb:
                        bad.append(f"{a} and {b} hold different entries at lsn {lsn} of epoch {ea.epoch}")
                        break
                    if first_diff is not None:
                        bad.append(
                            f"{a} and {b} agree at lsn {lsn} (epoch {ea.epoch}) "
                            f"but differ at lsn {first_diff}"
                        )
                        break
                elif first_diff is None:
                    first_diff = lsn
    return bad


def check_converged(cluster: Any, every_node: bool) -> list[str]:
    """After faults stop and the network heals: every up node the leader streams to (``every_node``:
    every node) holds the leader's log and data, and no write is left waiting."""
    bad = []
    lead = cluster.node(cluster.leader)
    if not lead.up:
        return [f"the leader {lead.name} is down"]
    names = [n for n in cluster.names if n != lead.name]
    if not every_node:
        names = [n for n in names if n in lead.followers]
    for n in names:
        node = cluster.node(n)
        if not node.up:
            continue
        if node.role != "follower" or node.leader != lead.name:
            bad.append(f"{n} is a {node.role} of {node.leader!r}, not a follower of {lead.name}")
        elif node.lsn != lead.lsn or node.log.last_epoch != lead.log.last_epoch:
            bad.append(f"{n} holds lsn {node.lsn} (epoch {node.log.last_epoch}); the leader {lead.lsn}")
        elif node.store.digest() != lead.store.digest():
            bad.append(f"{n}'s data differs from the leader's")
    waiting = [o for o in cluster.history.ops if o.outcome == PENDING]
    if waiting:
        bad.append(f"{len(waiting)} operations still pending, first {waiting[0]!r}")
    return bad


def check_no_lost_writes(cluster: Any) -> list[str]:
    """No write acknowledged to a client is missing from the current leader's log."""
    return [f"acknowledged write lost: {op!r}" for op in cluster.lost_writes()]


def check_time_order(history: History) -> list[str]:
    """Operations are numbered in the order invoked, complete after invoked; events in time order."""
    bad = []
    last = 0.0
    for op in history.ops:
        if op.invoke < last:
            bad.append(f"{op!r} was invoked before the operation recorded ahead of it")
        last = op.invoke
        if op.complete is not None and op.complete < op.invoke:
            bad.append(f"{op!r} completed before it was invoked")
    times = [e.time for e in history.events]
    if times != sorted(times):
        bad.append("events are not in time order")
    for name, tr in history.tracks.items():
        if list(tr.t) != sorted(tr.t):
            bad.append(f"{name}'s positions are not recorded in time order")
    return bad


class AckWatch:
    """Checks what a commit policy promises, as writes are acknowledged and outcomes settle; one watch
    for every policy (``Sync(k)`` of ``sync_replicas=k`` included).

    - At each acknowledgement: the leader holds that exact entry; at least ``k`` standbys
      counted by the leader's policy have confirmed it (none needed once semi-sync has
      fallen back), and each of them holds it, received or applied, or held it until a
      promotion it had no part in took it away while the confirmation was on its way.
      With ``strict=True`` (the default when the policy promises it:
      ``CommitPolicy.promises_all``), every other node still holds it at that moment.
    - An outcome, once settled, never changes.
    - After the run (:meth:`check`): an acknowledged write missing from the final leader
      was lost to the promotion of a node that had not confirmed it (:meth:`lost_to`).
    """

    def __init__(self, cluster: Any, strict: bool | None = None) -> None:
        self.cluster = cluster
        self.strict = strict
        self.violations: list[str] = []
        self.settled: dict[int, str] = {}
        self.confirmers: dict[int, list[str]] = {}  # op id -> standbys that had confirmed it
        self.acked: dict[int, float] = {}  # op id -> when its leader acknowledged it
        cluster.history.watchers.append(self)
        cluster.history.ack_watchers.append(self.acknowledged)

    def __call__(self, op: Op) -> None:
        if op.id in self.settled:
            self.violations.append(f"{op!r} settled twice (first as {self.settled[op.id]})")
        self.settled[op.id] = op.outcome

    def acknowledged(self, op: Op, lsn: int, epoch: int) -> None:
        """The moment ``op``'s node acknowledges it (at ``lsn`` of ``epoch``): check who holds it."""
        nodes = self.cluster.nodes
        leader = nodes[op.node]
        if not leader.log.holds(lsn, epoch):
            self.violations.append(
                f"{op!r} acknowledged at lsn {lsn} while its leader {op.node} does not hold it"
            )
            return
        policy = leader.commit
        if policy is None:
            return
        who = policy.confirmed_by(leader, lsn)
        self.confirmers[op.id] = who
        self.acked[op.id] = self.cluster.now
        k = policy.required(leader)
        if len(who) < k:
            self.violations.append(
                f"{op!r} acknowledged under {policy.describe()} with only {who} confirming"
            )
        entry = leader.log[lsn] if lsn > leader.log.base else None
        tracks = self.cluster.history.tracks
        for f in who:
            # it holds it now, or held it and lost it since to a promotion of a node that lacked it
            # (its confirmation was true when sent: a leader cannot know what happened after)
            if not nodes[f].holds_received(lsn, epoch) and not (entry and has_held(tracks[f], entry)):
                self.violations.append(f"{op!r}: {f} counted as confirming it, but never had it")
        if self.strict if self.strict is not None else policy.promises_all(len(nodes)):
            lacking = [n for n, node in nodes.items() if n != op.node and not node.log.holds(lsn, epoch)]
            if lacking:
                self.violations.append(
                    f"{op!r} acknowledged under {policy.describe()} while {lacking} do not hold it"
                )

    def lost_to(self, op: Any) -> tuple[float, str] | None:
        """The appointment that took ``op`` away, counted from its acknowledgement: (time, name), or
        None while the leader holds it.

        The first leader appointed after the acknowledgement that did not hold it; or, if another
        node had been appointed before the acknowledgement and did not hold it, that one: the
        write was acknowledged by a deposed leader (nobody had told it, or a promotion came while
        a confirmation was on its way; the confirming standby then discards the write too).
        """
        h = self.cluster.history
        acked = self.acked.get(op.id, op.complete)
        before = [(when, name) for when, name in h.leaders if when <= acked]
        if before and before[-1][1] != op.node:
            when, name = before[-1]
            if not h.tracks[name].holds([op.lsn], [op.epoch], [when])[0]:
                return when, name
        for when, name in h.leaders:
            if when > acked and not h.tracks[name].holds([op.lsn], [op.epoch], [when])[0]:
                return when, name
        return None

    def check(self) -> list[str]:
        """The violations seen, any settled outcome that changed since, and lost writes lost to
        a node that had confirmed them."""
        bad = list(self.violations)
        for op in self.cluster.history.ops:
            if op.id in self.settled and op.outcome != self.settled[op.id]:
                bad.append(f"{op!r} changed from {self.settled[op.id]} after it was settled")
        for op in self.cluster.lost_writes():
            if not self.confirmers.get(op.id):
                continue  # nobody had confirmed it: any promotion may lose it
            loss = self.lost_to(op)
            if loss is not None and loss[1] in self.confirmers[op.id]:
                bad.append(f"{op!r} lost although {loss[1]}, promoted at t={loss[0]:.6g}, had confirmed it")
        return bad


# --- leadership, from the record of each node's states ------------------------------
def leader_stretches(history: History, until: float) -> list[tuple[str, int, float, float]]:
    """``(node, epoch, start, end)`` for every stretch of time up to ``until`` a node was up and leading."""
    out: list[tuple[str, int, float, float]] = []
    for name, track in history.tracks.items():
        states = [s for s in track.states if s.time <= until]
        for i, s in enumerate(states):
            if not (s.up and s.role == "leader"):
                continue
            end = states[i + 1].time if i + 1 < len(states) else until
            last = out[-1] if out else None
            if last and last[0] == name and last[1] == s.epoch and last[3] == s.time:
                out[-1] = (name, s.epoch, last[2], end)  # the same leadership, another detail changed
            else:
                out.append((name, s.epoch, s.time, end))
    return sorted(out, key=lambda r: (r[2], r[0]))


def leaders_by_term(history: History, until: float) -> dict[int, list[str]]:
    """Epoch (term) -> every node that led it at some moment up to ``until``, in the order they began."""
    out: dict[int, list[str]] = {}
    for name, epoch, _, _ in leader_stretches(history, until):
        if name not in out.setdefault(epoch, []):
            out[epoch].append(name)
    return dict(sorted(out.items()))


def leaders_at_once(history: History, until: float) -> list[tuple[float, float, tuple[str, ...]]]:
    """The stretches of time when two or more nodes led at once: ``(start, end, leaders)``."""
    stretches = leader_stretches(history, until)
    moments = sorted({t for _, _, a, b in stretches for t in (a, b)})
    out: list[tuple[float, float, tuple[str, ...]]] = []
    for a, b in zip(moments, moments[1:]):
        who = tuple(sorted({n for n, _, s, e in stretches if s <= a and e >= b}))
        if len(who) > 1:
            if out and out[-1][1] == a and out[-1][2] == who:
                out[-1] = (out[-1][0], b, who)
            else:
                out.append((a, b, who))
    return out


def check_one_leader_per_term(history: History, until: float) -> list[str]:
    """Raft's election safety: at most one node ever leads a given epoch (term)."""
    return [
        f"epoch {epoch} had {len(names)} leaders: {', '.join(names)}"
        for epoch, names in leaders_by_term(history, until).items()
        if len(names) > 1
    ]


def lost_by_clients(cluster: Any) -> list[Op]:
    """Acknowledged writes missing from the current leader's log, judged from the clients' operations
    and that log alone (not from the record of positions): an independent count of lost writes."""
    log = cluster.node(cluster.leader).log
    lost = []
    for op in cluster.history.ops:
        if op.kind != "write" or op.outcome != OK:
            continue
        held = op.lsn is not None and log.holds(op.lsn, op.epoch)
        if held and op.lsn <= log.base:  # in the snapshot the log starts from: held as (lsn, epoch) say
            continue
        if not held or log[op.lsn].change[:2] != (op.key, op.value):
            lost.append(op)
    return lost
