"""A database node: its role, its log, its data, and how it reacts to messages and timers.

The node never reads a clock of its own or touches the network: it is given a
``host`` (the cluster, or a test's stand-in) with ``sim`` (``.now``, ``.timer()``),
``send``/``broadcast`` and callbacks for what it reports. Every message is a tuple
whose first field is the sender's name. So a test can step one node by hand, and
the cluster can run many at speed.

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
  to ``lsn``", before it applies it; ``ack`` then says it has applied it.
- ``stale(epoch)``: to an old leader, "a newer epoch exists" (fencing).
- ``snapshot(epoch, lsn, base_epoch, history, data)``: leader -> follower, a copy
  of the whole store at ``lsn`` (``pg_basebackup``), after which streaming resumes.
- ``nolog(epoch, base)``: leader -> follower, "I no longer hold what you need:
  my log starts after ``base``" (PostgreSQL: the WAL was removed). The follower
  stops asking until it is rebuilt from a snapshot.
- ``request(op, kind, key, value, after, rid)`` / ``reply(op, outcome, value, lsn, epoch, error)``:
  a client on the network and the node it talks to. A write with an idempotency
  key ``rid`` is logged as ``(key, value, rid)``; a leader whose log already holds
  that key answers with the earlier entry instead of writing again.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from ..errors import NodeDownError, NodeStateError, ReadOnlyError, ReplsimError, StoreError
from ..history.record import NodeTrack, State
from ..log import Compacted, Entry, History, Log, epoch_at, segment_start
from ..stores import KVStore, Store
from .messages import HEADER, NoLog, Pong, Reply, Snapshot, Stale
from .stages import Stages

LEADER = "leader"
FOLLOWER = "follower"
CANDIDATE = "candidate"  # reserved for elections


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


class Node(Stages):
    """One database server in the cluster.

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
        self.sync_replicas = sync_replicas
        self.commit: Any = None  # a commit policy (replsim.node.commit); None: wait for sync_replicas
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
        self._wire()
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
        self.commit = None if policy is None else policy.bind(self)
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
        if self.elector is not None:
            self.elector.heard_ack(src, epoch)
        policy = self.commit
        if policy is not None and policy.listens == "before":
            policy.hear(src, epoch)
        self.on_ack(src, epoch, lsn, ok)
        if policy is not None and policy.listens == "after":
            policy.hear(src, epoch)

    def _confirm_with_parts(self, src: str, epoch: int, lsn: int, flushed: bool) -> None:
        if self.elector is not None:
            self.elector.heard_ack(src, epoch)
        policy = self.commit
        if policy is not None and policy.listens == "before":
            policy.hear(src, epoch)
        self.on_confirm(src, epoch, lsn, flushed)
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

    # --- client side ----------------------------------------------------
    def check_writable(self, change: Any) -> None:
        """Raise the error a client would get for a write here (down, or not the leader)."""
        if not self.up:
            raise NodeDownError(f"{self.name!r} is down (crashed); it cannot take writes")
        if self.role != LEADER:
            raise ReadOnlyError(
                f"cannot execute {self.store.verb(change)} in a read-only transaction: "
                f"{self.name!r} is a {self.role}"
                + (f" of {self.leader!r}" if self.leader else "")
                + "; send writes to the leader"
            )

    def client_write(self, change: Any, token: Any = None, client: str | None = None) -> Entry:
        """Apply a client's change and append it to the log (leader only); return its entry.

        With ``sync_replicas`` 0 the write is acknowledged at once; otherwise the
        host's ``committed(name, token)`` runs (or, for a ``client`` on the network,
        a reply is sent) when enough followers hold it.
        """
        if not self.up or self.role != LEADER:
            self.check_writable(change)
        store = self.store
        try:
            if self._execute is None:
                store.apply(change)
            else:
                change = self._execute(change)
        except ReplsimError:
            raise
        except Exception as exc:  # the store refused it (bad SQL, ...): the client gets its error
            raise StoreError(f"{self.name!r} refused the change: {type(exc).__name__}: {exc}") from None
        log = self.log
        prev, prev_epoch = log.last_lsn, log.last_epoch
        size = store.size(change)
        now = self.sim.now
        entry = Entry(prev + 1, self.epoch, now, change, size)
        log.add(entry)
        self._appended.append(entry)
        self._pos_t(now)
        self._pos_lsn(prev + 1)
        msg = (self.name, self.epoch, prev, prev_epoch, (entry,), self.epoch_history)
        self.broadcast(self.followers, "append", msg, HEADER + size)
        if self.sync_replicas or (self.commit is not None and self.commit.waits(self, prev + 1)):
            self.pending.append((prev + 1, token, client))
        if self.keep_log is not None and len(log.entries) > 2 * self.keep_log + 64:
            self._compact()
        return entry

    def read(self, query: Any) -> Any:
        """Answer a client's read from this node's data (stale or not)."""
        if not self.up:
            raise NodeDownError(f"{self.name!r} is down (crashed); it cannot answer reads")
        return self.store.read(query)

    def on_request(
        self, src: str, op: int, kind: str, key: Any, value: Any, after: int = 0, rid: Any = None
    ) -> None:
        """A client on the network: do its read or write and reply (a sync write: once committed).

        A read waits until this node holds position ``after`` (a client that wants to
        see its own write), then queues behind the reads before it (``read_time`` each).
        A write with an idempotency key ``rid`` that this leader's log already holds is
        answered with that entry, and not applied again.
        """
        if not self.up:
            self.host.dead_letter(self.name, "request", src)
            return
        if kind != "write":
            if self.log.last_lsn < after:
                self._waiting.append((after, src, op, key))
            else:
                self._serve_read(src, op, key)
            return
        try:
            if rid is not None:
                self.check_writable((key, value))  # only a leader answers, even for a write it holds
                done = self._find_request(rid)
                if done is not None:  # answered once committed by the policy in force, maybe now
                    self._retries.append((done, op, src))
                    self._answer_retries(self._committed())
                    return
            entry = self.client_write((key, value) if rid is None else (key, value, rid), op, src)
            if self.pending and self.pending[-1][0] == entry.lsn:
                return  # replied when enough followers hold it
            self.host.acknowledged(self.name, op, entry.lsn, entry.epoch)
            answer = Reply(self.name, op, "ok", value, entry.lsn, entry.epoch, None)
        except ReplsimError as exc:
            answer = Reply(self.name, op, "fail", None, None, None, str(exc))
        self.send(src, "reply", answer, HEADER)

    def _find_request(self, rid: Any) -> Entry | None:
        """The entry of the write with idempotency key ``rid``, if this node's log holds it."""
        log = self.log
        rids = self._rids
        upto = max(self._rids_upto, log.base)
        for e in log.entries[upto - log.base :]:  # index what was logged since the last look
            c = e.change
            if type(c) is tuple and len(c) > 2:
                rids[c[2]] = e
        self._rids_upto = log.last_lsn
        e = rids.get(rid)
        if e is not None and log.base < e.lsn <= log.last_lsn and log[e.lsn] is e:
            return e
        return None

    def _serve_read(self, src: str, op: int, key: Any) -> None:
        """Serve a read now, or after the reads already queued here (each takes ``read_time``)."""
        if not self.read_time:
            self._answer_read(src, op, key)
            return
        now = self.sim.now
        start = max(now, self._busy_until)
        self._busy_until = done = start + self.read_time
        self.track.busy.append((start, done))
        self.sim.schedule(done - now, self._answer_read, src, op, key)

    def _answer_read(self, src: str, op: int, key: Any) -> None:
        if self.up:  # a node that crashed meanwhile never answers
            try:
                value = self.store.read(key)
            except Exception as exc:  # the store refused the query (bad SQL): the client gets its error
                why = f"{self.name!r} refused the read: {type(exc).__name__}: {exc}"
                self.send(src, "reply", Reply(self.name, op, "fail", None, None, None, why), HEADER)
                return
            answer = Reply(self.name, op, "ok", value, self.log.last_lsn, self.epoch, None)
            self.send(src, "reply", answer, HEADER)

    def _release_reads(self) -> None:
        """Serve the waiting reads whose position this node now holds."""
        last = self.log.last_lsn
        ready = [w for w in self._waiting if w[0] <= last]
        if ready:
            self._waiting = [w for w in self._waiting if w[0] > last]
            for _, src, op, key in ready:
                self._serve_read(src, op, key)

    def _answer_retries(self, committed: int) -> None:
        """Tell each client whose retry found its write in the log, once that entry is committed."""
        waiting = []
        for e, op, src in self._retries:
            if e.lsn > committed:
                waiting.append((e, op, src))
                continue
            self.host.acknowledged(self.name, op, e.lsn, e.epoch)
            self.send(src, "reply", Reply(self.name, op, "ok", e.change[1], e.lsn, e.epoch, None), HEADER)
        self._retries = waiting

    def _settle(self, token: Any, client: str | None, lsn: int) -> None:
        if client is None:
            self.host.committed(self.name, token)
        else:
            self.host.acknowledged(self.name, token, lsn, self.epoch)
            self.send(client, "reply", Reply(self.name, token, "ok", None, lsn, self.epoch, None), HEADER)

    def _abort_pending(self, why: str) -> None:
        """Writes still waiting for acknowledgements: their outcome becomes unknown."""
        pending, self.pending = self.pending, deque()
        self._retries = []  # their clients learn nothing either: they time out
        for _, token, client in pending:
            if client is None:
                self.host.unknown(self.name, token, why)
            # a client on the network learns nothing: its own timeout makes the outcome unknown

    # --- leader side ----------------------------------------------------
    def _heartbeat_tick(self) -> None:
        if self.role == LEADER and self.up:
            self.heartbeat()
            self.heartbeat_timer.set(self.heartbeat_interval)

    def heartbeat(self) -> None:
        """Leader: tell every follower the current position (an empty append)."""
        if self.role != LEADER or not self.up:
            return
        log = self.log
        msg = (self.name, self.epoch, log.last_lsn, log.last_epoch, (), self.epoch_history)
        self.broadcast(self.followers, "append", msg, HEADER)

    def on_ack(self, src: str, epoch: int, lsn: int, ok: bool) -> None:
        """Leader: a follower reports the position it holds, or asks for what follows a position."""
        if ok and epoch == self.epoch and self.role is LEADER and self.up:  # the common case
            self.match[src] = lsn
            if self.pending or self._retries:
                self._commit()
            return
        if not self.up:
            self.host.dead_letter(self.name, "ack", src)
            return
        if self.role != LEADER:
            return
        if epoch > self.epoch:
            if self.fencing:
                self._step_down(epoch, f"{src!r} reports epoch {epoch}")
            return
        if ok:
            return  # a position checked against an older epoch's leader: it says nothing about our log
        if src not in self.followers:  # a node that still points here asks for the stream: serve it
            self.followers.append(src)
        self._resend(src, lsn)

    def on_confirm(self, src: str, epoch: int, lsn: int, flushed: bool) -> None:
        """Leader: a follower with stages has received (``flushed``: and flushed) the stream up to ``lsn``."""
        if not self.up:
            self.host.dead_letter(self.name, "confirm", src)
            return
        if epoch != self.epoch or self.role != LEADER:
            return  # about another epoch's stream: says nothing about ours
        received, done = self.progress.get(src, (0, 0))
        self.progress[src] = (max(received, lsn), max(done, lsn) if flushed else done)
        if self.pending or self._retries:
            self._commit()

    def _resend(self, dst: str, lsn: int) -> None:
        log = self.log
        prev = min(lsn, log.last_lsn)
        if prev < log.base:
            self.send(dst, "nolog", NoLog(self.name, self.epoch, log.base), HEADER)
            return
        batch = log.after(prev)
        size = HEADER + sum(e.size for e in batch)
        self.send(
            dst, "append", (self.name, self.epoch, prev, log.term(prev), batch, self.epoch_history), size
        )

    def _committed(self) -> int:
        """The newest position committed under the commit rule in force (leader only).

        With elections (Raft), an entry of an earlier term counts as committed only once an
        entry of this term at or after it is (Ongaro and Ousterhout, section 5.4.2).
        """
        if self.commit is not None:
            committed = self.commit.position(self)
        else:
            k = self.sync_replicas
            if not k:
                committed = self.log.last_lsn
            else:
                match = self.match
                if len(match) < k:
                    return 0
                committed = sorted(match.values(), reverse=True)[k - 1]
        if self.elector is not None and committed and self.log.term(committed) != self.epoch:
            return 0
        return committed

    def _commit(self) -> None:
        """Acknowledge the waiting writes (and retries) that are now committed."""
        committed = self._committed()
        pending = self.pending
        while pending and pending[0][0] <= committed:
            lsn, token, client = pending.popleft()
            self._settle(token, client, lsn)
        if self._retries:
            self._answer_retries(committed)

    def send_snapshot(self, dst: str) -> None:
        """Leader: send ``dst`` a copy of the whole store and the position it is at (``pg_basebackup``)."""
        snap = self.store.snapshot()
        log = self.log
        msg = Snapshot(self.name, self.epoch, log.last_lsn, log.last_epoch, self.epoch_history, snap)
        self.send(dst, "snapshot", msg, HEADER + self.store.snapshot_size(snap))
        if dst not in self.followers:
            self.followers.append(dst)

    def _compact(self) -> None:
        """Leader: forget entries no follower should still need (``wal_keep_size``; slots hold it back)."""
        log = self.log
        upto = log.last_lsn - self.keep_log
        if self.slots is not None:
            self._save_slots()
            upto = min([upto, *(self.slots.get(f, 0) for f in self.followers)])
        if upto <= log.base:
            return
        scratch = self.store.fresh()  # the store as of ``upto``: base snapshot + entries up to it
        scratch.restore(self.base_snapshot)
        for e in log.entries[: upto - log.base]:
            scratch.apply(e.change)
        self.base_snapshot = scratch.snapshot()
        log.compact(upto)

    def _save_slots(self) -> None:
        """Replication slots: the positions followers confirmed, kept across crashes (``match`` is not)."""
        if self.slots is not None:
            for f, lsn in self.match.items():
                self.slots[f] = max(self.slots.get(f, 0), lsn)

    def on_stale(self, src: str, epoch: int) -> None:
        """Old leader: a follower refused our append because a newer epoch exists."""
        if not self.up:
            self.host.dead_letter(self.name, "stale", src)
        elif self.role == LEADER and epoch > self.epoch and self.fencing:
            self._step_down(epoch, f"{src!r} refused epoch {self.epoch}: epoch {epoch} exists")

    def _step_down(self, epoch: int, why: str) -> None:
        self._abort_pending(f"{self.name!r} was deposed before enough replicas confirmed: outcome unknown")
        self._become_follower(None)
        self.epoch = epoch
        self._changed()
        self._event("fenced", why)

    def _become_follower(self, leader: str | None) -> None:
        self.role = FOLLOWER
        self.leader = leader
        self.followers = []
        self.match.clear()
        self.progress.clear()
        self._stream = None
        self._asked = None
        self.heartbeat_timer.cancel()

    def follow(self, leader: str | None, epoch: int | None = None) -> None:
        """Become a follower of ``leader`` (an operator's repointing; None: of nobody yet).

        ``epoch``: the leader's epoch, which the node takes on (a standby told the new timeline),
        so that a message still on its way from a leader deposed before cannot take it back.
        """
        if self._inbox:
            self._drain()
        self._abort_pending(
            f"{self.name!r} stopped leading before enough replicas confirmed: outcome unknown"
        )
        self._become_follower(leader)
        if epoch is not None and epoch > self.epoch:
            self.epoch = epoch
        self.needs_rebuild = None
        self._changed()

    def become_leader(self, epoch: int, followers: list[str]) -> None:
        """Take over as leader of a new epoch (a promotion) and announce it."""
        if self._inbox:
            self._drain()  # like a standby replaying all the WAL it received before it is promoted
        self.role = LEADER
        self.leader = self.name
        self.epoch = epoch
        self.followers = list(followers)
        self.epoch_history = self.log.segments() + ((epoch, self.lsn + 1),)
        self.match.clear()
        self.progress.clear()
        self.pending.clear()
        self._retries = []
        self._asked = None
        self._stream = None
        self.needs_rebuild = None
        self._changed()
        self.heartbeat()
        if self.heartbeat_interval:
            self.heartbeat_timer.set(self.heartbeat_interval)

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
