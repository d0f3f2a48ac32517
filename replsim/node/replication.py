"""A database node: its role, its log, its data, and how it reacts to messages and timers.

The node never reads a clock of its own or touches the network: it is given a
``host`` (the cluster, or a test's stand-in) with ``sim`` (``.now``, ``.timer()``),
``send``/``broadcast`` and callbacks for what it reports. Every message is a tuple
whose first field is the sender's name, defined with its named fields in
``replsim.node.messages``; ``step(msg, kind)`` takes one in. So a test can step one
node by hand, and the cluster can run many at speed.

What survives a crash: the log, the data built from it, the epoch, the role and
whom the node follows (all durable, as if fsynced), and replication slots. What is
lost: the leader's view of its followers' positions, and clients' writes still
waiting for replica acknowledgements (their outcome becomes unknown).

Messages (kind, then the fields after the sender's name):

- ``append(epoch, prev_lsn, prev_epoch, entries, history)``: leader -> follower;
  with no entries it is a heartbeat. ``history`` is the leader's epoch history.
- ``ack(epoch, lsn, ok)``: follower -> leader. ``ok=True``: "my log matches yours
  up to ``lsn``", sent only after the follower has checked the leader's stream in
  this epoch; only these count towards a synchronous commit. ``ok=False``: "please
  send what follows ``lsn``" (a request, never counted).
- ``confirm(epoch, lsn, flushed)``: follower -> leader, sent only by a follower with
  stages (``set_stages``): "I have received (``flushed``: and flushed) your stream up
  to ``lsn``", before it applies it; ``ack`` then says it has applied it. It also
  answers each append it cannot confirm yet at once, with what it has confirmed so
  far (0: nothing yet): "alive, in your epoch".
- ``stale(epoch)``: to an old leader, "a newer epoch exists" (fencing).
- ``snapshot(epoch, lsn, base_epoch, history, data)``: leader -> follower, a copy
  of the whole store at ``lsn`` (``pg_basebackup``), after which streaming resumes.
- ``nolog(epoch, base)``: leader -> follower, "I no longer hold what you need:
  my log starts after ``base``" (PostgreSQL: the WAL was removed). The follower
  stops asking until it is rebuilt from a snapshot.
- ``request(op, kind, key, value, after, rid)`` / ``reply(op, outcome, value, lsn, epoch, error)``:
  a client on the network and the node it talks to. A write with an idempotency
  key ``rid`` is logged as ``(key, value, rid)``; a leader whose log already holds
  that key answers with the earlier entry, once that entry is committed, instead of
  writing again.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from ..errors import NodeStateError, ReplsimError
from ..history.record import NodeTrack, State
from ..log import Compacted, Entry, History, Log, epoch_at, segment_start
from ..stores import KVStore, Store
from .commit import Sync
from .leading import Leading
from .messages import HEADER, Pong, Stale
from .roles import CANDIDATE, FOLLOWER, LEADER
from .serving import Serving
from .stages import Stages


class Host(Protocol):
    """What a node needs from its surroundings (the cluster, or a test's stand-in)."""

    sim: Any  # .now and .timer(fn)

    def send(self, dst: str, kind: str, msg: tuple, size: int = 0) -> None: ...
    def broadcast(self, dsts: list[str], kind: str, msg: tuple, size: int = 0) -> None: ...
    def node_event(self, node: str, kind: str, detail: str) -> None: ...
    def appointed(self, node: str, kind: str, detail: str) -> None: ...
    def committed(self, node: str, token: Any) -> None: ...
    def acknowledged(self, node: str, token: Any, lsn: int, epoch: int) -> None: ...
    def unknown(self, node: str, token: Any, why: str) -> None: ...
    def dead_letter(self, node: str, kind: str, src: str) -> None: ...


class Node(Serving, Leading, Stages):
    """One database server in the cluster: its core here (state, the one dispatch, the follower side,
    faults), serving clients in :class:`~.serving.Serving`, leading in :class:`~.leading.Leading`,
    and a follower's stages in :class:`~.stages.Stages`.

    Its parts, each optional and asked at defined points (so the order in which they are
    attached never changes behaviour; :meth:`_wire` routes messages from them alone):

    - ``commit``: a commit policy (``replsim.node.commit``): "which position is committed?",
      and it hears each acknowledgement or confirmation (``CommitPolicy.listens``);
    - stages (``set_stages``): "when is this entry applied?";
    - ``elector``: elections (``replsim.node.election``): it hears appends and acknowledgements,
      answers vote requests ("may I vote?", :func:`~replsim.node.election.grant_vote`);
    - ``sender``: a batch sender (``replsim.node.sender``) that ships the log;
    - ``monitor``: a failover monitor running on this node (``replsim.failover``), which gets the
      answers to its pings (every node answers pings itself).
    """

    fencing = True
    """A leader steps down when it hears of a newer epoch. False models a system without fencing (a
    naive failover): the deposed leader never learns, and leads until someone demotes it."""

    def __init__(
        self,
        name: str,
        host: Host,
        *,
        role: str = FOLLOWER,
        leader: str | None = None,
        followers: list[str] | None = None,
        sync_replicas: int = 0,
        heartbeat: float | None = None,
        store: Store | None = None,
        keep_log: int | None = None,
        slots: bool = False,
        track: NodeTrack | None = None,
    ) -> None:
        self.name = name
        self.host = host
        self.sim = host.sim
        self.send = host.send
        self.broadcast = host.broadcast
        self.role = role
        self.leader = leader if role == FOLLOWER else name
        self.followers: list[str] = list(followers or [])
        self.epoch = 1
        self.log = Log()
        self.store: Store = store if store is not None else KVStore()
        # a store whose log records something other than the client's change (rows, pages) runs it
        self._execute = getattr(self.store, "execute", None)
        self.base_snapshot = self.store.snapshot()  # the store as it was at the log's base
        self.up = True
        self.broken: str | None = None  # why replication stopped here (an error applying a change)
        self.needs_rebuild: int | None = None  # the leader's log base, when it no longer has what we need
        self._sync = sync_replicas  # Sync(k) unless a policy is chosen (see sync_replicas)
        self._chosen: Any = None  # the commit policy set_commit chose (bound to this node), if any
        self.commit: Any = None  # the commit policy in force (replsim.node.commit); None: asynchronous
        self.elector: Any = None  # elections (replsim.node.election), if any
        self.sender: Any = None  # a batch sender (replsim.node.sender), if any
        self.monitor: Any = None  # a failover monitor running on this node (replsim.failover), if any
        self.keep_log = keep_log  # a leader keeps at least this many entries for followers (None: all)
        self.slots: dict[str, int] | None = {} if slots else None  # durable follower positions
        self.epoch_history: History = ((1, 1),)  # (epoch, first lsn) of every position, as led
        self.heartbeat_interval = heartbeat
        self.heartbeat_timer = self.sim.timer(self._heartbeat_tick)
        # volatile state (lost in a crash)
        self.match: dict[str, int] = {}  # follower -> position it holds, checked in this epoch
        self.progress: dict[str, tuple[int, int]] = {}  # follower -> (received, flushed), from confirms
        self.pending: deque[tuple[int, Any, str | None]] = deque()  # (lsn, token, client) awaiting acks
        self._rids: dict[Any, Entry] = {}  # idempotency key -> its entry, for the log up to _rids_upto
        self._rids_upto = 0
        self._retries: list[tuple[Entry, Any, str]] = []  # (entry, op, client): retries waiting for a commit
        self._asked: tuple[str, int, float] | None = None  # last resend request: (to whom, from where, when)
        self.retry_interval = 1.0  # seconds before asking the same leader again for the same entries
        self._stream: str | None = None  # the leader whose stream this node has checked in this epoch
        self.rolled_back: list[Entry] = []
        self.read_time = 0.0  # seconds a read from a client on the network keeps this node busy
        self._busy_until = 0.0
        self._waiting: list[tuple[int, str, int, Any]] = []  # reads waiting for a position (after, ...)
        self._init_stages()  # none: a follower applies what it receives at once (see stages.py)
        self.track = track if track is not None else NodeTrack(self._state())
        self._pos_t = self.track.t.append  # the record of positions, appended to on every change
        self._pos_lsn = self.track.lsn.append
        self._appended = self.track.appended
        self.handlers: dict[str, Any] = {
            "stale": self.on_stale,
            "snapshot": self.on_snapshot,
            "nolog": self.on_nolog,
            "request": self.on_request,
            "ping": self.on_ping,
        }
        self._commit_rule()
        if role == LEADER and heartbeat:
            self.heartbeat_timer.set(heartbeat)

    def __getstate__(self) -> dict:
        # cached appenders of the record are builtin methods, which copy.deepcopy would share
        # with the original: leave them out, and make them again from the copied record
        state = dict(self.__dict__)
        del state["_pos_t"], state["_pos_lsn"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._pos_t = self.track.t.append
        self._pos_lsn = self.track.lsn.append

    def __repr__(self) -> str:
        state = "up" if self.up else "down"
        return f"Node({self.name!r}, {self.role}, epoch={self.epoch}, lsn={self.log.last_lsn}, {state})"

    # --- the one dispatch -------------------------------------------------
    def _wire(self) -> None:
        """Route each kind of message to its handler, from this node's parts alone (see the class).

        Called whenever a part changes. A message kind with nothing to add goes straight to the
        node's own handler (the fast path); otherwise to one that asks the parts, always in the
        same order: the elector, the commit policy before, the node, the commit policy after.
        """
        h = self.handlers
        el, policy = self.elector, self.commit
        listens = policy is not None and policy.listens is not None
        h["append"] = self.on_append if el is None and not self._staged else self._append_with_parts
        h["ack"] = self.on_ack if el is None and not listens else self._ack_with_parts
        h["confirm"] = self.on_confirm if el is None and not listens else self._confirm_with_parts
        for kind in ("vote", "voted", "pong"):
            h.pop(kind, None)
        if el is not None:
            h["vote"], h["voted"] = el.on_vote, el.on_voted
        if self.monitor is not None:
            h["pong"] = self.monitor.on_pong
        self.broadcast = self.host.broadcast if self.sender is None else self.sender.broadcast

    def set_commit(self, policy: Any) -> None:
        """Wait for what commit ``policy`` asks (this node gets its own copy); None: ``sync_replicas``."""
        self._chosen = None if policy is None else policy.bind(self)
        self._commit_rule()

    @property
    def sync_replicas(self) -> int:
        """How many followers must have applied a write before it is acknowledged (``Sync(k)``; 0:
        asynchronous), unless ``set_commit`` chose another policy, which then decides."""
        return self._sync

    @sync_replicas.setter
    def sync_replicas(self, k: int) -> None:
        self._sync = k
        self._commit_rule()

    def _commit_rule(self) -> None:
        """The policy in force: the one chosen, else ``Sync(sync_replicas)`` (none: asynchronous)."""
        if self._chosen is not None:
            self.commit = self._chosen
        elif self._sync:
            self.commit = Sync(self._sync).bind(self)
        else:
            self.commit = None
        self._wire()

    def step(self, msg: tuple, kind: str) -> None:
        """Take one message of ``kind`` (its first field the sender's name), as the network delivers it."""
        try:
            handler = self.handlers[kind]
        except KeyError:
            raise ReplsimError(
                f"{self.name!r} takes no {kind!r} messages; it takes {', '.join(sorted(self.handlers))}"
            ) from None
        handler(*msg)

    def _append_with_parts(
        self, src: str, epoch: int, prev_lsn: int, prev_epoch: int, entries: tuple, history: History
    ) -> None:
        if self.elector is not None:
            self.elector.heard_append(src, epoch)
        if self._staged:
            self._receive(src, epoch, prev_lsn, prev_epoch, entries, history)
        else:
            self.on_append(src, epoch, prev_lsn, prev_epoch, entries, history)

    def _ack_with_parts(self, src: str, epoch: int, lsn: int, ok: bool) -> None:
        self._heard_by_parts(self.on_ack, src, epoch, lsn, ok)

    def _confirm_with_parts(self, src: str, epoch: int, lsn: int, flushed: bool) -> None:
        self._heard_by_parts(self.on_confirm, src, epoch, lsn, flushed)

    def _heard_by_parts(self, handle: Any, src: str, epoch: int, *rest: Any) -> None:
        """An acknowledgement or confirmation: the elector hears it, then the commit policy before or
        after the node handles it (``CommitPolicy.listens``)."""
        if self.elector is not None:
            self.elector.heard_ack(src, epoch)
        policy = self.commit
        if policy is not None and policy.listens == "before":
            policy.hear(src, epoch)
        handle(src, epoch, *rest)
        if policy is not None and policy.listens == "after":
            policy.hear(src, epoch)

    def on_ping(self, src: str) -> None:
        """A failover monitor asks how this node is: answer with its role, epoch, position and leader."""
        if not self.up:
            self.host.dead_letter(self.name, "ping", src)
            return
        log = self.log
        self.send(
            src,
            "pong",
            Pong(self.name, self.role, self.epoch, log.last_lsn, log.last_epoch, self.leader),
            HEADER,
        )

    @property
    def lsn(self) -> int:
        """Position of the newest entry this node holds (and has applied)."""
        return self.log.last_lsn

    def _state(self) -> State:
        return State(self.sim.now, self.role, self.up, self.epoch, self.leader, self.broken is not None)

    def _changed(self) -> None:
        self.track.state(self._state())

    def _event(self, kind: str, detail: str) -> None:
        self.host.node_event(self.name, kind, detail)

    # --- follower side --------------------------------------------------
    def on_append(
        self,
        src: str,
        epoch: int,
        prev_lsn: int,
        prev_epoch: int,
        entries: tuple[Entry, ...],
        history: History,
    ) -> None:
        """Follower: take entries from the leader, in log order, and report the position."""
        log = self.log
        if src == self._stream and epoch == self.epoch and prev_lsn == log.last_lsn and entries:
            # The common case: the next entries, in order, from the leader whose stream this node
            # has checked in this epoch (so the logs match up to prev_lsn).
            apply = self.store.apply
            add = log.add
            try:
                for e in entries:
                    apply(e.change)
                    add(e)
            except Exception as exc:
                self._broke(exc, [e for e in entries if e.lsn <= log.last_lsn])
                return
            last = log.last_lsn
            self._appended.extend(entries)
            self._pos_t(self.sim.now)
            self._pos_lsn(last)
            self._asked = None
            self.send(src, "ack", (self.name, epoch, last, True), HEADER)
            if self._waiting:
                self._release_reads()
            return
        if not self.up:
            self.host.dead_letter(self.name, "append", src)
            return
        if epoch < self.epoch:
            self.send(src, "stale", Stale(self.name, self.epoch), HEADER)
            return
        if epoch > self.epoch:
            if self.role == LEADER:
                if not self.fencing:
                    return  # no fencing: a leader ignores anyone else's claim to lead
                self._step_down(epoch, f"{src!r} leads epoch {epoch}")
            self._become_follower(src)
            self.epoch = epoch
            self.needs_rebuild = None
            self._changed()
        elif self.role != FOLLOWER:
            return  # another leader of our own epoch: epochs are unique, so this cannot be legitimate
        elif src != self.leader:
            if self.leader is not None:
                return  # not the leader this node follows
            self._become_follower(src)
            self._changed()
        if self.broken is not None or self.needs_rebuild is not None:
            return  # replication stopped here until the node is rebuilt
        if self._stream != src:  # first contact with this leader in this epoch: cut what it never had
            if not self._reconcile(history):
                return
            self._stream = src
        last = log.last_lsn
        if prev_lsn > last:  # a gap: something was lost; a heartbeat may ask again
            self._ask(src, last, again=not entries)
            return
        if prev_lsn < log.base:  # we already hold (in a snapshot) the start of this batch
            entries = tuple(e for e in entries if e.lsn > log.base)
            prev_lsn, prev_epoch = log.base, log.base_epoch
        if log.term(prev_lsn) != prev_epoch:  # our log differs from the leader's before this batch
            if self._reconcile(history):
                self._ask(src, log.last_lsn, again=True)
            return
        new: list[Entry] = []
        try:
            for e in entries:
                if e.lsn <= log.last_lsn:
                    if log.term(e.lsn) == e.epoch:
                        continue  # already have it
                    self._rollback(e.lsn - 1)
                self.store.apply(e.change)
                log.add(e)
                new.append(e)
        except Exception as exc:
            self._broke(exc, new)
            return
        if new:
            self._appended.extend(new)
            self._pos_t(self.sim.now)
            self._pos_lsn(log.last_lsn)
            self._asked = None
            if self._waiting:
                self._release_reads()
        self.send(src, "ack", (self.name, epoch, log.last_lsn, True), HEADER)

    def _ask(self, src: str, last: int, again: bool = False) -> None:
        """Ask ``src`` for what follows ``last``: once per leader and position, or ``again`` once
        ``retry_interval`` has passed without an answer (a lost request or a lost answer; PostgreSQL's
        standby waits ``wal_retrieve_retry_interval``, 5 s by default, before trying again)."""
        now = self.sim.now
        asked = self._asked
        if asked is not None and asked[0] == src and asked[1] == last:
            if not again or now - asked[2] < self.retry_interval:
                return
        self._asked = (src, last, now)
        self.send(src, "ack", (self.name, self.epoch, last, False), HEADER)

    def _reconcile(self, history: History) -> bool:
        """Cut off entries the leader's log does not have (written by a leader nobody followed).

        The leader's epoch history says which epoch wrote each position of its log; an
        entry of ours from another epoch at that position was never in its log (one
        leader per epoch), and neither is anything after it. Entries beyond the
        leader's last position from the leader's own epoch can only have come from it.
        Returns False if the cut would go below the log's base (then it must be rebuilt).
        """
        log = self.log
        mine = log.history
        m = log.last_lsn
        while m > log.base and epoch_at(mine, m) != epoch_at(history, m):
            m = max(segment_start(mine, m), segment_start(history, m)) - 1
        m = max(m, log.base)
        if m == log.base and log.base and epoch_at(history, log.base) != log.base_epoch:
            self._need_rebuild(
                log.base, f"its log differs from the leader's before its base (lsn {log.base})"
            )
            return False
        if m < log.last_lsn:
            self._rollback(m)
        return True

    def _rollback(self, lsn: int) -> None:
        log = self.log
        self._rids_upto = min(self._rids_upto, lsn)  # what comes after is logged anew
        dropped = log.truncate(lsn)
        store = self.store
        store.restore(self.base_snapshot)
        for e in log.entries:
            store.apply(e.change)
        self.track.jumped(self.sim.now, lsn, log.base)
        self.rolled_back.extend(dropped)
        self._event("rollback", f"discarded lsn {lsn + 1}..{lsn + len(dropped)} ({len(dropped)} entries)")

    def _broke(self, exc: Exception, applied: list[Entry]) -> None:
        """An entry could not be applied: stop replicating here, record why, keep serving reads."""
        if applied:  # the entries of the batch applied before the one that failed
            self._appended.extend(applied)
            self._pos_t(self.sim.now)
            self._pos_lsn(self.log.last_lsn)
        self.broken = f"cannot apply lsn {self.log.last_lsn + 1}: {type(exc).__name__}: {exc}"
        self._stream = None
        self._changed()
        self._event("engine error", f"replication stopped: {self.broken}; rebuild the node from a fresh copy")

    def _need_rebuild(self, base: int, why: str) -> None:
        if self.needs_rebuild is None:
            self.needs_rebuild = base
            self._event("needs rebuild", f"cannot catch up: {why}; rebuild it from a fresh copy (rebuild())")

    def on_nolog(self, src: str, epoch: int, base: int) -> None:
        """Follower: the leader no longer holds the entries this node needs."""
        if not self.up:
            self.host.dead_letter(self.name, "nolog", src)
        elif epoch >= self.epoch and src == self.leader and self.lsn < base:
            self._need_rebuild(base, f"{src!r} has removed lsn {self.lsn + 1}..{base} from its log")

    def on_snapshot(
        self, src: str, epoch: int, lsn: int, base_epoch: int, history: History, data: Any
    ) -> None:
        """Follower: start again from the leader's copy of the whole store at ``lsn``."""
        if not self.up:
            self.host.dead_letter(self.name, "snapshot", src)
            return
        if epoch < self.epoch:
            self.send(src, "stale", Stale(self.name, self.epoch), HEADER)
            return
        try:
            self.store.restore(data)
        except Exception as exc:
            self.broken = f"cannot load the snapshot: {type(exc).__name__}: {exc}"
            self._changed()
            self._event("engine error", f"replication stopped: {self.broken}")
            return
        if self.role == LEADER:
            self._step_down(epoch, f"{src!r} leads epoch {epoch}")
        self._become_follower(src)
        self.epoch = epoch
        self.broken = None
        self.needs_rebuild = None
        self.base_snapshot = self.store.snapshot()
        self.log.reset(lsn, base_epoch, history)
        self._rids, self._rids_upto = {}, lsn
        self.track.jumped(self.sim.now, lsn, lsn, self.log.history, data)
        self._stream = src
        self._changed()
        self._event("snapshot", f"loaded {src!r}'s copy at lsn {lsn}")
        self.send(src, "ack", (self.name, epoch, lsn, True), HEADER)
        self._release_reads()

    # --- faults ---------------------------------------------------------
    def crash(self) -> None:
        """Stop at once; lose volatile state (waiting writes become unknown)."""
        if not self.up:
            raise NodeStateError(f"{self.name!r} is already down")
        if self._inbox:
            self._drain()  # a process crash: what it received is in the OS's hands and replayed on restart
        self._abort_pending(f"{self.name!r} crashed before enough replicas confirmed: outcome unknown")
        self.up = False
        self._save_slots()
        self._waiting = []  # reads parked here are lost with the process: their clients time out
        self._busy_until = 0.0
        self.match.clear()
        self.progress.clear()
        self._asked = None
        self._stream = None
        self.heartbeat_timer.cancel()
        self._changed()

    def catch_up(self) -> None:
        """Follower: ask the leader it follows for everything after its position."""
        if self.up and self.role == FOLLOWER and self.leader is not None:
            self._ask(self.leader, self.lsn, again=True)

    def recover(self) -> None:
        """Start again from durable state; a follower asks its leader for what it missed."""
        self.up = True
        self._changed()
        if self.role == FOLLOWER:
            self.catch_up()
        elif self.role == LEADER:
            self.heartbeat()
            if self.heartbeat_interval:
                self.heartbeat_timer.set(self.heartbeat_interval)


__all__ = ["Node", "Host", "LEADER", "FOLLOWER", "CANDIDATE", "Compacted"]
