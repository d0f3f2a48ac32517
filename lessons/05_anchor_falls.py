# %% [markdown]
# # Lesson 5 — When the anchor falls: failover, and the writes it loses
#
# **Time:** about 55 minutes.
#
# **Questions this lesson answers**
# - When the leader crashes, what stops working, and what makes it work again?
# - A follower that is 5 seconds behind is promoted: exactly which acknowledged writes are lost?
# - Does promoting the most up-to-date follower save every write?
# - What does a client see when the leader dies under its write, and what can its retry do?
# - The old leader comes back holding writes nobody else has: what happens to them?
#
# **By the end of this lesson you can**
# - fail over by hand (promote a follower) and show that no write is accepted until someone does;
# - count, from the record of what happened, exactly which acknowledged writes a failover lost, by client
#   and key;
# - explain why the most up-to-date follower loses less but, with asynchronous replication, still loses some;
# - say what an *unknown outcome* is, how a retry can write something twice or bring back an old value, and
#   what an idempotency key fixes;
# - show which writes the old leader throws away when it rejoins, and keep them aside the way MongoDB does;
# - fork a simulation to try another decision from the same moment.
#
# Run the cells from top to bottom (**Shift+Enter**). Every number comes from a seeded simulation, so you see
# exactly the numbers quoted in the text.

# %% [markdown]
# ## The picture
#
# Halfway through the evening news the anchor collapses. The channels still show the last pictures they
# received, but nothing new goes out. The producer has to put someone else on air: a presenter at one of the
# channels takes over, working from what *that* channel had received. If its feed from the studio had
# dropped five seconds before the collapse, the last five seconds of news are gone: the desks that handed
# those items to the anchor were told "it's on air", and it never will be again.
#
# | In the studio | In a database |
# |---|---|
# | the anchor collapses | the **leader crashes** |
# | the producer puts a channel's presenter on air | **failover**: a follower is **promoted** to lead a new epoch |
# | the desks that handed in items | **clients** writing |
# | "it's on air" | the write is **acknowledged** (committed) |
# | items the anchor read that the new presenter never received | **acknowledged writes lost** in the failover |
# | the anchor, back on his feet, with notes nobody else has | the **old leader** returns with writes only it holds |
#
# The kitchen of lesson 2 has the same moment: the head chef walks out in the middle of service. The sous
# chefs can keep cooking what is already on their order books, but nobody may change a recipe until one of
# them is made head chef, and the new head chef's book becomes the kitchen's book. Any change the old chef
# had called out that this sous chef missed is simply not in it. Whether you picture an anchor or a chef,
# the question is the same: which follower takes over, and what is missing from its copy?
#
# Who does the promoting? Often a person. PostgreSQL does not notice that its primary has died, and it does
# not promote a standby by itself: an operator, or a tool such as Patroni or pg_auto_failover, does. This
# lesson is the operator's view: you decide when and whom to promote. Lesson 6 hands the decision to
# software.

# %%
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np

from replsim import Cluster, ReplsimError
from replsim.lesson import check_choice, check_prediction
from replsim.node.sender import send_in_batches
from replsim.ui.plots import OKABE_ITO, availability_plot
from replsim.ui import ControlPanel
from replsim.ui.view import ClusterView

CHANNELS = ["Channel A", "Channel B"]


def studio(seed=5):
    """The anchor and two channels, 50 ms apart; two desks write 4 and 2 times a second."""
    c = Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, seed=seed)
    send_in_batches(c, every=0.020)  # the anchor's sender ships what it has committed every 20 ms
    c.start_writes(rate=4, keys=["score", "standings"], name="sports desk")
    c.start_writes(rate=2, keys=["forecast"], name="weather desk")
    return c


# %% [markdown]
# Two clients write to the anchor: the **sports desk** four times a second (alternately the keys `score`
# and `standings`) and the **weather desk** twice a second (the key `forecast`). Each value is the desk's
# running count: 1, 2, 3, ...
#
# One detail matters later. A leader does not put each write on the wire the instant it commits it: it
# hands its log to a sender process (PostgreSQL's *walsender*, MySQL's binlog dump thread), which picks up
# what has been committed and ships it. With asynchronous replication nothing makes the client's
# "committed" wait for that shipment, so the client may hear it before the write has left the leader. Here
# the anchor's sender ships every 20 ms.

# %% [markdown]
# ## 1. The anchor falls, and no new writes are accepted
#
# At t = 10 s Channel B's feed from the studio drops: it keeps running, but receives nothing more. At
# t = 15 s the anchor crashes.

# %%
c = studio()
c.run(until=10.0)
c.cut("Anchor", "Channel B")  # messages from the anchor to Channel B are lost from now on
c.run(until=15.0)
print(c.table())
entries_behind, seconds_behind = c.history.lag("Channel B", [15.0])
print(f"Channel B lacks every write from t = 10 s on: {entries_behind[0]} entries")

# %%
c.crash("Anchor")
what_if = c.fork()  # a copy of this very moment, for section 3
c.run(until=20.0)
tried = [o for o in c.history.writes() if 15.0 < o.invoke <= 20.0]
accepted = sum(o.outcome == "ok" for o in tried)
print(f"from t = 15 s to 20 s the desks tried {len(tried)} writes; accepted: {accepted}")
print("the first refusal:", tried[0].error)

# %% [markdown]
# Nobody accepts a write: the anchor is down, and the channels are followers, which refuse writes. Reads
# still work on the channels, from whatever each one last received.
#
# At t = 20 s the operator promotes **Channel B**, the channel whose feed had dropped (perhaps it was the
# only one the operator could reach, or the one with the best machine). It leads a new **epoch**: epoch 2.
# The operator also repoints Channel A to follow it. The crashed anchor cannot be reached, so it is left as
# it is.
#
# > **Think first.** The anchor had acknowledged every write the desks sent up to t = 15 s, and Channel B
# > has received nothing since t = 10 s. How many acknowledged writes does promoting Channel B lose? Write
# > your guess below before you run the cells after it.

# %%
my_prediction = None  # replace None with your guess (a whole number), then run this cell and the next ones

# %% jupyter={"outputs_hidden": true}
print("Promoting Channel B:")
c.promote("Channel B", followers=["Channel A"])
lost = c.lost_writes()
print(f"acknowledged writes the new leader does not hold: {len(lost)}")

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    len(lost),
    "promoting Channel B loses {} acknowledged writes",
    tolerance=2,
    explain="The desks wrote 6 times a second, and Channel B missed everything from t = 10 s to 15 s.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **32** (30 to 32 counts as right). The two desks together write 6 times a second, and Channel B received
# nothing written from t = 10 s on: 5 seconds at 6 a second is 30 writes, from 10.25 s up to and including
# the two written at exactly 15 s, the moment of the crash. The other 2 were written at exactly t = 10 s:
# the anchor had acknowledged them, but its sender had not shipped them yet when the feed dropped. Every one
# of the 32 was acknowledged: the anchor had said "committed". Promoting Channel B makes its history the
# official one, and in that history those writes never happened. A follower 5 seconds behind loses
# 5 seconds of writes.
# </details>
#
# ### Which writes, exactly
#
# The simulation records everything that happens: every client operation with its outcome and the log
# position (LSN) and epoch it was given, and every change of every node's log. `lost_writes()` works from
# that record alone: an acknowledged write is lost if the leader of the moment does not hold the entry at
# its LSN from its epoch. Grouped by client and key:

# %%
by_client_and_key = Counter((o.client, o.key) for o in lost)
for (client, key), n in sorted(by_client_and_key.items()):
    values = [o.value for o in lost if (o.client, o.key) == (client, key)]
    print(f"{client:13} {key:10} {n:2} writes lost (values {values[0]} to {values[-1]})")
print(f"first lost: {lost[0]}")
print(f"last lost:  {lost[-1]}")

# %% [markdown]
# Writes resume on Channel B. The chart shows, for each second, the share of write attempts that were
# accepted: all of them until the crash, none while nobody leads, all again after the promotion.

# %%
c.run(until=25.0)
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
availability_plot(c, ax=ax)
plt.show()

# %% [markdown]
# ## 2. What if the operator had promoted Channel A?
#
# Channel A never lost its feed. Was it the better choice? We do not have to guess: at the moment of the
# crash we saved a **fork** of the simulation, an independent copy of everything (nodes, network, messages
# in flight, clients, the record so far). In that copy, the operator promotes Channel A instead, at the same
# time, t = 20 s.
#
# A fork is a deep copy of the whole simulation, so its cost grows with what has happened so far (the
# record and the last messages): a few milliseconds for this studio after 15 s, about 10 ms for a
# three-node cluster after 300 writes and 1,400 messages (`benchmarks/engine.py` measures it). Cheap enough
# to try several decisions from the same moment.

# %%
what_if.run(until=20.0)
print("positions at the promotion:", {n: what_if.node(n).lsn for n in CHANNELS})
what_if.promote("Channel A", followers=["Channel B"])
lost_a = what_if.lost_writes()
what_if.run(until=25.0)

accepted = [sum(o.outcome == "ok" for o in x.history.writes() if o.invoke > 20) for x in (c, what_if)]
print(f"{'':34}{'promote Channel B':>20}{'promote Channel A':>20}")
print(f"{'acknowledged writes lost':34}{len(lost):>20}{len(lost_a):>20}")
print(f"{'writes accepted from 20 s to 25 s':34}{accepted[0]:>20}{accepted[1]:>20}")
for o in lost_a:
    print("lost even with Channel A:", o)

# %% [markdown]
# Channel A loses **2** writes, not 32: the two the desks wrote at exactly t = 15 s. The anchor had
# acknowledged them, but they were still waiting for its sender's next shipment, 20 ms later, when it
# crashed. With asynchronous replication, "acknowledged" only means the leader has it.
#
# ## 3. Over many crashes: the best follower still loses some
#
# One crash proves little. Below, the anchor crashes 200 times, each time at a different moment drawn from
# the seed, with a desk writing 6 or 60 times a second; 50 ms links with up to 10 ms of jitter. Each time,
# an operator waits a second and promotes the follower holding the most entries.
#
# > **Quick check.** At 60 writes a second, promoting the *most up-to-date* follower each time, in how
# > many of the 200 crashes is at least one acknowledged write lost?
# >
# > - **a)** none: the best follower has everything
# > - **b)** a few, say 1 in 20
# > - **c)** more than half of them

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "c",
    {
        "a": "The best follower has everything the leader *shipped*. Writes the leader acknowledged in its"
        " last moments can still be waiting for the sender when it crashes, and no follower has those.",
        "b": "That is close for 6 writes a second. At 60 a second, a 20 ms wait for the sender holds about"
        " one write on average, so most crashes catch at least one in the leader's outgoing queue.",
        "c": "At 60 writes a second there is usually a write or two acknowledged but not yet shipped (the"
        " sender ships every 20 ms), and the crash takes it along.",
    },
)

# %% jupyter={"outputs_hidden": true}
def best_follower_loss(seed, rate):
    """Crash the anchor at a random moment, promote the most up-to-date channel, count the writes lost."""
    c = Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, jitter=0.010, seed=seed)
    send_in_batches(c, every=0.020)
    c.start_writes(rate=rate)
    c.run(until=5.0 + c.sim.stream("crash time").uniform(0.0, 1.0))
    c.crash("Anchor")
    c.advance(1.0)
    c.promote(max(CHANNELS, key=lambda n: c.node(n).lsn))
    return len(c.lost_writes())


print("200 crashes at each write rate, the best follower promoted each time:")
losses = {}
for rate in (6, 60):  # about a second each: one line is printed as each rate is done
    losses[rate] = lost_each = [best_follower_loss(seed, rate) for seed in range(200)]
    some = sum(n > 0 for n in lost_each)
    print(
        f"{rate:2} writes/s: writes lost in {some} of 200 crashes; "
        f"{np.mean(lost_each):.2f} lost on average, at most {max(lost_each)}"
    )

# %% jupyter={"outputs_hidden": true}
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
width = 0.4
most = max(max(x) for x in losses.values())
for i, (rate, lost_each) in enumerate(losses.items()):
    counts = np.bincount(lost_each, minlength=most + 1)
    x = np.arange(most + 1) + (i - 0.5) * width
    colour = [OKABE_ITO["blue"], OKABE_ITO["orange"]][i]
    ax.bar(x, counts, width, label=f"{rate} writes/s", color=colour, hatch=["", "//"][i], edgecolor="white")
ax.set_xticks(range(most + 1))
ax.set_xlabel("acknowledged writes lost when the most up-to-date follower is promoted")
ax.set_ylabel("crashes (of 200)")
ax.set_title("Even the best follower misses what was not yet shipped", loc="left", fontsize=11)
ax.legend()
plt.show()

# %% [markdown]
# The best follower lost a write in 28 of the 200 crashes at 6 writes a second, and in 126 of them at 60
# writes a second (0.72 writes per crash on average): roughly the write rate times the time a committed
# write can wait for its shipment (up to 20 ms here). A busier leader, or a slower sender, loses more.
# Choosing the most up-to-date follower shrinks the loss from "everything it missed" to "what was still
# leaving the leader", but with asynchronous replication it never makes it zero. To make it zero, the
# leader must wait, before it says "committed", until a follower holds the write (synchronous replication,
# lesson 7), and you must then promote a follower that confirmed it.

# %% [markdown]
# ## 4. The old anchor comes back
#
# Back to the first studio, where Channel B leads epoch 2. At t = 25 s the studio's network is repaired
# and the anchor restarts. Its disk says it is the leader of epoch 1, so that is what it comes back as, and
# it sends its followers a heartbeat.
#
# > **Quick check.** The anchor holds 32 acknowledged writes that Channel B, the new leader, never
# > received. Once the anchor has rejoined as a follower, what has become of them?
# >
# > - **a)** they are sent on to Channel B, so they are saved after all
# > - **b)** the anchor throws them away, to match Channel B's log
# > - **c)** both logs keep their own version, and the nodes disagree from then on

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "A follower never sends entries to its leader: the leader's log is the official one. Channel B"
        " has written other entries at the same positions since, so the anchor's cannot just be added.",
        "b": "To follow Channel B, the anchor must hold exactly Channel B's log, so it discards its own"
        " version of those positions: the very writes the failover lost.",
        "c": "Replication never leaves two versions side by side: a follower copies its leader's log"
        " exactly, so the anchor's version has to go (lesson 6 shows what it costs when nobody can tell"
        " a node to stop).",
    },
)

# %% jupyter={"outputs_hidden": true}
print("What happens when the anchor restarts:")
c.heal()
c.recover("Anchor")
c.run(until=25.2)
for event in c.history.events:
    if event.time >= 25.0:
        print(f"t = {event.time:.3f} s  {event.kind:8} {event.detail}")

# %% [markdown]
# Channel A answers that epoch 2 exists, and the anchor steps down at once: the epoch **fences** it, a
# deposed leader that hears of a newer epoch stops leading (lesson 6 shows what happens when nobody can
# tell it). But it still holds its own version of t = 10 s to 15 s: the 32 entries nobody else has. To
# follow Channel B it must throw them away. In PostgreSQL that is `pg_rewind` plus a restart as a standby
# (lesson 8); here, `rejoin()`:

# %% jupyter={"outputs_hidden": true}
print("The anchor rejoins as a follower of Channel B:")
c.rejoin("Anchor")
c.run(until=26.0)
discarded = c.node("Anchor").rolled_back
first, last = discarded[0], discarded[-1]
print(f"the anchor discarded {len(discarded)} entries: lsn {first.lsn} to {last.lsn}, epoch {first.epoch}")
acked = {(o.lsn, o.epoch): o for o in c.history.writes("ok")}
thrown = [acked[(e.lsn, e.epoch)] for e in discarded]
print("exactly the writes the failover lost:", thrown == lost)
print(c.table())

# %% [markdown]
# `pg_rewind` simply overwrites them. MongoDB, rolling back a former primary, writes the documents it
# removes into files under a `rollback/` folder of its data directory, so that a person can look at them
# and decide. The simulation keeps them too: a node's `rolled_back` holds every entry it discarded. Keeping
# them aside is the easy part; deciding what to do with them is not:

# %%
print("kept aside (like MongoDB's rollback files):")
for e in discarded[-4:]:
    o = acked[(e.lsn, e.epoch)]
    now = c.read(o.key, "Channel B")
    print(f"  lsn {e.lsn}: {o.client} set {o.key} = {o.value} at t = {o.invoke:g} s; the value now is {now}")

# %% [markdown]
# Writing them again blindly would be wrong: since the failover the desks have written newer values
# (`score` is now 105), and replaying a discarded `score = 59` would put an old value back. Someone who
# knows what the data means has to decide, write by write.

# %% [markdown]
# ## 5. What the clients see
#
# So far the desks stood next to the anchor and always heard an answer at once. A real client talks to the
# database over the network and waits for a reply, with a timeout. If the leader dies while a write is on
# its way, the reply never comes, and the client cannot tell whether:
#
# - the request died with the leader (the write never happened), or
# - the leader wrote it, and maybe copied it to a follower, before it crashed or before the reply got out.
#
# The outcome is **unknown**. Here is the second case. This anchor is set to wait until one channel
# confirms a write before answering (synchronous replication with one standby, lesson 7's subject). A shop
# next to the anchor sets Alice's cart to `book`; Channel A receives the write and confirms it, but the
# anchor crashes before the confirmation reaches it. The shop hears nothing for 1 s (its timeout), then
# retries every 0.5 s, each time at whichever node the operator has made the leader. Meanwhile the
# operator promotes Channel A, and Alice empties her cart from her phone.

# %%
def checkout(idempotent):
    """Alice's cart through a failover, the shop retrying with or without an idempotency key: show what
    each attempt got, Channel A's log, and the cart at the end."""
    c = Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, sync_replicas=1, seed=5)
    shop = c.client("shop", near="Anchor", timeout=1.0, retries=3, backoff=0.5, idempotent=idempotent)
    phone = c.client("phone", near="Channel A")
    c.run(until=1.0)
    shop.write("cart:alice", "book")
    c.run(until=1.08)  # Channel A has the write and has confirmed it; the confirmation is on its way
    c.crash("Anchor")
    c.run(until=2.2)
    c.promote("Channel A")
    c.run(until=2.3)
    phone.write("cart:alice", "empty")
    c.run(until=5.0)
    for attempt in shop.requests[0].attempts:
        print(attempt)
    print("Channel A's log:")
    for e in c.node("Channel A").log.entries:
        print(f"  {e}")
    print("Alice's cart now:", c.read("cart:alice", "Channel A"))


checkout(idempotent=False)

# %% [markdown]
# The first attempt's outcome is `info`, the record's word for unknown. Yet it *had* happened: it is
# entry 1 on Channel A, which survived the failover. The retry, sent after the failover, wrote it **again**
# (entry 3), so:
#
# - the write happened twice. Setting a cart is harmless twice over, but "charge 20 €" or "add one book"
#   would have charged twice or put two books in the cart;
# - worse, it came back **after** Alice emptied the cart (entry 2): an old value is resurrected, and
#   Alice's own later change is silently undone.
#
# The fix is an **idempotency key**: the client sends the same key with every attempt of one request, the
# database stores the key with the write, and a leader that already holds the key answers with the earlier
# result instead of writing again. The key travels in the log, so the new leader knows it too. (Payment
# APIs work this way: the client sends an *Idempotency-Key* header with each request.)

# %%
checkout(idempotent=True)

# %% [markdown]
# The retry is answered with the first attempt's entry (lsn 1, epoch 1), nothing is written twice, and
# Alice's empty cart stays empty. An idempotency key does not make the outcome known any sooner, and it
# cannot bring back a write that the failover lost; it makes *retrying* safe, which is what a client needs
# after a failover.

# %% [markdown]
# ## Your turn
#
# The panel drives a fresh copy of the studio, with both desks writing. **Crash**, **Recover**, **Promote**
# and **Rejoin** act on the node picked in *node*; **Promote** repoints the nodes that are running, as the
# operator did in section 1. **Advance** lets time pass. Below the status table the panel counts the
# acknowledged writes the current leader does not hold, and the entries thrown away by rollbacks, as they
# happen.
#
# **Task.**
# 1. Advance 5 s, crash the Anchor, and advance 3 s. What does the availability chart show?
# 2. Promote Channel A. How many acknowledged writes are lost? Advance a little: does the number change?
# 3. Recover the Anchor and advance 1 s. What is it now, and whom does it follow? Then rejoin it and
#    advance 1 s. How many entries did it discard, and how does that compare with the lost writes?
# 4. Start again (run the panel cell again), and this time promote Channel B after the crash. Any
#    difference? Why?

# %% tags=["nbval-ignore-output"]
panel = ControlPanel(
    studio(),
    actions=("crash", "recover", "promote running", "rejoin", "advance"),
    plots=("cluster", "availability"),
    notes=("lost", "discarded"),
    title="The anchor falls",
)
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# 1. The bars turn to "refused" from the crash on: the anchor is down and the channels refuse writes.
#    Reads would still work on the channels.
# 2. **2 at most**: only the writes the anchor acknowledged in its last 20 ms, still waiting for its
#    sender. After 5 s of advancing it is exactly 2: both desks had just written at t = 5 s. The number does
#    not change later: a lost write stays lost.
# 3. The anchor comes back as the leader of epoch 1, and steps down as soon as a channel tells it epoch 2
#    exists: a follower of nobody, its extra entries still in its log. Rejoining makes it discard exactly
#    the entries the failover lost (the same count), and then it follows Channel A.
# 4. No difference: with no fault before the crash, both channels hold the same entries by the time you
#    promote. Which follower you promote matters when one is behind, as Channel B was in section 1.
# </details>


# %% [markdown]
# ## Build and break: your own promotion rule
#
# In section 1 a person chose whom to promote. Failover tools choose on their own, with a rule. Write one.
# A failover monitor runs on one node; every 0.25 s it asks every node "are you there?", and when the
# leader has not answered for 1 s it calls your function, with two read-only things:
#
# - `followers`: the followers that answered in the last second, in the order they first answered, each
#   with `name`, `position` (the last log position it held when it answered), `last_epoch` (the epoch
#   that wrote that entry), `epoch` (the epoch it is in) and `age` (how many seconds ago it answered);
# - `nodes`: how many nodes the cluster has, reachable or not.
#
# It returns `None` (promote nobody this time; it asks again 0.25 s later), or `(name, fence)`: promote
# that follower, and with `fence=True` also fence the old leader, so that it steps down when it hears of
# the newer epoch. In these clusters a write is acknowledged once a **majority** of the nodes hold it.
#
# The **judge** runs your rule in 1,000 seeded disasters (three to six nodes; crashes, restarts and
# network partitions at random moments, a client writing all along) and counts the schedules where an
# **acknowledged write was lost**, or where there was a **split brain**: two nodes still leading after the
# network had healed for 3 s. The rule below promotes the first follower that answers, and fences nobody.

# %%
from replsim.judge import judge


def my_promotion(followers, nodes):
    first = followers[0]
    return first.name, False


# %%
promotion_verdict = judge(my_promotion, "promotion")

# %% [markdown]
# The timeline shows the shrunk run: the monitor's pings, the appends and the acknowledgements.

# %% tags=["nbval-ignore-output"]
ClusterView(promotion_verdict.replay, mode="timeline", window=promotion_verdict.window, kinds=promotion_verdict.kinds)

# %% [markdown]
# **Task.** Change `my_promotion` until the judge finds nothing. Three questions to ask yourself: which
# follower holds the most? Must the old leader be stopped? Can the monitor be sure it sees a follower
# that holds every acknowledged write, when it hears from only some of them? And how old is what it heard?
#
# <details>
# <summary><b>Solution</b></summary>
#
# Promote the most up-to-date follower (the latest `last_epoch`, then the highest `position`), fence the
# old leader, and promote only when a majority of the nodes are followers that answered in the last ping
# round (0.25 s): every acknowledged write is on a majority, so those followers include one that holds
# it. When it hears from fewer, wait: the leader may be alive on the other side of a partition, still
# acknowledging writes with the followers there. An older answer is not enough: since then that follower
# may have acknowledged more writes to an old leader that came back, behind a partition. The cell below
# judges it.
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
# A rule that passes
def promote_safely(followers, nodes):
    fresh = [f for f in followers if f.age <= 0.25]
    if len(fresh) < nodes // 2 + 1:
        return None
    best = max(fresh, key=lambda f: (f.last_epoch, f.position))
    return best.name, True


solved_promotion = judge(promote_safely, "promotion")


# %% [markdown]
# ## Key points
#
# - When the leader crashes, **no new writes** are accepted until a follower is **promoted** (by an
#   operator or a tool; PostgreSQL does not do it by itself). The new leader leads a new **epoch**.
# - With asynchronous replication, every write the promoted follower never received is **lost**, although
#   it was acknowledged: a follower 5 s behind loses 5 s of writes. The record of what happened says
#   exactly which ones, by client and key.
# - Promoting the **most up-to-date** follower loses far less, but not nothing: whatever was still queued
#   on the crashed leader, already confirmed to its clients but never sent, dies with it. Only
#   synchronous replication, and promoting a follower that confirmed the write, closes that gap.
# - A client whose leader dies mid-write gets an **unknown outcome**. A retry after the failover can apply
#   the write twice or bring back a value someone has since changed; an **idempotency key** makes retries
#   safe.
# - The old leader comes back with writes nobody else has. They are **discarded** when it rejoins
#   (PostgreSQL's `pg_rewind`); MongoDB keeps them aside in `rollback/` files, but a person still has to
#   decide what they mean.
# - `fork()` copies a whole simulation, so you can try another decision from the same moment.
#
# **Next:** [Lesson 6, *Split brain*](06_split_brain.ipynb): what happens when software promotes a follower
# while the old leader is still running, and how epochs, fencing, quorums and elections by majority vote
# keep it from doing harm. Back to the [map of the course](00_start_here.ipynb).
