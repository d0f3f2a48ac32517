# %% [markdown]
# # Lesson 7 — Sync vs async: what "committed" promises, and what it costs
#
# **Time:** about 45 minutes.
#
# **Questions this lesson answers**
# - When a leader tells a client "committed", what has it waited for?
# - What can a standby's confirmation mean: received, on disk, or visible to reads?
# - What does each commit mode cost in write latency, and which acknowledged writes can it still lose
#   when the leader fails?
# - What happens to writes when a synchronous standby is slow or dead?
# - Why would a bank and a social feed choose differently?
#
# **By the end of this lesson you can**
# - describe asynchronous, semi-synchronous (MySQL), synchronous `FIRST k` and quorum `ANY k`
#   (PostgreSQL) commit, and PostgreSQL's `remote_write`, `on` and `remote_apply`;
# - work out the latency of a write from the distances and the stage waited for;
# - read a measured trade-off (latency against writes lost over dozens of failovers) and say where each
#   mode loses nothing and where it still can;
# - explain why a lone synchronous standby stalls every write when it fails, and what quorum and fallback
#   do about it;
# - choose a mode for a workload, and defend the choice with numbers.
#
# Lessons 5 and 6 ended on the same open question: a write the leader acknowledged but no follower had is
# lost at failover, so what should the leader wait for before it says "committed"? This lesson answers it,
# and counts what each answer costs. Run the cells from top to bottom (**Shift+Enter**). Every number comes
# from a seeded simulation.

# %% [markdown]
# ## The picture
#
# A bank teller takes your deposit and stamps your slip: "done". Where is your money recorded at that
# moment? Only in the teller's own book, with a copy to be couriered to head office tonight? Or did the
# teller first phone head office and wait until someone there said "got it", or "filed it in the safe", or
# "it is in the ledger every teller can see"? The longer the teller waits, the slower the queue moves, and
# the less can be lost if the branch burns down before the courier leaves.
#
# | At the bank | In a database |
# |---|---|
# | the teller | the **leader** (primary) |
# | head office | a **standby** (follower) |
# | stamping the slip | **acknowledging** the write: the client is told "committed" |
# | stamping first, couriering the copy later | **asynchronous** commit |
# | phoning head office and waiting | **synchronous** commit |
# | "got it" / "filed in the safe" / "in the ledger" | the standby has **received** / **flushed** / **applied** the write |
# | the branch burning down | the leader failing, and a standby being **promoted** |
#
# | Mode | The client is told "committed" once... | Where |
# |---|---|---|
# | asynchronous | the leader has the write | the default of PostgreSQL, MySQL and Redis |
# | semi-synchronous | any one replica has received and flushed it, but after a timeout the leader stops waiting (falls back to asynchronous) until a replica catches up | MySQL (`rpl_semi_sync_source_timeout`, 10 s by default) |
# | synchronous, `FIRST k (s1, s2, ...)` | the first k standbys of the list that are connected have confirmed it; the others stand in, in order | PostgreSQL `synchronous_standby_names` |
# | quorum, `ANY k (s1, s2, ...)` | any k of the listed standbys have confirmed it | PostgreSQL; MongoDB's `w: "majority"` (its default since 5.0) is a quorum too |
#
# PostgreSQL's `synchronous_commit` says what a confirmation means: `remote_write` (the standby has handed
# the write to its operating system, not necessarily to stable storage yet), `on` (flushed to the
# standby's disk) or `remote_apply` (replayed, so queries on the standby see it). `on` is the setting's
# default; it waits for a standby only once `synchronous_standby_names` names one. With no synchronous
# standby named, PostgreSQL commits asynchronously.

# %%
import matplotlib.pyplot as plt
import numpy as np

from replsim import Cluster
from replsim.ui.figures import acknowledged_plot, same_scales, stage_timeline, tradeoff_plot
from replsim.lesson import check_choice, check_prediction
from replsim.node.commit import STAGES, First, Quorum
from replsim.ui.course_actions import ACK_PLOT, commit_world
from replsim.course.sweep import MODES, STANDBYS, commit_sweep, scenario, summary, table
from replsim.ui import ControlPanel

# %% [markdown]
# ## 1. What "confirmed" means
#
# A primary and one standby 10 ms away. The standby takes 5 ms to flush what it receives to disk, and it is
# busy: 15 ms to apply each change. A client next to the primary (0.5 ms away) writes a balance, with the
# standby synchronous (`FIRST 1 (standby)`), once for each meaning of "confirmed". As soon as the writer
# hears "committed", a reader next to the standby reads the balance there.
#
# > **Think first.** With `remote_apply`, how many milliseconds pass between the client sending its write and
# > hearing "committed"? Write your guess below before you run the cells after it.

# %%
my_prediction = None  # replace None with your guess in ms, then run this cell and the next ones


# %% jupyter={"outputs_hidden": true}
def one_write(stage):
    """One write with the standby confirming at ``stage``: when each step happened (ms), what a reader saw."""
    c = Cluster(leader="primary", followers=["standby"], delay=0.010, seed=7)
    c.set_stages("standby", flush=0.005, apply=0.015)
    c.set_commit(First(1, ["standby"], stage=stage))
    c.advance(1.0)  # the standby is connected and streaming
    writer = c.client("writer", near="primary")
    reader = c.client("reader", near="standby")
    w = writer.write("balance", 100)
    while w.outcome == "pending":
        c.advance(0.0005)
    r = reader.read("balance", node="standby")  # at once after "committed"
    c.advance(0.1)
    said = [m for m in c.network.messages if m.src == "standby" and m.fields.get("lsn", 0) >= w.lsn]
    ms = lambda t: round((t - w.invoke) * 1000, 1)  # noqa: E731
    return {
        "received": ms(min(m.sent for m in said if m.kind == "confirm" and not m.fields["flushed"])),
        "flushed": ms(min(m.sent for m in said if m.kind == "confirm" and m.fields["flushed"])),
        "applied": ms(min(m.sent for m in said if m.kind == "ack")),
        "acknowledged": ms(w.complete),
    }, r.value


print("One write for each meaning of confirmed:")
steps = {}
for stage, setting in STAGES.items():
    steps[setting], seen = one_write(stage)
    print(
        f"{setting:13} committed after {steps[setting]['acknowledged']:4.1f} ms; the reader at the standby saw {seen}"
    )

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    steps["remote_apply"]["acknowledged"],
    "{} ms",
    unit=" ms",
    tolerance=0.5,
    explain="Add up every step the write waits for: to the primary, to the standby, flush, apply, and back.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **41 ms**: 0.5 ms to the primary, 10 ms to the standby, 5 ms to flush, 15 ms to apply, 10 ms for the
# confirmation to come back, 0.5 ms to the client. `remote_write` skips the flush and the apply (21 ms),
# `on` skips the apply (26 ms). Only with `remote_apply` does a reader at the standby see the balance the
# moment the writer is told it is committed: this is how PostgreSQL offers read-your-writes on a standby.
# </details>

# %%
fig = stage_timeline(steps)
fig.set_size_inches(9, 2.8)
plt.show()

# %% [markdown]
# What survives depends on what was confirmed, too: a standby that has *received* a write survives a crash
# of its database process (the operating system holds the data), but not a power cut before the flush. The
# simulator's crash is a process crash, so in it `remote_write` loses no more than `on`; on real machines it
# can.

# %% [markdown]
# ## 2. The trade-off, measured
#
# Now a primary with three standbys: `standby-1` in the primary's zone (0.5 ms away), `standby-2` in another
# zone (3 ms), `standby-3` in another region (35 ms). The near two flush in 1 ms and apply a change in 0.5 ms.
# A client next to the primary writes about 200 times a second; at a random moment between 0.5 and 1.5 s the
# primary crashes, and the standby that has received the most is promoted at once. Before the crash, in a
# quarter of the runs the network fails (the primary can reach no standby for 0.1 to 0.5 s), and in a quarter
# the whole zone fails (`standby-1` goes down with the primary). Each mode runs on the same seeded
# failovers. (The timeouts are short, to fit the runs: semi-sync gives up after 0.3 s, and a silent
# standby stops counting as connected after 2 s.) The cell runs 30 seeded failovers per mode, a second or
# so per mode, printing a line as each mode is done; set `FAILOVERS = 100` for the larger run (about 15 s).
#
# > **Quick check.** Which mode do you expect to lose **no** acknowledged write in any of these failovers,
# > zone failures included?
# >
# > - **a)** semi-synchronous
# > - **b)** `FIRST 1, on`
# > - **c)** `ANY 2, on`

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "c",
    {
        "a": "Semi-sync stops waiting after its timeout: during a long network fault it acknowledges writes"
        " no replica has, and a failover then loses them.",
        "b": "`FIRST 1` is safe when the standby that confirmed is the one promoted. When the zone fails,"
        " `standby-1` goes down with the primary, and `standby-2`, which never had to confirm, takes over.",
        "c": "Two confirmations from standbys in different places: no single zone failure takes both, so"
        " whoever is promoted, one confirmed copy is there (if the most up-to-date standby is chosen).",
    },
)

# %% jupyter={"outputs_hidden": true}
FAILOVERS = 30
print(f"{FAILOVERS} seeded failovers per commit mode (a line as each mode is done):")
runs = []
for mode, policy in MODES.items():
    runs += commit_sweep({mode: policy}, seeds=range(FAILOVERS))
    print(f"{mode}: {FAILOVERS} failovers run")
rows = summary(runs)
print(table(rows))

# %% jupyter={"outputs_hidden": true}
fig = tradeoff_plot(runs)
fig.set_size_inches(12, 4.6)
plt.show()

# %% [markdown]
# "Writes waiting" counts writes the client had sent but not yet heard back about when the primary crashed:
# their outcome is unknown to the client. They are the cost of waiting, paid in availability. Where did the
# lost writes come from?

# %%
for mode in ["async", "semi-sync", "FIRST 1, remote_write", "FIRST 1, on", "ANY 2, on"]:
    mine = [r for r in runs if r.mode == mode]
    net = sum(r.lost for r in mine if r.network_fault)
    zone = sum(r.lost for r in mine if r.zone_failure and not r.network_fault)
    unconfirmed = sum(r.lost_unconfirmed for r in mine)
    by_promoted = {s: sum(r.lost for r in mine if r.promoted == s) for s in STANDBYS}
    print(
        f"{mode:22} lost {sum(r.lost for r in mine):4d}: {net:4d} after a network fault, {zone:2d} when the zone "
        f"failed; {unconfirmed:4d} acknowledged with no confirmation; by standby promoted: {by_promoted}"
    )

# %% [markdown]
# Where each mode loses nothing, and where it still can:
#
# - **Asynchronous** is fastest (1 ms) and loses whatever had not reached the promoted standby: a few writes
#   in flight when the zone fails, and every write of a network fault.
# - **Semi-synchronous** waits for one replica (3 ms), and loses nothing while it waits. But when no replica
#   answers for 0.3 s it falls back to asynchronous: every write acknowledged after that is unconfirmed, and
#   lost if the primary then fails. It can also lose when the one replica that confirmed fails with the
#   primary (the zone failures).
# - **`FIRST 1`** loses nothing when the standby that confirmed is the one promoted (`standby-1` here: no
#   loss in any run). When the zone takes `standby-1` down too, `standby-2` is promoted, and it had not
#   confirmed the newest writes: they are lost, though the client was told "committed". A network fault
#   costs it no writes, only time: the writes wait.
# - **`ANY 2`** needs two confirmations, so one always survives the loss of a zone: no write lost in any
#   run. It pays 8 ms a write, the round trip to the second-nearest standby.
#
# Synchronous replication protects exactly the writes held by a standby that confirmed them; choosing whom
# to promote matters as much as the commit mode.

# %% [markdown]
# ## 3. When a synchronous standby is slow or dead
#
# A synchronous commit cannot finish without its standby. Three primaries, each with a client writing 50
# times a second; at t = 2 s `standby-1` dies, at t = 7 s it comes back:
#
# - `FIRST 1 (standby-1)`: the only synchronous standby, nobody to stand in;
# - `FIRST 1 (standby-1, standby-2, standby-3)`: once the primary notices `standby-1` is gone,
#   `standby-2` takes its place. PostgreSQL swaps at once when the standby's connection closes (its process
#   died on a running machine); when the standby just goes silent (its machine or the network failed), it
#   notices after `wal_sender_timeout`, 60 s by default. Here the death is a silent one, and the timeout
#   is 2 s;
# - `ANY 2 (standby-1, standby-2, standby-3)`: any two of the three.
#
# > **Quick check.** With `FIRST 1 (standby-1)` alone, what happens to the client's writes while
# > `standby-1` is down?
# >
# > - **a)** the primary notices and commits them asynchronously until the standby is back
# > - **b)** each one waits, unanswered, until `standby-1` is back
# > - **c)** each one fails at once with an error

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "That is MySQL's semi-sync after its timeout. PostgreSQL never drops the guarantee by itself:"
        " a synchronous commit is not reported until a listed standby confirms it.",
        "b": "The commit is written on the primary but not reported to the client until the standby"
        " confirms, and there is no stand-in: writes pile up for as long as it is down.",
        "c": "The primary has nothing to refuse them for: it is up and writes them locally. What it cannot"
        " do is get the confirmation, so it keeps the client waiting.",
    },
)

# %% jupyter={"outputs_hidden": true}
setups = {
    "FIRST 1 (standby-1)": lambda: First(1, ["standby-1"], timeout=2.0),
    "FIRST 1 (standby-1, standby-2, standby-3)": lambda: First(1, list(STANDBYS), timeout=2.0),
    "ANY 2 (standby-1, standby-2, standby-3)": lambda: Quorum(2, list(STANDBYS)),
}
print("Writes while standby-1 is down, for each set-up:")
fig, axes = plt.subplots(3, 1, figsize=(10, 8.5), layout="constrained", sharex=True)
for ax, (name, make) in zip(axes, setups.items()):
    c = scenario(7)
    c.set_commit(make())
    c.start_writes(rate=50)
    c.run(until=2.0)
    c.crash("standby-1")
    c.run(until=7.0)
    c.recover("standby-1")
    c.run(until=9.0)
    acknowledged_plot(c, ax=ax, title=name)
    ok = [o for o in c.history.writes() if o.outcome == "ok"]
    longest = max(o.complete - o.invoke for o in ok)
    while_down = sum(2.0 <= o.complete < 7.0 for o in ok)
    print(
        f"{name:42}: longest wait {longest:.2f} s; {while_down} writes acknowledged while standby-1 was down"
    )
same_scales(axes)  # one scale for the three, so that they compare
plt.show()

# %% [markdown]
# With one synchronous standby and nobody to stand in, **every write stalls** while it is down, for as long
# as it is down: the database is up, and unusable for writes. This is why PostgreSQL lets you list stand-ins
# (`FIRST`) or ask for a quorum (`ANY`), and why MySQL's semi-sync falls back to asynchronous after a timeout:
# the first two keep the guarantee and pay with a pause (2 s here) or with the latency of a farther standby
# (70 ms here, `standby-3`'s round trip); the fallback keeps writing and quietly drops the guarantee.
#
# A standby that is merely *slow* is worse in one way: it stays connected, so `FIRST 1` keeps waiting for it
# on every write, while `ANY 1` of two standbys takes whichever answers first. Here the route to `standby-1`
# slows to 50 ms each way:

# %%
for name, make in {
    "FIRST 1 (standby-1, standby-2)": lambda: First(1, ["standby-1", "standby-2"], timeout=2.0),
    "ANY 1 (standby-1, standby-2)": lambda: Quorum(1, ["standby-1", "standby-2"]),
}.items():
    c = scenario(7)
    c.set_commit(make())
    c.set_link("primary", "standby-1", delay=0.050)
    c.start_writes(rate=50)
    c.run(until=2.0)
    waits = [o.complete - o.invoke for o in c.history.writes() if o.outcome == "ok"]
    print(f"{name:31}: median write {1000 * np.median(waits):5.1f} ms")

# %% [markdown]
# ## 4. A bank and a social feed
#
# Read the measured numbers as two product owners would:

# %%
by_mode = {r["mode"]: r for r in rows}
bank, feed = by_mode["ANY 2, on"], by_mode["async"]
print(
    f"bank, ANY 2 on: {bank['median ms']:.1f} ms a write, {bank['writes lost']} writes lost in "
    f"{bank['failovers']} failovers; {bank['writes waiting']} writes left waiting, outcome unknown"
)
print(
    f"feed, async:    {feed['median ms']:.1f} ms a write, {feed['writes lost']} writes lost in "
    f"{feed['failovers losing']} of {feed['failovers']} failovers; {feed['writes waiting']} writes left waiting"
)

# %% [markdown]
# - **A bank** cannot tell a customer "deposited" and then lose the deposit. It pays 8 times the latency of an
#   asynchronous commit, and accepts that during a network fault deposits *wait* (their outcome unknown until
#   the client asks again) rather than being confirmed and lost. A quorum across zones (`ANY 2`, or MongoDB's
#   `w: "majority"`) is its natural choice.
# - **A social feed** posts far more, from users who will not wait. Losing a handful of posts in the rare
#   failover that follows a network fault is an annoyance; a feed that stalls whenever one standby hiccups
#   loses its users. Asynchronous replication, the default almost everywhere, is its natural choice.
#
# No mode here gets low latency, no loss and writes that never wait all at once: each gives up some of one
# to get more of another (`ANY 2` keeps both no-loss and writing through one standby's failure, and pays in
# latency, and in waiting during a partition). The formal statements of such trade-offs are CAP and its
# refinement PACELC (Abadi, 2012); the numbers above are this cluster's version of them.
#
# Whichever mode you pick, the operating rule the whole course points to is the same: **keep the copies
# caught up for as long as the network lets you, and hand the leadership to another copy only when the
# leader is really gone**, choosing the copy that confirmed the most.

# %% [markdown]
# ## Your turn
#
# The panel runs the primary and three standbys of section 2. Pick a commit mode in **commit**; the writes/s
# slider starts a client writing to the leader. **Partition** cuts the chosen node off from the others;
# **Fail over** crashes the leader and promotes the standby that has received the most. Under the buttons the
# panel counts the writes acknowledged, waiting, of unknown outcome, and lost. To start again, run the panel's
# cell again.
#
# **Task.**
# 1. With **async** and 20 writes/s: Advance 1 s, pick `primary` and Partition it, Advance 1 s, Fail over.
#    How many acknowledged writes are lost?
# 2. Start again with **FIRST 1, on** and the same steps. How many are lost now, and what happened to the
#    writes sent during the partition?
# 3. Start again with **semi-sync**: once with 1 s between Partition and Fail over, once with 0.2 s. Why do
#    the two differ?
# 4. Start again with **FIRST 1 (standby-1) alone**: crash `standby-1`, Advance 3 s. What happens to the
#    acknowledged writes per second? Then recover `standby-1` and Advance 1 s.

# %% tags=["nbval-ignore-output"]
panel = ControlPanel(
    commit_world(),
    actions=("commit", "write", "crash", "recover", "partition", "heal", "failover", "rate", "advance"),
    plots=("cluster", ACK_PLOT),
)
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# 1. **20 lost.** During the partition the primary kept acknowledging, 20 writes in 1 s, and none of them
#    reached a standby. `standby-1` is promoted without them.
# 2. **None lost.** The 20 writes sent during the partition were never acknowledged: they waited for a
#    confirmation that could not come, and when the primary crashed their outcome became unknown (the panel
#    counts 20). The client must find out, or retry; nothing it was told "committed" is gone.
# 3. With 1 s, semi-sync gave up waiting after 0.3 s and acknowledged the rest without any replica: **20
#    lost**, like async. With 0.2 s, the timeout had not fired yet: **none lost**, 4 writes of unknown outcome.
#    Semi-sync is synchronous only until its timeout.
# 4. Acknowledged writes per second drop to **0**: every write waits for `standby-1`, and the waiting ones
#    pile up (61 after 3 s). When it recovers it catches up, confirms, and they are all acknowledged at once;
#    the longest waited 3 s.
# </details>


# %% [markdown]
# ## Key points
#
# - A commit mode decides what the leader waits for before saying "committed": nothing (**asynchronous**),
#   one replica with a timeout (**semi-sync**), the first k connected standbys of a list (**`FIRST k`**), or
#   any k of them (**`ANY k`**, a quorum).
# - "Confirmed" can mean **received**, **flushed** or **applied** (`remote_write`, `on`, `remote_apply`): each
#   costs more time, and only `remote_apply` lets readers of the standby see the write at once.
# - Measured over 30 failovers: asynchronous is fastest and loses writes; semi-sync loses them after its
#   timeout fires; `FIRST 1` loses them when the standby promoted is not the one that confirmed; `ANY 2` across
#   zones lost none, at 8 times the latency.
# - A lone synchronous standby that fails **stalls every write**; stand-ins (`FIRST`), quorums (`ANY`) and
#   fallback (semi-sync) trade that stall for a pause, for latency, or for the guarantee itself.
# - A bank waits for a quorum; a social feed does not wait. Both choices are right for their product.
# - Keep the copies caught up while you can; promote another copy only when you must, and pick the one that
#   confirmed the most.
#
# **Next:** [Lesson 8, the lab on a real PostgreSQL](08_real_postgresql.ipynb): the same lag, promotion and
# split brain on real servers, then the [recap and quiz](09_recap_quiz.ipynb). Back to the
# [map of the course](00_start_here.ipynb).
