# %% [markdown]
# # Lesson 1 — The news anchor: one leader, many copies
#
# **Time:** about 35 minutes.
#
# **Questions this lesson answers**
# - In leader-follower replication, who accepts a write, and how do the copies get it?
# - If the leader writes something wrong, what do the followers do?
# - What happens when one follower goes down, and when it comes back?
# - What happens when the leader goes down?
#
# **By the end of this lesson you can**
# - name the parts of leader-follower replication: the leader, the followers, the replication stream;
# - show that a follower copies the leader faithfully, mistakes included, and say why a replica is not a backup;
# - show that one follower going dark does not stop the others, watch it catch up when it returns, and say
#   when catching up is no longer possible;
# - show that when the leader goes dark, no new writes are accepted anywhere.
#
# Run the cells from top to bottom (**Shift+Enter**). Every number below comes from a seeded simulation,
# so you will see exactly the numbers quoted in the text.

# %% [markdown]
# ## The picture
#
# Picture a national evening bulletin. Only one person in one studio writes and reads the news: the
# anchor. Channel A, Channel B and Channel C each broadcast that bulletin in their own region, and none of
# them makes news of its own: whatever the studio sends out is what their viewers see, a moment later.
# New stories start in one place only; everywhere else shows copies of them.
#
# | In the studio | In a database | Other names you will meet |
# |---|---|---|
# | the anchor | the **leader**: the only node that accepts writes | primary, master, source |
# | Channel A, B, C | the **followers**: they copy the leader and serve reads | replicas, standbys, secondaries |
# | the live signal | the **replication stream**: the leader's log of changes, in order | PostgreSQL's WAL, MySQL's binlog, MongoDB's oplog (lesson 2) |
# | the viewers | clients reading data | |
#
# In the simulation below each node is a small database. The anchor is the leader; every link between
# the studio and a channel takes 50 ms one way, so 100 ms for a round trip. That is a long link: measured
# round trips between New York and San Francisco are about 60-85 ms (light in a straight fibre needs about
# 21 ms one way for that distance, 42 ms there and back), New York - London about 70-80 ms; 100 ms is more like a channel on another
# continent, across an ocean. (City-to-city measurements: WonderNetwork's ping tables,
# <https://wondernetwork.com/pings>.)

# %%
from replsim import Cluster, ReplsimError
from replsim.ui.plots import lag_plot
from replsim.ui import ControlPanel
from replsim.lesson import check_choice, check_prediction
import matplotlib.pyplot as plt

CHANNELS = ["Channel A", "Channel B", "Channel C"]
studio = Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, seed=1)
print(studio.table())

# %% [markdown]
# The table has one line per node: its **role**; its **state** (*up* or *DOWN*); its **epoch**, which
# leadership it follows (1 until a follower is promoted, lesson 5); its **lsn**, how many entries of the
# leader's log of changes it holds; and how many entries it is **behind** the leader. Nothing has been
# written yet, so every lsn is 0.

# %% [markdown]
# ## 1. A write goes to the leader, and the stream carries it to every follower
#
# A client writes the evening's headline. Only the anchor takes it. Straight after the write the channels
# do not have it yet: the change is still travelling. 50 ms later, every channel shows it.
#
# That is the whole promise of asynchronous replication: the copies are allowed to trail the leader, but
# once nothing new is written, they all end up holding the same data. Systems that promise this are called
# **eventually consistent**; lesson 4 looks at what a reader sees before "eventually".

# %%
studio.write("headline", "Storm warning for the coast")
print("right after the write:")
for ch in CHANNELS:
    print(f"  {ch} shows {studio.read('headline', ch)!r}")
studio.advance(0.050)
print(f"after {studio.now * 1000:.0f} ms:")
for ch in CHANNELS:
    print(f"  {ch} shows {studio.read('headline', ch)!r}")

# %% [markdown]
# ## 2. The anchor's slip is copied too
#
# The anchor says the election is on *Tuesday*; it is on *Thursday*.
#
# > **Quick check.** What do the three channels put on air?
# >
# > - **a)** Thursday: a follower corrects an obvious mistake
# > - **b)** Tuesday: a follower copies whatever the leader wrote
# > - **c)** nothing yet: a follower waits until the leader confirms the news is right

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "A follower has no idea what is right: it does not read the data, it replays the leader's"
        " changes. If it 'corrected' anything, it would no longer be a copy.",
        "b": "Replication copies every change, wrong ones included, and fast: the mistake is on every"
        " channel 50 ms later.",
        "c": "Nothing in replication judges a change. The followers apply it as soon as it arrives, whether"
        " it is right or wrong.",
    },
)

# %% [markdown]
# Checking facts is not a follower's job: whatever the leader writes is what it copies.

# %% jupyter={"outputs_hidden": true}
print("What each node shows 50 ms after the slip:")
studio.write("election day", "Tuesday")  # the slip
studio.advance(0.050)
print({node: studio.read("election day", node) for node in studio.names})

# %% [markdown]
# Within 50 ms the mistake exists on four machines. The same holds for a bad `UPDATE` or an accidental
# `DELETE`: the followers apply it as faithfully as a good one. **A replica is not a backup.** It protects you
# from a machine failing, not from a wrong change; for that you need backups or point-in-time recovery,
# which keep *older* states of the data.
#
# The correction is simply another write, and it is relayed the same way:

# %%
studio.write("election day", "Thursday")
studio.advance(0.050)
print({node: studio.read("election day", node) for node in studio.names})
print("keys that differ between nodes:", studio.divergence())

# %% [markdown]
# ## 3. A channel goes dark; the others carry on
#
# Now the news runs continuously: a client sends **2 updates per second** to the anchor. After 10 s,
# Channel B loses power for 20 s. What happens to Channel A and C, and to Channel B when it comes back?
#
# > **Think first.** While Channel B is dark, the anchor keeps going at 2 updates per second. Just before
# > Channel B comes back, how many log entries behind the anchor is it? Write your guess below before you
# > run the cells after it.

# %%
my_prediction = None  # replace None with your guess (a whole number), then run this cell and the next ones

# %% jupyter={"outputs_hidden": true}
print("The studio just before Channel B comes back:")
news = Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, seed=1)
ticker = news.start_writes(rate=2, keys=["ticker"])
news.run(until=10.0)
news.crash("Channel B")
news.run(until=29.9)
behind_before_return = news.lag()["Channel B"]
print(news.table())

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    behind_before_return,
    "Channel B is {} entries behind",
    tolerance=1,
    explain="Count the updates the anchor sends while Channel B is dark: 2 a second, from t = 10 s to 30 s.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# Channel B missed every update from t = 10 s to t = 29.9 s: 2 per second for about 20 s, so **40 entries**
# (39 to 41 counts as right: see the plot below for why 41 is close too).
# Channel A and C show 0: they never depended on Channel B. Each follower copies from the leader, not from
# its neighbours, so one follower failing costs the others nothing.
# </details>
#
# Channel B's disk still holds its log up to where it stopped (its position in the log, lsn 20). When it
# restarts it tells the anchor "I have everything up to here", and the anchor sends only what is missing.
#
# That works only **while the missing entries can still be found**: in the anchor's log, or in an archive
# of old log kept elsewhere. A real leader throws old log away after a while, and a follower that comes
# back after its missing part is gone cannot catch up by asking: it must be rebuilt from a fresh copy of
# the leader's data. Lesson 2 shows both, and what a leader can promise to keep. The simulated anchor keeps
# its whole log, so here Channel B can always catch up.
#
# Channel B restarts at t = 30.0 s, the moment the anchor sends its next update:

# %%
news.run(until=30.0)
print(f"Channel B at t = {news.now:.1f} s, as it restarts: {news.lag()['Channel B']} entries behind")

# %%
news.recover("Channel B")
news.run(until=30.2)
print(news.table())

# %% [markdown]
# The plot shows each channel's lag over time. It cuts the 40 s into steps of 1 s and draws, for each
# step, the **most** entries the channel was behind the anchor at any moment of that step (its peak lag),
# so a short lag is never missed. Channel B's line climbs while it is dark and falls back to zero one round
# trip (100 ms) after it returns. Its peak is **41**, not the 40 of your answer: update 61 left the anchor
# at t = 30.0 s, the same moment Channel B restarted, so for one round trip it lacked 41 entries (printed
# above). The other lines sit at 1: in every step a new update is "1 behind" for the 50 ms it spends on the
# wire.

# %%
news.run(until=40.0)
ticker.stop()
fig = lag_plot(news)
plt.show()

# %% [markdown]
# ## 4. The anchor goes dark
#
# The channels can survive losing each other. Can they survive losing the anchor?

# %%
news.crash("Anchor")
try:
    news.write("ticker", "breaking news")
except ReplsimError as err:
    print("write refused:", err)
print("Channel A still answers reads: the last update it shows is number", news.read("ticker", "Channel A"))

# %%
try:
    news.write("ticker", "breaking news", node="Channel A")
except ReplsimError as err:
    print("write refused:", err)

# %% [markdown]
# The channels keep showing the last news they received, so **reads still work**, but nobody can
# publish anything **new**: the anchor was the only node allowed to write, and a follower refuses a write
# with the same message PostgreSQL gives on a standby. Someone has to take the anchor's place: promoting a
# follower to be the new leader is **failover**, and what it costs is lesson 5.

# %% [markdown]
# ## Your turn
#
# The panel below drives a fresh copy of the studio: **Write** sends the key and value in the boxes to the
# node picked in *on*; **Crash** and **Recover** act on the node picked in *node*; **Advance** lets the
# chosen number of seconds pass.
#
# **Task.**
# 1. Crash Channel B, write three headlines on the Anchor, and Advance. How many entries behind is Channel
#    B, and how many are Channel A and C?
# 2. Recover Channel B, set *seconds* to 0.1 and Advance once. Is it back to 0 behind? Why is 0.1 s enough?
# 3. Crash the Anchor, then try to write on the Anchor, and on Channel A. What does each refusal say?

# %% tags=["nbval-ignore-output"]
panel = ControlPanel(Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, seed=1))
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# 1. **3 behind** (the edge to Channel B says so); Channel A and C are 0 behind: they have all three
#    headlines, Channel B none of them. Each channel copies from the anchor, not from its neighbours.
# 2. **Yes**: catching up takes one round trip, 100 ms. Channel B asks the anchor for entries 1 to 3
#    (50 ms there), and they arrive 50 ms later.
# 3. The Anchor refuses because it is down: nobody takes new writes until it recovers or a follower is
#    promoted. Channel A refuses because it is a follower: in PostgreSQL's words, it cannot execute the
#    write "in a read-only transaction". (Reads would still work on every channel, as section 4 showed.)
# </details>


# %% [markdown]
# ## Key points
#
# - One node, the **leader**, takes every write; the **followers** copy its stream of changes in order and
#   serve reads.
# - Followers copy faithfully, mistakes included: **replication is not a backup**.
# - A follower that goes down does not affect the others. When it returns it asks for what it missed since
#   its last position, and catches up, **as long as those entries can still be found**; otherwise it must
#   be rebuilt from a fresh copy.
# - The copies trail the leader but end up the same once writes stop: **eventual consistency**.
# - When the leader goes down, reads can continue on the followers, but **no new writes** are accepted
#   until a follower is promoted.
#
# **Next:** [Lesson 2, *The head chef*](02_head_chef.ipynb), looks inside the stream: the log, positions,
# how a brand-new follower joins, and what happens when the leader no longer has the log a follower needs.
# Back to the [map of the course](00_start_here.ipynb).
