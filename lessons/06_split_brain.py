# %% [markdown]
# # Lesson 6 — Split brain: two leaders, and what stops them
#
# **Time:** about 80 minutes.
#
# **Questions this lesson answers**
# - How can an automatic failover make two leaders at once, and what happens to the writes on each side?
# - Why did a 43-second network fault at GitHub in 2018 lead to a day of degraded service?
# - What do epochs with fencing fix? A majority quorum for commit? Elections by majority vote?
# - What does a quorum *not* fix?
# - Over a thousand random disasters, how often does each design go wrong?
#
# **By the end of this lesson you can**
# - cause a split brain with a naive failover monitor, plot one key's two values, and count the writes one
#   side must throw away when the network heals;
# - show, on the same partition, what each fix changes: epochs with fencing, majority commit, and elections
#   by majority vote (Raft style), and the window each one still leaves;
# - read an election round by round on a message timeline, and say how the election timeout's random
#   range changes the time to elect a leader and the number of split votes;
# - name what a quorum does not fix: writes acknowledged before they replicated, stale reads from a leader
#   that does not know it was deposed, and the minority side's unavailability;
# - run a thousand seeded fault schedules against each design and read what the checkers find.
#
# Run the cells from top to bottom (**Shift+Enter**). Every number comes from a seeded simulation.

# %% [markdown]
# ## The picture
#
# The studio's lines to the channels go dead, but the studio itself is fine: the anchor is still reading
# the news, and viewers in the studio's own city still see him. At the channels the screens go quiet. Their
# producers conclude the anchor has collapsed and put a channel's presenter on air, as in lesson 5. Now
# there are two anchors, each telling the news to half the country, and each half hears a different story.
#
# | In the studio | In a database |
# |---|---|
# | the lines to the channels go dead, the studio is fine | a **network partition**: the leader is cut off, not crashed |
# | the producers decide the anchor has collapsed | a **failover monitor** that promotes a follower when the leader stops answering |
# | two anchors on air at once | **split brain**: two nodes accept writes |
# | two versions of the same story | one key, **two values** |
# | deciding, afterwards, which version was "the news" | throwing one side's writes away when the network heals |
#
# The cluster has three nodes in two places: `east` leads, `west-1` and `west-2` follow, 10 ms apart.
# Two applications write 5 times a second each: `app-east` runs next to `east` and its connections stay
# there; `app-west` runs next to `west-2` and writes to whichever node is the leader. A failover monitor
# runs on `west-2`: every 0.25 s it asks each node "are you there?", and if the leader has not answered for
# 1 s, it promotes the most up-to-date follower it can reach.

# %%
import matplotlib.pyplot as plt
import numpy as np

from replsim import faults
from replsim.course.split_brain import EAST, WEST, split_brain
from replsim.history.checks import leaders_at_once
from replsim.lesson import check_choice, check_prediction
from replsim.course.elections import time_to_elect
from replsim.ui.plots import LINE_COLOURS, LINE_STYLES, value_plot
from replsim.ui import ControlPanel
from replsim.ui.view import ClusterView


def partitioned(design, commit=None):
    """Lesson 6's cluster with ``design``: a partition from t = 5 s to 15 s, and a seat booked on each side."""
    c = split_brain(design, commit=commit)
    c.run(until=5.0)
    c.partition(EAST, WEST)  # east and app-east | west-1, west-2 and app-west
    c.run(until=8.0)
    alice = c.clients["app-east"].write("seat 14C", "Alice", node="east")
    c.run(until=9.0)
    bob = c.clients["app-west"].write("seat 14C", "Bob")
    c.run(until=15.0)
    return c, alice, bob


def show_events(c, since=0.0, until=None, skip=("candidate",)):
    """Print the cluster's events from ``since`` (to ``until``), leaving out the kinds in ``skip``."""
    for e in c.history.events:
        if e.time >= since and (until is None or e.time <= until) and e.kind not in skip:
            print(f"t = {e.time:6.3f} s  {e.kind:9} {e.node or '':7} {e.detail}")


print(EAST, "|", WEST)

# %% [markdown]
# ## 1. The disaster: a naive failover
#
# At t = 5 s the network splits `east` (and `app-east`) from the west. Both sides keep running. At
# t = 8 s Alice books seat 14C through `app-east`; at t = 9 s Bob books the same seat through `app-west`.
# The partition heals at t = 15 s.

# %%
c, alice, bob = partitioned("naive")
show_events(c)
print()
print(f"Alice's booking: {alice.outcome} on {alice.node}; Bob's booking: {bob.outcome} on {bob.node}")
print("seat 14C on each node:", {n: c.read("seat 14C", n) for n in c.names})
print(c.table())

# %% [markdown]
# One second after the partition the monitor hears nothing from `east` and promotes `west-1` (epoch 2).
# But `east` never went down: it never hears of the promotion, so it still believes it leads, and `app-east`
# goes on writing to it. **Two leaders, one key, two values**: both bookings were acknowledged, and each
# side holds a different owner of seat 14C. (`app-west`'s writes from t = 5 s to 6 s went to `east`,
# across the partition: no answer, an unknown outcome, as in lesson 5.)
#
# > **Think first.** When the network heals at t = 15 s, `east` holds writes that the west side does not.
# > `west-1` leads the official history now, so those are the writes that will have to be thrown away. How
# > many acknowledged writes are they? Write your guess below before you run the cells after it.

# %%
my_prediction = None  # replace None with your guess (a whole number), then run this cell and the next ones

# %% jupyter={"outputs_hidden": true}
print("When the network heals at t = 15 s:")
at_heal = c.lost_writes()  # acknowledged, and not held by the leader of the moment (west-1)
print(f"acknowledged writes only east holds at t = 15 s: {len(at_heal)}")
for client in ("app-east", "app-west"):
    print(f"  from {client}: {sum(o.client == client for o in at_heal)}")

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    len(at_heal),
    "{} acknowledged writes exist only on east",
    tolerance=2,
    explain="app-east wrote to east 5 times a second for the whole 10 s partition, and Alice booked once.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **51** (49 to 53 counts as right): `app-east` wrote to `east` 5 times a second for the 10 s of the
# partition (50 writes), and Alice booked seat 14C there. `east` acknowledged every one, and none reached
# the west. The monitor needed 1 s to promote `west-1`, but that does not matter here: `east` kept
# accepting writes both before and after the promotion, and the west side never saw any of them.
# </details>
#
# And healing the network does not end it. With a naive failover, nothing tells `east` it was replaced:

# %%
c.heal()
c.run(until=18.0)
print(c.table())
for start, end, who in leaders_at_once(c.history, c.now):
    print(f"two leaders at once from t = {start:.2f} s to {end:.2f} s: {', '.join(who)}")
print(f"acknowledged writes only east holds at t = 18 s: {len(c.lost_writes())}")

# %% [markdown]
# `east` still leads epoch 1 and `app-east` still writes to it. Its followers answer that epoch 2 exists,
# but a naive design has no **fencing**: nothing makes the old leader stop. (PostgreSQL behaves like this:
# a promoted standby gets a new timeline, and the old primary, if it is still running, carries on, as
# lesson 8 shows on real servers.) Every second the two histories drift further apart.
#
# At t = 18 s an operator notices and rejoins `east` to `west-1`. It throws away everything it accepted
# since the partition began:

# %%
c.rejoin("east")
c.run(until=20.0)
print(f"east discarded {len(c.node('east').rolled_back)} entries")
print("seat 14C on each node:", {n: c.read("seat 14C", n) for n in c.names})
fig, ax = plt.subplots(figsize=(9, 3.6), layout="constrained")
value_plot(c, "seat 14C", ax=ax)
plt.show()

# %% [markdown]
# The plot rebuilds the value of seat 14C on each node from the record, moment by moment. Alice's booking
# existed on `east` from t = 8 s; Bob's on the west from t = 9 s; at the rejoin Alice's vanishes, although
# she was told it succeeded (the dip at t = 18 s is the instant between `east` discarding its entries and
# copying `west-1`'s). The system did not even notice the conflict: it kept one side's history and
# threw away the other's.
#
# ### Try it: make the split brain yourself
#
# The panel runs the same cluster with the naive monitor, both applications writing. Pick `east` in
# *one side* and click **Partition**, then **Advance** 2 s: what does the flag under the table say?
# **Heal** and **Advance** 2 s more: is it over? (Section 7's panel adds the fixes.)

# %% tags=["nbval-ignore-output"]
ControlPanel(
    split_brain("naive"),
    actions=("split", "heal", "advance"),
    plots=("cluster",),
    notes=("split brain", "lost"),
    title="A naive failover",
)

# %% [markdown]
# About a second after the partition the monitor promotes `west-1`, and the panel reports a split brain:
# two leaders at once. Healing does not end it: nothing tells `east` to stop.
#
# ### GitHub, 21 October 2018
#
# This is, in miniature, what happened to GitHub. For 43 seconds, the link between their US East Coast
# network hub and their main US East Coast data centre was lost. Their failover tool (which itself used a quorum among its
# own nodes to decide) promoted new primary databases in the West Coast data centre. Writes the East Coast
# primaries had accepted in the last moments, not yet replicated, were stranded there; then the West Coast
# primaries accepted writes of their own. When the network came back, each side held writes the other
# lacked. GitHub chose to repair the data carefully rather than throw one side away: the service stayed
# degraded for 24 hours and 11 minutes, and reconciling the stranded writes by hand was still going on
# when GitHub published its analysis more than a week later. (GitHub's post-incident analysis, "October
# 21 post-incident analysis", GitHub blog, 30 October 2018.)
#
# A quorum among the *failover tool's* nodes decided who would promote, but nothing stopped the old
# primaries from accepting writes, and the databases themselves acknowledged writes that existed in one
# place only. The rest of this lesson fixes that, one step at a time, on the same partition.

# %% [markdown]
# ## 2. Fix one: epochs with fencing
#
# Every promotion starts a new **epoch** (Raft calls it a *term*, PostgreSQL a *timeline*), and every
# message carries its sender's epoch. **Fencing**: a node that hears from anyone in a newer epoch than its
# own stops leading at once, and nodes refuse messages from an older epoch. The monitor then repoints the
# deposed leader to the new one. Same partition, same bookings.
#
# > **Quick check.** With fencing, when does `east` stop accepting writes?
# >
# > - **a)** at the promotion, t = 6 s
# > - **b)** just after the network heals, t = 15 s
# > - **c)** never, as with the naive monitor

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "At the promotion nobody can tell `east`: every message from the west is lost in the partition.\n"
        " Fencing acts when the deposed leader *hears* of the newer epoch.",
        "b": "The first message `east` gets from the other side carries epoch 2, and it steps down at once:"
        " a few ms after the heal, not before.",
        "c": "That is the naive design. Here every message carries its epoch, and a leader that sees a newer one"
        " stops leading.",
    },
)

# %% jupyter={"outputs_hidden": true}
print("The same partition, with epochs and fencing:")
c2, alice2, bob2 = partitioned("fencing")
c2.heal()
c2.run(until=16.0)
show_events(c2, since=5.0)
window = leaders_at_once(c2.history, c2.now)[0]
in_window = [o for o in c2.history.writes("ok") if o.node == "east" and window[0] <= o.complete <= window[1]]
print(f"\ntwo leaders at once from t = {window[0]:.2f} s to {window[1]:.2f} s: {', '.join(window[2])}")
print(f"east acknowledged {len(in_window)} writes in that window")
print(f"east discarded {len(c2.node('east').rolled_back)} entries")
print("seat 14C:", {n: c2.read("seat 14C", n) for n in c2.names})

# %% [markdown]
# Fencing ends the split brain **the moment the deposed leader hears from the other side**: 21 ms after
# the network heals (t = 15.021 s), `east` gets a refusal saying epoch 2 exists and steps down; at the
# monitor's next round (t = 15.5 s) it is repointed to `west-1`. Nobody has to notice anything, and
# nothing is left diverged.
#
# But look at the window: for the whole partition nobody *could* tell `east`, so from the promotion at
# t = 6 s until t = 15.02 s it kept accepting and acknowledging writes, 47 of them, Alice's booking among
# them. It threw all of them away, and the 5 it had acknowledged in the second before the promotion. Epochs decide which history wins; they do not stop the loser from
# promising things while it cannot hear anyone. Real systems add harder fencing for that window: cut the
# old leader's power or network (STONITH, "shoot the other node in the head"), or make the storage refuse
# writes that carry an old epoch (a *fencing token*).

# %% [markdown]
# ## 3. Fix two: a majority must hold a write before it is acknowledged
#
# The window's writes were lost because `east` acknowledged them on its own. Change the commit rule: a
# leader acknowledges a write only once a **majority** of the nodes hold it, itself included: with three
# nodes, itself and one follower. A set of nodes that must take part in a decision is a **quorum**; a
# majority is the usual choice because any two majorities of the same nodes share at least one node, so
# two decisions can never be taken by groups that know nothing of each other.
#
# > **Quick check.** With this rule, the same monitor, the same fencing and the same partition: how many
# > of the writes `east` acknowledges during the partition are thrown away afterwards?
# >
# > - **a)** none, because `east` acknowledges none
# > - **b)** about 5 a second, as with fencing alone
# > - **c)** only Alice's booking

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "a",
    {
        "a": "`east` is alone on its side: it can never get a second copy of a write, so it never says"
        " 'committed'. Its entries are still thrown away at the heal, but nobody was promised them.",
        "b": "That is what fencing alone gives. Here `east` needs a follower to hold each write before it"
        " answers, and every follower is on the other side of the partition.",
        "c": "Alice's booking is treated like any other write on `east`: it waits for a copy that never"
        " comes, so it is not acknowledged either.",
    },
)

# %% [markdown]
# The same monitor, the same fencing, the same partition, with majority commit:

# %%
c3, alice3, bob3 = partitioned("fencing", commit="majority")
c3.heal()
c3.run(until=16.0)
during = [o for o in c3.history.writes() if o.client == "app-east" and 5.0 <= o.invoke < 15.0]
for outcome in ("ok", "info", "fail"):
    n = sum(o.outcome == outcome for o in during)
    print(f"app-east's writes during the partition with outcome {outcome!r}: {n}")
print(f"Alice's booking: {alice3.outcome}; Bob's booking: {bob3.outcome}")
print(f"acknowledged writes lost: {len(c3.lost_writes())}")

# %% [markdown]
# `east`, alone in a minority, can reach no follower, so it **acknowledges nothing**: every write
# `app-east` sends waits for a confirmation that never comes, and times out with an unknown outcome
# (`info`). Alice is not told her seat is booked. When the network heals, `east` still throws those
# entries away, but no client was ever promised them: **no acknowledged write is lost**. The west side,
# with two of the three nodes, is a majority and carries on.
#
# Two problems remain. Someone outside the database (the monitor) still decides who leads, and it is a
# single point of failure: if `west-2`, where it runs, had been cut off too, nobody would have promoted
# anyone. And `east` still *believes* it leads: it keeps taking writes into its log, and answers reads.

# %% [markdown]
# ## 4. Fix three: the nodes elect their leader by majority vote
#
# Drop the monitor. Each node runs the election itself, the way Raft does:
#
# - **Terms.** Time is divided into terms (the epochs), numbered; each term has at most one leader.
# - **Timeouts.** A follower that hears nothing from a leader for its *election timeout* becomes a
#   **candidate**: it starts a new term, votes for itself and asks every other node for its vote. Each node
#   draws its timeout at random, here between 150 and 300 ms, the range the Raft paper suggests, so that
#   usually one node times out first and wins before the others even stand.
# - **One vote per term.** A node votes at most once in a term, so two candidates can never both collect a
#   majority: at most one leader per term.
# - **Up to date.** A node refuses its vote to a candidate whose log is less up to date than its own (an
#   older last epoch, or the same epoch and fewer entries). A write the leader acknowledged in its own
#   term is held by a majority, and every majority shares a node with it; that node refuses any candidate
#   lacking the write, so no such candidate can win. Careful: this protects what a leader *committed in
#   its own term*. An entry from an earlier term that merely sits on a majority is not safe: a candidate
#   whose last entry has a later term counts as more up to date and can win without it, then overwrite it
#   (the Raft paper's section 5.4.2 and Figure 8 show how). That is why a Raft leader counts copies only
#   for entries of its own term; this simulator's leader does the same.
# - **Stepping down.** A leader that has not heard from a majority for an election timeout steps down by
#   itself (a rule from Ongaro's PhD thesis, section 6.2, that etcd calls *CheckQuorum*; the Raft paper
#   itself has no such rule). Writes are acknowledged once a majority holds them, as in fix two.
#
# Raft is not the only protocol for this. **Paxos** (Lamport), in its Multi-Paxos form, and
# Viewstamped Replication and ZooKeeper's ZAB solve the same problem, a single agreed order of writes with
# at most one leader at a time, with majorities in the same role; Raft was designed to be easier to
# understand and to build.
#
# > **Quick check.** The same partition cuts `east` off alone, with no monitor at all. What happens on the west side?
# >
# > - **a)** nothing: without a monitor nobody promotes anyone
# > - **b)** `west-1` or `west-2` is elected within a few hundred ms
# > - **c)** both stand and both win, one term each

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "The nodes are their own monitor: a follower that hears no heartbeat for its election timeout"
        " stands for election.",
        "b": "One of them times out first (random timeouts), asks the other for its vote, and two votes of three"
        " are a majority.",
        "c": "Two winners in different terms are possible over time, but not at once here: the first to win"
        " sends heartbeats at once, and the other follows it instead of standing.",
    },
)

# %% jupyter={"outputs_hidden": true}
print("The same partition, with elections by majority vote:")
c4, alice4, bob4 = partitioned("quorum")
show_events(c4, since=5.0, until=5.5, skip=())
print()
for r in c4.failover.rounds[:3]:
    result = f"won at t = {r.won:.3f} s" if r.won else "did not win"
    print(f"term {r.term}: {r.candidate} stood at t = {r.start:.3f} s, votes {r.votes}, {result}")

# %% [markdown]
# Round by round: at t = 5.188 s, 178 ms after the last heartbeat it received (its random timeout),
# `west-2` stands for term 2 and asks `west-1` and `east` for their votes. The request to `east` is lost in the partition;
# `west-1` grants its vote (its log is no more up to date than `west-2`'s, and it has not voted in term 2).
# Two votes of three is a majority: `west-2` leads term 2 at t = 5.208 s and sends its first heartbeat.
# Meanwhile `east` waits for confirmations from its followers; at t = 5.263 s it has heard from nobody for
# a whole election timeout, and steps down on its own.
#
# The message timeline below shows those moments: one lane per node, one arrow per message from the
# moment it is sent to the moment it arrives, ending in its kind's shape and labelled with its kind and
# term (`t2` is term 2); a red dashed arrow ending in a cross never arrived (here: stopped by the
# partition). Markers show each node becoming a candidate, a leader or a follower. **Play** draws the
# messages as they go; **Step** moves to the next send or arrival; **Cluster** shows the same moments as
# the cluster's picture, with the messages travelling between the nodes.

# %% tags=["nbval-ignore-output"]
ClusterView(c4, mode="timeline", window=(5.185, 5.275), kinds=("vote request", "vote", "append", "heartbeat", "ack"))

# %% [markdown]
# After the partition (t = 5 s to 15 s), the same outcome as fix two: no acknowledged write lost, and
# `app-east` cannot write. One new thing happens when the network heals:

# %%
c4.heal()
c4.run(until=16.0)
show_events(c4, since=14.9, skip=())
print(f"\nacknowledged writes lost: {len(c4.lost_writes())}; Alice's booking: {alice4.outcome}")

# %% [markdown]
# Cut off from any majority, `east` stood for election again and again, raising its term each time (to 44
# by t = 15 s). When the network heals, its high term makes the real leader step down, and the cluster
# holds one more election (`west-2` wins again, in term 45). Nothing is lost, but the cluster had no leader
# for about 0.2 s. The *PreVote* extension (Ongaro's PhD thesis, section 9.6) avoids this: a node first
# asks whether it *could* win, and only raises its term if a majority says yes.

# %% [markdown]
# ## 5. What a quorum does not fix
#
# **Writes acknowledged before they replicated.** Elections only choose among what the nodes hold. Keep
# the elections, but let the leader acknowledge each write at once (asynchronous commit).
#
# > **Quick check.** Same partition, elections by majority vote, but asynchronous commit. Which
# > acknowledged writes are lost?
# >
# > - **a)** none: the election picks a leader with every acknowledged write
# > - **b)** the few `east` acknowledged between the partition and its stepping down
# > - **c)** every write `app-east` sent during the 10 s partition

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "The vote can only compare what the voters hold. A write `east` acknowledged and never sent"
        " is on no voter at all, so no rule about voting can save it.",
        "b": "`east` acknowledges at once while it still believes it leads, and steps down after one"
        " election timeout without a majority: those writes exist on `east` only.",
        "c": "After `east` steps down it refuses writes outright: `app-east`'s later writes fail, they are"
        " not acknowledged, so they cannot be lost.",
    },
)

# %% jupyter={"outputs_hidden": true}
print("Elections, but the leader acknowledges each write at once:")
c5, _, _ = partitioned("quorum", commit="async")
lost5 = c5.lost_writes()
print(f"acknowledged writes lost: {len(lost5)}")
for o in lost5:
    print(" ", o)

# %% [markdown]
# `east` acknowledged the writes `app-east` sent in the 0.26 s before it stepped down, and they existed on
# `east` only: the new leader was elected without them, correctly. The voting rule protects a write its
# leader committed on a majority; it cannot protect one that was never sent anywhere. (This is MongoDB's `w: 1` against
# `w: "majority"`: a `w: 1` write can be rolled back after an election, a majority write cannot.)
#
# **A deposed leader that still believes it leads.** Between `west-2`'s win (t = 5.208 s) and `east`'s
# step-down (t = 5.263 s), `east` is a leader in its own eyes. Say Alice booked seat 14C before the
# partition, and Bob takes it over on the west side right after the election. A client that reads from the
# leader, to be sure to see the latest data, gets an old answer:

# %%
s = split_brain("quorum")
s.run(until=4.0)
s.clients["app-east"].write("seat 14C", "Alice", node="east")
s.run(until=5.0)
s.partition(EAST, WEST)
s.run(until=5.215)
bob_takes = s.clients["app-west"].write("seat 14C", "Bob")  # to the new leader, west-2
s.run(until=5.25)
read = s.clients["app-east"].read("seat 14C", node="east")
s.run(until=5.255)
for name in ("east", "west-2"):
    print(f"at t = 5.25 s {name} is a {s.node(name).role} of term {s.node(name).epoch}")
print(f"Bob's write: {bob_takes.outcome} at t = {bob_takes.complete:.3f} s")
print(f"east answers seat 14C = {read.value!r}; the official value is {s.read('seat 14C', 'west-2')!r}")

# %% [markdown]
# `east` answers from a history that has already moved on without it. Raft's fix is to make the leader
# confirm, before serving a read, that a majority still follows it (a round of heartbeats), or to rely on a
# time-bound *lease*. Without one of those, a read from "the leader" can be stale until the deposed
# leader stops leading: here, at most one election timeout, because of the step-down rule; in a design
# without such a rule, for as long as the partition lasts.
#
# **The minority side is unavailable.** Safety on the majority side is paid for by the minority:

# %%
during4 = [o for o in c4.history.writes() if o.client == "app-east" and 5.0 <= o.invoke < 15.0]
for outcome in ("ok", "info", "fail"):
    n = sum(o.outcome == outcome for o in during4)
    print(f"app-east's writes during the partition with outcome {outcome!r}: {n}")

# %% [markdown]
# For 10 seconds nobody next to `east` could write anything: at first its writes waited and timed out,
# then `east` refused them outright. A majority quorum chooses consistency over availability for the
# nodes on the wrong side of a partition.

# %% [markdown]
# ## 6. How long does an election take? The simulation against the Raft paper
#
# The random range of the election timeout matters. If every node waited exactly the same time, they would
# all stand at once, each vote for itself, nobody would win (a **split vote**), and they would time out
# together again. The Raft paper measured this on a real cluster (section 9.3, Figure 16): five servers
# whose messages took about 15 ms for a round of requests and replies (the paper's *broadcast time*), a
# heartbeat every half minimum timeout, the leader crashed at a random moment between two heartbeats, and
# the time until a new leader was elected, over 1,000 crashes per timeout range (100 for 150-150 ms).
#
# Below, the simulator does the same with the same ranges: five nodes, 7.5 ms each way, the paper's
# heartbeat and crash timing, giving up after 10 s. It runs every range twice: on a **steady** network
# (each message 7.5 ms, give or take 1 ms), and on a **variable** one (anything from 0 to 15 ms, the same
# average). The last column is what the paper reports in its text.
#
# > **Quick check.** On the steady network, which range never elects a leader within 10 s?
# >
# > - **a)** 150-150 ms
# > - **b)** 150-155 ms
# > - **c)** none: five nodes always end up agreeing

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "a",
    {
        "a": "With the same timeout everywhere, the nodes' timers stay as close together as the moments"
        " they last heard from the leader, a millisecond or so apart: all stand before any request arrives,"
        " every round.",
        "b": "5 ms of randomness is little, and split votes are common, but sooner or later one node draws a"
        " timeout a few ms earlier than the rest and its requests arrive before they stand.",
        "c": "Agreement is guaranteed to be safe, not to be quick: with identical timers the same split vote"
        " can repeat for ever (the paper saw more than 10 s every time).",
    },
)

# %% jupyter={"outputs_hidden": true}
TRIALS = 50  # crashes per range; the paper ran 1,000: set TRIALS = 1000 and run again (about a minute)
PAPER = {  # the paper's section 9.3, for the ranges it quotes a number for
    (0.150, 0.150): ">10 s every time",
    (0.150, 0.155): "median 287",
    (0.150, 0.175): "",
    (0.150, 0.200): "slowest 513",
    (0.150, 0.300): "",
}
NETWORKS = {"steady": 0.001, "variable": 0.0075}  # messages take 7.5 ms, give or take this much


def elections(timeout, jitter, trials=TRIALS):
    """Crash the leader ``trials`` times, as the paper did; one Outcome (seconds, split votes) each."""
    return [
        time_to_elect(timeout, seed, delay=0.0075, jitter=jitter, heartbeat=timeout[0] / 2)
        for seed in range(trials)
    ]


def summary(res):
    ms = sorted(1000 * o.seconds for o in res if o.seconds is not None)
    failed = sum(o.seconds is None for o in res)
    median, slowest = (f"{np.median(ms):.0f}", f"{ms[-1]:.0f}") if ms else ("-", "-")
    return f"{median:>7}{slowest:>8}{failed:>5}{np.mean([o.split_votes for o in res]):>6.1f}"


print(f"Crashing the leader {TRIALS} times per range and network (a row per range as it is done):")
print(f"{'':13}{'steady network':^26}{'variable network':^26}")
print(f"{'timeout (ms)':13}" + f"{'median':>7}{'slowest':>8}{'none':>5}{'split':>6}" * 2 + "   the paper (ms)")
outcomes = {}
for r, paper in PAPER.items():  # a row per range, printed as soon as it is measured
    for net, jitter in NETWORKS.items():
        outcomes[net, r] = elections(r, jitter)
    row = "".join(summary(outcomes[net, r]) for net in NETWORKS)
    print(f"{f'{r[0] * 1000:.0f}-{r[1] * 1000:.0f}':13}{row}   {paper}")

# %% jupyter={"outputs_hidden": true}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained", sharey=True)
for ax, net in zip(axes, NETWORKS):
    for i, r in enumerate(PAPER):
        res = outcomes[net, r]
        ms = np.sort([1000 * o.seconds for o in res if o.seconds is not None])
        label = f"{r[0] * 1000:.0f}-{r[1] * 1000:.0f} ms" + ("" if len(ms) else " (no leader in 10 s)")
        share = np.arange(1, len(ms) + 1) / len(res)
        ax.step(ms, share, where="post", color=LINE_COLOURS[i], linestyle=LINE_STYLES[i], lw=2, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("time from the crash to a new leader (ms, log scale)")
    ax.set_title(f"{net} network", loc="left", fontsize=11)
axes[0].set_ylabel(f"share of the {TRIALS} crashes")
axes[0].set_ylim(0, 1.02)
for ax in axes:
    ax.legend(title="election timeout", fontsize=7)
plt.show()

# %% [markdown]
# Columns: the median and slowest time from the crash to a new leader (ms), how many crashes had no
# leader after 10 s (*none*), and the split votes per election. Where the simulation and the paper agree:
#
# - **No randomness, no leader** on the steady network: every trial still leaderless after 10 s, as in
#   the paper.
# - **A range of 50 ms or more** makes most elections a one-round affair (0.1-0.2 split votes per
#   election at 150-200 ms, fewer at 150-300), finished within about the timeout itself, and the slowest
#   takes a few hundred ms: 327 and 342 ms of 50 trials here, 513 ms of the paper's 1,000 (more trials
#   find slower ones). At 150-175 ms there is still about one split vote for every two elections.
#
# Where they differ, and why: at **150-155 ms** the simulation's median depends on the network. On the
# steady network the nodes' timers stay a millisecond or so apart, less than a message takes, so split
# votes repeat and the median is over a second. On the variable network every message arrives at its own
# time, the timers drift apart, and the median (353 ms) comes near the paper's 287 ms; but the same noise then
# lets 150-150 ms elect a leader too, which the paper never saw. So neither network is the paper's cluster.
# What the simulator leaves out: in a real server each vote is written to disk before it is answered,
# processes are scheduled by an operating system, and the paper's servers held logs of different lengths
# on purpose, so some candidates could not win. All of that spreads real timers apart in ways a network
# delay alone does not copy. The lesson that survives the comparison: the randomness that breaks ties is
# the range *plus* whatever noise the system has, and a range well above that noise, like the paper's
# recommended 150-300 ms, works whatever the noise is.
#
# The paper's rule for choosing the timeout is broadcastTime ≪ electionTimeout ≪ MTBF: much longer than a
# round of messages (or followers give up on a healthy leader), and much shorter than the time between
# failures (or the cluster spends its life without a leader). Systems pick their own trade-off: MongoDB's
# replica sets wait 10 s by default (`electionTimeoutMillis`) before calling an election. (Ongaro and
# Ousterhout, *In Search of an Understandable Consensus Algorithm*, USENIX ATC 2014, sections 5.2, 5.6 and
# 9.3.)

# %% [markdown]
# ## 7. Run the disasters yourself
#
# One scenario shows what *can* happen. To see what *does* happen, FoundationDB's and TigerBeetle's
# engineers, and Jepsen's testers, run thousands of random faults against a system and let checkers judge
# every history. The cell below does that: 100 seeded fault schedules (crashes, restarts, partitions,
# one-way cuts, lossy links, at random moments, on three nodes, with one client writing to the leader and
# one that stays with the first leader) against each design, under a second per design on a laptop (it
# prints a line as each design is done; set `SCHEDULES = 1000` for the larger run, about 15 s). For each
# design it counts the schedules in which the checkers found:
#
# - **two leaders in one term**: two nodes leading the same epoch;
# - **two leaders at once**: two nodes leading at the same moment (in different epochs);
# - **lost writes**: acknowledged writes missing from the final leader's log (in brackets: in how many
#   schedules);
# - **diverged after healing**: nodes whose data still differed from the leader's once the network healed
#   and settled, without an operator;
# - **broken**: schedules that broke a promise of the design, or a rule of the engine.
#
# > **Quick check.** Compare the naive monitor with the fencing monitor on **two leaders at once**. What
# > do you expect?
# >
# > - **a)** fencing has far fewer: that is what fencing is for
# > - **b)** about the same number of schedules for both
# > - **c)** none with fencing

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "Fencing acts when the deposed leader *hears* of the newer epoch, which cannot happen while the"
        " partition lasts. So the same partitions make two leaders; fencing shortens what follows the heal.",
        "b": "Both monitors promote a new leader whenever a partition hides the old one, and in both the old"
        " one leads on until it can hear the other side. Fencing's gain shows in the other columns: fewer"
        " lost writes, nothing left diverged.",
        "c": "Fencing never stops the promotion itself, and the cut-off leader cannot be told: for the length"
        " of the partition there are two.",
    },
)

# %% jupyter={"outputs_hidden": true}
SCHEDULES = 100
print(f"{SCHEDULES} fault schedules per design (a line as each design is done):")
reports = {}
for design in ("naive", "fencing", "quorum"):
    reports.update(faults.compare([design], schedules=SCHEDULES, workers=1))
    print(f"{design}: {SCHEDULES} schedules run")
print(faults.table(reports))

# %% [markdown]
# Read it column by column:
#
# - **Two leaders in one term**: none, in any design. The monitor numbers its promotions itself and never
#   gives a number twice; elections make the same promise without any single process doing the numbering:
#   one vote per node per term.
# - **Two leaders at once** is common with a monitor: every partition that isolates the leader makes one,
#   for as long as the partition lasts. Elections make it rarer and short: the old leader steps down within
#   an election timeout (and in the meantime it cannot acknowledge anything).
# - **Lost writes**: 733 without fencing, 531 with it (its window ends when the partition heals),
#   **none** with majority elections and majority commit.
# - **Diverged after healing**: only the naive design leaves nodes diverged; the others repair themselves.
#
# The test suite runs 10,000 shorter schedules of this kind for each design on every change (in CI),
# and checks that the checkers are not blind: it plants bugs (a node that votes twice in a term, a voter that does not
# compare logs, a leader that acknowledges before a majority holds a write) and the same checks must find
# them.

# %% [markdown]
# ## Your turn
#
# The panel runs the lesson's cluster, with both applications writing. Pick the nodes on one side in
# *one side* and click **Partition** (the applications stay with the node they run next to); **Heal**
# joins the network again; *failover* switches the design (and starts a fresh cluster); **Advance** lets
# time pass. Under the status table, the panel flags a split brain as it happens, and counts acknowledged
# writes the leader does not hold and entries thrown away.
#
# **Task.**
# 1. With the naive failover, partition `east` alone and advance 3 s. What does the flag say? Heal and
#    advance 3 s: has the split brain ended?
# 2. Switch to the fencing monitor and do the same. When does the split brain end, and how many entries
#    are thrown away?
# 3. Switch to majority elections. Partition `east` alone, advance 3 s, heal, advance 3 s. How long were
#    there two leaders at once, and how many acknowledged writes were lost?
# 4. Still with elections, partition `west-1` alone instead. Does anything change for the clients? Why?

# %% tags=["nbval-ignore-output"]
panel = ControlPanel(
    split_brain("naive"),
    actions=("split", "heal", "design", "advance"),
    plots=("cluster",),
    notes=("split brain", "lost", "discarded"),
    title="Split brain",
)
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# 1. After about 1 s the monitor promotes `west-1`: *SPLIT BRAIN: two leaders at once, in different
#    epochs*. Healing does not end it: without fencing `east` leads on, and the count of writes only it
#    holds keeps growing.
# 2. The split brain ends some 20 ms after you heal: `east` hears of epoch 2 and steps down, and the
#    monitor repoints it. It throws away everything it accepted during the partition (about 5 writes a
#    second of it).
# 3. Two leaders at once only for a moment, if at all (at most about one election timeout), and **0**
#    acknowledged writes lost: `east` could not reach a majority, so it acknowledged nothing and stepped
#    down. `app-east`'s writes failed instead.
# 4. Cutting off a follower changes nothing for the clients: `east` and `west-2` are still a majority, so
#    `east` keeps leading and acknowledging. `west-1` stands for election again and again in its minority
#    and can never win; when it comes back, its high term forces one needless election.
# </details>


# %% [markdown]
# ## Build and break: your own vote rule
#
# Elections rest on one small rule: when a candidate asks for its vote, does a node grant it? Write that
# rule. It is given two read-only things:
#
# - `candidate`: its `name`, the `term` it stands in, and its `last_position` and `last_epoch` (the
#   position of the last entry in its log, and the epoch that wrote it);
# - `me`, the node asked: its `term` (the same as the candidate's), its `role` (`"follower"`,
#   `"candidate"` or `"leader"`), `voted_for` (whom it already voted for in this term, or `None`), and
#   its own `last_position` and `last_epoch`.
#
# It returns `True` to grant the vote, `False` to refuse it. The **judge** runs your rule in 1,000 seeded
# disasters with majority elections (three to six nodes; crashes, restarts, partitions, one-way cuts and
# lossy links), and counts the schedules with **two leaders in one term**, or where a **committed write
# was lost** (a leader took over without a write a majority had acknowledged). The rule below grants
# every vote.

# %%
from replsim.judge import judge


def my_vote(candidate, me):
    return True


# %%
vote_verdict = judge(my_vote, "vote")

# %% [markdown]
# The timeline shows the shrunk run's election: the vote requests, the votes and the new leader's first
# appends.

# %% tags=["nbval-ignore-output"]
ClusterView(vote_verdict.replay, mode="timeline", window=vote_verdict.window, kinds=vote_verdict.kinds)

# %% [markdown]
# **Task.** Change `my_vote` until the judge finds nothing. Section 5 says what Raft's voters check.
#
# <details>
# <summary><b>Solution</b></summary>
#
# Grant a vote only as a follower, at most once per term (the same candidate asking again is fine), and
# only to a candidate whose log is at least as up to date as yours: a later `last_epoch`, or the same one
# and a `last_position` at least as high. One vote per term stops two leaders in one term; the log check
# stops a candidate that lacks a committed write, since a majority holds that write and it needs a
# majority's votes. The cell below judges it.
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
# A rule that passes
def raft_vote(candidate, me):
    if me.role != "follower":
        return False
    if me.voted_for not in (None, candidate.name):
        return False
    return (candidate.last_epoch, candidate.last_position) >= (me.last_epoch, me.last_position)


solved_vote = judge(raft_vote, "vote")


# %% [markdown]
# ## Key points
#
# - A failover that promotes a follower while the old leader is alive but cut off creates a **split
#   brain**: two leaders accept writes, one key gets two values, and one side's acknowledged writes must be
#   thrown away when the network heals. GitHub's 43-second partition in 2018 was followed by 24 hours and
#   11 minutes of degraded service.
# - **Epochs with fencing** make a deposed leader step down as soon as it hears of a newer epoch, and tell
#   every node which history wins; but while it hears nobody, it still accepts writes.
# - **Majority commit**: a leader cut off in a minority cannot acknowledge anything, so no acknowledged
#   write is lost.
# - A **quorum** is a set of nodes that must take part in a decision; majorities are used because any two
#   overlap.
# - **Elections by majority vote** (Raft; Paxos and its relatives do the same job): terms, one vote per
#   node per term, no vote for a less up-to-date log, randomized timeouts against split votes, and a
#   leader that steps down when it loses its majority. At most one leader per term, with no outside
#   monitor; what a leader committed in its own term survives every later election.
# - A quorum does **not** fix writes acknowledged before they replicated, stale reads from a leader that
#   does not know it was deposed (unless it checks), or the minority side's unavailability.
# - Random fault schedules and checkers turn "it can happen" into "how often it happens", and tests that
#   plant bugs show the checkers can see them.
#
# **Next:** [Lesson 7, *Sync vs async*](07_sync_vs_async.ipynb): what waiting for followers costs in
# latency, and what it saves at failover. Back to the [map of the course](00_start_here.ipynb).
