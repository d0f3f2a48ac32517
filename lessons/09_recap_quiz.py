# %% [markdown]
# # Lesson 9 — Recap and quiz: predict, then run
#
# **Time:** about 55 minutes.
#
# **Questions this lesson answers**
# - Which five ideas hold the course together, and why replicate at all?
# - Can you predict, in numbers, what a replicated database does before you run it?
# - Can you tell the replication methods, the read anomalies and the commit modes apart?
# - How do you build a scenario of your own, as a learner or an instructor?
#
# **By the end of this lesson you can**
# - state the course's five ideas and the number each one turns into;
# - predict lag, stale reads, lost writes and discarded writes for a scenario you have not seen before;
# - pick the reason to replicate, the method, the read policy and the commit mode a situation calls for;
# - build your own scenario in a few calls and check your prediction against it.
#
# Questions 1 to 5 are **fresh** scenarios, seeded so that everyone gets the same numbers. For each: read
# it, put your guess in the `my_prediction_...` cell, run the cells after it. Questions 6 to 9 are quick
# checks with choices over the rest of the course: put a letter in `my_choice` and run the next cell. A
# wrong answer gets the reason, not just "wrong". Nothing here is graded; the point is to notice where your model of a
# replicated database was off.

# %% [markdown]
# ## The picture, one last time
#
# | The course's picture | What it stands for | Where you saw it |
# |---|---|---|
# | copies on several machines | why replicate: **availability**, **read scaling**, **geography** | lessons 0, 2, 4 |
# | the news anchor and the channels | one **leader** takes every write; **followers** copy its stream, mistakes included | lesson 1 |
# | the head chef's numbered notes | the **replication log**: entries in order, each follower's **position**, snapshots | lesson 2 |
# | saying the instruction, the result, or photocopying pages | statement, row and physical **replication methods** | lesson 3 |
# | a channel showing yesterday's news | **lag** and **stale reads**, and the read anomalies they cause | lesson 4 |
# | the anchor falling, a channel taking over | **failover**: acknowledged writes the new leader never had are **lost** | lesson 5 |
# | two studios both on air | **split brain**: epochs, fencing and majorities keep one leader | lesson 6 |
# | the teller who stamps first, or phones head office first | **commit modes**: what "committed" waits for | lesson 7 |
#
# Questions 1 to 5 follow the leader, the log, lag, failover and split brain; 6 to 9 the reasons to
# replicate, the methods, read policies and commit modes.

# %%
from replsim import Cluster
from replsim.lesson import check_choice, check_prediction
from replsim.ui.plots import lag_plot
from replsim.ui import ControlPanel
import matplotlib.pyplot as plt

# %% [markdown]
# ## 1. One leader, and copies that arrive later
#
# A price list: one leader, two followers, **80 ms** one way to each. The price of a product is set to 10;
# a second later it is changed to 12. **50 ms** after that change, a client reads the price from `f1`.
#
# > **Think first.** What does `f1` answer?

# %%
my_prediction_1 = None  # replace None with your guess (a number), then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
prices = Cluster(leader="leader", followers=["f1", "f2"], delay=0.080, seed=9)
prices.write("price", 10)
prices.advance(1.0)
prices.write("price", 12)
prices.advance(0.050)
answer_1 = prices.read("price", "f1")
check_prediction(
    my_prediction_1,
    answer_1,
    "f1 still answers {}",
    explain="The change to 12 is still on the wire (80 ms one way): a follower answers with what it has.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **10.** The leader took the change to 12 at once, but the copy needs 80 ms to reach `f1`, and the client
# asked after 50. The follower is not wrong, only late: it answers from the last entry it applied. Ask
# again 30 ms later and it says 12. That delay is built into leader-follower replication; it is small
# when the network is fast, and it never quite goes away.
# </details>

# %% [markdown]
# ## 2. The log: catching up needs the log
#
# A leader writes **5 entries a second**. Follower `f2` is switched off at t = 2 s and back at t = 32 s.
# The leader keeps only the last few dozen entries for followers that fall behind (`keep_log=30`, like
# PostgreSQL's `wal_keep_size` with no replication slot), and compacts older ones away from time to time.
#
# > **Think first.** How many entries behind the leader is `f2` when it comes back (within 2 counts as
# > right)? And can it catch up by asking for them: **a)** yes, it only takes longer; **b)** no?

# %%
my_prediction_2 = None  # your guess: entries behind when f2 comes back (a whole number)
my_choice_2 = None  # "a" (it catches up by asking) or "b" (it cannot)

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
kitchen = Cluster(leader="leader", followers=["f1", "f2"], delay=0.010, seed=9, keep_log=30)
kitchen.start_writes(rate=5)
kitchen.run(until=2.0)
kitchen.crash("f2")
kitchen.run(until=32.0)
answer_2 = kitchen.lag()["f2"]
check_prediction(
    my_prediction_2,
    answer_2,
    "f2 is {} entries behind",
    tolerance=2,
    explain="About 30 s away at 5 entries a second is about 150 entries.",
)
kitchen.recover("f2")
kitchen.advance(1.0)
needs_rebuild = [e.detail for e in kitchen.history.events if e.kind == "needs rebuild"]
check_choice(
    my_choice_2,
    "b",
    {
        "a": "Catching up by asking needs the entries right after f2's position, and with keep_log=30 the"
        " leader kept only its last few dozen: the ones f2 needs are gone.",
        "b": "The leader no longer has the entries after f2's position, so f2 must be rebuilt from a fresh"
        " copy (or a replication slot must have kept the log for it).",
    },
)
print(f"the leader's log now starts after lsn {kitchen.node('leader').log.base}; f2 holds up to lsn "
      f"{kitchen.node('f2').lsn}")
print(needs_rebuild)
kitchen.rebuild("f2")
kitchen.advance(1.0)
print("after rebuild():", kitchen.lag())

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **151 entries** (30 s at 5 a second, plus the write sent at the very moment it returned), and **no**, it
# cannot catch up by asking: the leader has compacted away everything up to lsn 95, and `f2` stopped at
# lsn 10. A follower catches up from its position only while the leader still has the log after that
# position. Here it has to be rebuilt from a fresh copy (`rebuild()`, PostgreSQL's `pg_basebackup`); a
# replication slot would have kept the log for it, at the price of the leader's disk.
# </details>

# %% [markdown]
# ## 3. Lag: how far behind, at worst
#
# A follower `far` sits behind a slow link: **270 ms** one way (about what a link through a geostationary
# satellite takes). A client writes **20 times a second**, steadily. Nothing fails.
#
# > **Think first.** At worst, how many entries is `far` behind the leader?

# %%
my_prediction_3 = None  # your guess: the most entries far is ever behind (a whole number)

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
import numpy as np

steady = Cluster(leader="leader", followers=["near", "far"], delay=0.005, seed=9)
steady.set_link("leader", "far", delay=0.270)
steady.start_writes(rate=20)
steady.advance(10.0)
behind, seconds = steady.history.lag("far", np.linspace(0, 10, 40001))
answer_3 = int(behind.max())
check_prediction(
    my_prediction_3,
    answer_3,
    "far is at most {} entries behind",
    explain="Count the writes that fit in 270 ms at one every 50 ms: they are all on the wire at once.",
)
print(f"and at most {seconds.max() * 1000:.0f} ms behind in time")

# %% jupyter={"outputs_hidden": true}
fig, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
lag_plot(steady, ax=ax)
ax.set_xlim(0, 2)
plt.show()

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **6 entries.** Lag in *entries* is the write rate times the lag in *time*: 270 ms of writes at one every
# 50 ms is 5.4, so at some moments 6 writes are in flight at once. In time, `far` is never more than
# 270 ms behind. The same follower under 200 writes a second would be 54 entries behind with the same
# 270 ms: that is why lag is best watched in time (PostgreSQL's `replay_lag`), not only in positions.
# </details>

# %% [markdown]
# ## 4. Failover: which acknowledged writes survive?
#
# A leader with two followers, writing **10 times a second**. At t = 5 s the link to `replica-2` breaks (the
# leader keeps going). At t = 8 s the leader crashes, and an operator promotes **`replica-2`**. This
# cluster is **synchronous with one replica** (`sync_replicas=1`): a write is acknowledged only once a
# follower holds it.
#
# > **Think first.** How many acknowledged writes are lost?

# %%
my_prediction_4 = None  # your guess: acknowledged writes lost (a whole number)

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
def failover(sync_replicas, promote):
    """The scenario of question 4: the link to replica-2 breaks at 5 s, the leader crashes at 8 s."""
    c = Cluster(leader="primary", followers=["replica-1", "replica-2"], delay=0.010, seed=9,
                sync_replicas=sync_replicas)
    c.start_writes(rate=10)
    c.run(until=5.0)
    c.cut("primary", "replica-2")
    c.run(until=8.0)
    c.crash("primary")
    c.promote(promote)
    c.advance(1.0)
    return c


answer_4 = len(failover(1, "replica-2").lost_writes())
check_prediction(
    my_prediction_4,
    answer_4,
    "{} acknowledged writes are lost",
    explain="Synchronous replication protects a write only on the follower that confirmed it. replica-1 "
    "confirmed every write; replica-2, the one promoted, got none after t = 5 s.",
)
for sync, promote in ((0, "replica-2"), (1, "replica-2"), (1, "replica-1")):
    lost = failover(sync, promote).lost_writes()
    print(f"sync_replicas={sync}, promote {promote}: {len(lost)} acknowledged writes lost")

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **29**, nearly as many as with no synchronous replica at all (30). Every write from t = 5.1 s to 7.9 s was
# confirmed by `replica-1` and acknowledged, but `replica-2` never received them, and the operator promoted
# `replica-2`. (The write sent at exactly t = 8.0 s was still waiting for its confirmation when the leader
# crashed: its client never got an answer, so its outcome is *unknown*, not acknowledged.) Promote
# `replica-1` instead and nothing acknowledged is lost. With `ANY 1` of two standbys, as in PostgreSQL,
# synchronous replication only closes the gap if you promote a standby that confirmed.
# </details>

# %% [markdown]
# ## 5. Split brain: what the old leader's clients lose
#
# A partition cuts the leader `primary` off from both followers. An operator who cannot reach it promotes
# `replica-1`, but `primary` is still running, and a client next to it keeps writing to it: **20 writes, one
# every 100 ms**. Then the partition heals, and `primary` rejoins as a follower of `replica-1`.
#
# > **Think first.** How many of those writes survive the rejoin?

# %%
my_prediction_5 = None  # your guess: how many of primary's 20 writes survive (a whole number)

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
print("The partition, the promotion, and 20 writes on the old leader:")
brain = Cluster(leader="primary", followers=["replica-1", "replica-2"], delay=0.010, seed=9)
brain.start_writes(rate=10)
brain.run(until=3.0)
brain.partition(["primary"])
brain.promote("replica-1", followers=["replica-2"])
old_side = []
for i in range(20):
    old_side.append(brain.write("x", f"old-{i}", node="primary"))
    brain.advance(0.1)
print("leaders during the partition:", brain.leaders())
brain.heal()
brain.rejoin("primary")
brain.advance(1.0)
kept = [op for op in old_side if op not in brain.lost_writes()]
answer_5 = len(kept)
check_prediction(
    my_prediction_5,
    answer_5,
    "{} of them survive",
    explain="Nobody else ever had them: when primary rejoins, it discards every entry the new leader's "
    "log does not have.",
)
print(f"primary discarded {len(brain.node('primary').rolled_back)} entries; leaders now: {brain.leaders()}")

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **None.** All 20 were acknowledged to their client, and all 20 were thrown away when `primary` rejoined:
# the new leader's log, a new epoch, never had them (PostgreSQL's `pg_rewind` and MongoDB's rollback do the
# same; MongoDB saves them in `rollback/` files for a person to look at). Two leaders at once is the
# disaster of lesson 6. The cure is a rule, not a faster operator: a leader must prove it still has a
# majority (terms, fencing, quorum), and a minority side must stop acknowledging writes.
# </details>

# %% [markdown]
# ## 6. Why replicate?
#
# A shop's only database server sits in Frankfurt. Its customers in Singapore complain that every page
# takes long to load, although the server is nearly idle.
#
# > **Quick check.** Which reason to replicate does their complaint call for?
# >
# > - **a)** availability: a standby ready to take over if the server dies
# > - **b)** read scaling: followers that share the reads
# > - **c)** geography: a copy near Singapore that answers its readers

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next one

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "c",
    {
        "a": "A standby protects against the server dying. It would sit in Frankfurt or next to it and make"
        " no Singapore page any faster.",
        "b": "Read scaling helps a busy server; this one is nearly idle. The time goes into the round trip"
        " between Singapore and Frankfurt, which more copies in Frankfurt do not shorten.",
        "c": "The delay is distance: a follower in or near Singapore answers their reads in a few ms, at"
        " the price of reads that can be a little stale (lesson 4). Writes still travel to the leader.",
    },
)

# %% [markdown]
# ## 7. Replication methods
#
# The leader runs `UPDATE items SET price = price * (1 + random() / 1e20)` on 1,000 items, and ships it to
# two followers.
#
# > **Quick check.** Which way of shipping it leaves the followers' rows equal to the leader's and costs the
# > fewest bytes?
# >
# > - **a)** statement shipping: the SQL text, run again on each follower
# > - **b)** row shipping: each changed row's new values
# > - **c)** physical shipping: every changed page

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next one

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "The smallest, but each follower draws its own random() numbers: its prices come out"
        " different, silently. (Shipping a seed helps only if every node visits the rows in the same order.)",
        "b": "Rows carry the values the leader computed, so the copies match, and 1,000 row changes cost"
        " tens of kB where whole pages cost more.",
        "c": "Pages are exact too, byte for byte, but every changed page travels whole: more bytes than the"
        " rows inside them, and the follower must use the same page format.",
    },
)

# %% [markdown]
# ## 8. Read anomalies and read policies
#
# Alice edits her profile, and the app at once reads it back, from whichever replica the load balancer
# picks. Sometimes she sees her old profile.
#
# > **Quick check.** Which read policy removes *her* anomaly without sending every read to the leader?
# >
# > - **a)** a sticky replica: each user always reads from the same replica
# > - **b)** wait for position: the read carries her write's log position, and the replica answers once
# >   it has applied it
# > - **c)** none: only reading from the leader can do that

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next one

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "A sticky replica never goes back in time (monotonic reads), but it can still be behind her"
        " own write: she can read her old profile from it, every time, until it catches up.",
        "b": "Her anomaly is a read-your-writes violation; waiting for her write's position on the replica"
        " fixes exactly that, at the cost of waiting when the replica is behind.",
        "c": "Only the leader protects her from *other people's* writes she has not seen yet. For her own"
        " write, the replica just has to wait until it has applied it.",
    },
)

# %% [markdown]
# ## 9. Commit modes
#
# A primary with `synchronous_standby_names = 'FIRST 1 (standby-1, standby-2)'` and `synchronous_commit =
# on`: `standby-1` in the primary's zone, `standby-2` in another. The whole zone fails (primary and
# `standby-1` at once), and `standby-2` is promoted.
#
# > **Quick check.** Can a write the primary acknowledged be lost?
# >
# > - **a)** no: the commit was synchronous
# > - **b)** yes: `standby-2` never had to confirm it
# > - **c)** no: PostgreSQL refuses to promote a standby that lacks acknowledged writes

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next one

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "Synchronous means one standby confirmed: with `FIRST 1` that was `standby-1`, which died"
        " with the primary. The guarantee lives only on the copy that confirmed.",
        "b": "Only `standby-1` confirmed, and the zone took it down too. Writes `standby-2` had not received"
        " yet are lost although acknowledged; `ANY 2` across zones would have saved them (lesson 7).",
        "c": "PostgreSQL promotes whatever standby you tell it to; it does not know what was acknowledged"
        " and does not check. Choosing whom to promote is the operator's (or the tool's) job.",
    },
)

# %% [markdown]
# ## Your turn: a scenario of your own
#
# Change the three choices in the next cell, predict, then run it. It builds the cluster of question 4 with
# your choices and reports what a client would have seen.
#
# **Task.** Find the choice of `MY_SYNC_REPLICAS` and `MY_PROMOTE` that loses no acknowledged write when
# replica-2 was cut off for 3 s. Then make the cut longer (`MY_CUT_SECONDS = 6`): does your choice still lose
# nothing? Finally, use the panel below to build the split brain of question 5 by hand: **Partition**
# `primary`, **Promote** `replica-1`, write to `primary`, **Heal**, and watch the picture.

# %%
MY_SYNC_REPLICAS = 0  # 0 (asynchronous), 1 or 2 (every follower must confirm)
MY_PROMOTE = "replica-2"  # "replica-1" or "replica-2"
MY_CUT_SECONDS = 3.0  # how long replica-2 is cut off before the leader crashes

mine = Cluster(leader="primary", followers=["replica-1", "replica-2"], delay=0.010, seed=9,
               sync_replicas=MY_SYNC_REPLICAS)
mine.start_writes(rate=10)
mine.run(until=5.0)
mine.cut("primary", "replica-2")
mine.run(until=5.0 + MY_CUT_SECONDS)
mine.crash("primary")
mine.promote(MY_PROMOTE)
mine.advance(1.0)
outcomes = [op.outcome for op in mine.history.writes()]
print(f"writes: {outcomes.count('ok')} acknowledged, {outcomes.count('info')} unknown, "
      f"{outcomes.count('fail')} refused, {outcomes.count('pending')} still waiting")
print(f"acknowledged writes lost after promoting {MY_PROMOTE}: {len(mine.lost_writes())}")

# %% tags=["nbval-ignore-output"]
panel = ControlPanel(
    Cluster(leader="primary", followers=["replica-1", "replica-2"], delay=0.010, seed=9),
    actions=("write", "crash", "recover", "promote", "partition", "heal", "advance"),
)
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# With `MY_SYNC_REPLICAS = 1`, promote **`replica-1`** (the one that confirmed): 0 lost, whatever the cut's
# length. With `MY_SYNC_REPLICAS = 2` the leader waits for both followers: while replica-2 is cut off, no
# write is acknowledged at all (they are "still waiting", then "unknown" at the crash), so nothing
# acknowledged can be lost, whichever follower you promote: the price is that the cluster stopped taking
# writes. With `MY_SYNC_REPLICAS = 0`, promoting replica-2 loses every write of the cut (10 a second), and
# even promoting replica-1 can lose the last write or two that were still on the wire.
#
# In the panel: after **Partition** and **Promote**, the picture shows two leaders (split brain); writes to
# `primary` are accepted. After **Heal**, the first message from the new leader's epoch reaches `primary`,
# which steps down (it is *fenced*) and discards what only it had.
# </details>

# %% [markdown]
# ## For instructors: a new scenario in a few calls
#
# A scenario is a seeded `Cluster`, a client, some faults, and a question whose answer the record gives.
# The recipe (it is in the README too, and a test runs it):
#
# ```python
# from replsim import Cluster
#
# c = Cluster(leader="primary", followers=["replica-1", "replica-2"], delay=0.020, seed=11)
# c.start_writes(rate=20)              # a client writing 20 times a second
# c.run(until=3.0)
# c.cut("primary", "replica-2")        # the fault: replica-2 stops receiving the stream
# c.run(until=5.0)
# c.crash("primary")
# c.promote("replica-2")               # the operator's choice
# print(len(c.lost_writes()), "acknowledged writes lost")
# ```
#
# It prints `40 acknowledged writes lost` on every machine. Give the learner a `my_prediction` cell and
# check it with `replsim.lesson.check_prediction(my_prediction, answer, "{} writes lost", explain=...)`;
# `explain` is what a wrong guess is told. Change the seed for a new variant; keep it in the text so the
# numbers you quote stay true.

# %% [markdown]
# ## Key points
#
# - **One leader** takes every write; followers apply its log in order, later, and serve what they have.
# - The **log and positions** let a follower catch up, but only while the leader keeps the log it needs;
#   otherwise it is rebuilt from a snapshot.
# - **Lag** is time; in entries it is the write rate times that time. A follower's answer can be stale.
# - **Failover** loses the acknowledged writes the promoted follower never had; synchronous replication
#   helps only if you promote a follower that confirmed.
# - **Split brain** turns a partition into writes that a side must throw away; epochs, fencing and majority
#   quorums are what keep a cluster to one leader that can acknowledge.
# - Replicate for **availability**, **read scaling** and **geography**; ship **rows** or **pages** rather
#   than statements when the SQL is not deterministic; pick a **read policy** for the anomaly you must
#   avoid and a **commit mode** for the loss you cannot accept.
#
# **The course in one line:** one node decides and the others copy it, a little late; every question after
# that is about what the copies can promise when the one that decides is slow, cut off, or gone.
#
# **Next:** back to the [map of the course](00_start_here.ipynb), or try the lab on a real PostgreSQL
# ([lesson 8](08_real_postgresql.ipynb)) if you have not yet.
