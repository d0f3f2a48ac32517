# %% [markdown]
# # Lesson 1 — The news anchor: one leader, many copies
#
# **By the end of this lesson you can**
# - name the parts of leader-follower replication: the leader, the followers, the replication stream;
# - show that a follower copies the leader faithfully, mistakes included, and say why a replica is not a backup;
# - show that one follower going dark does not stop the others, and watch it catch up when it returns;
# - show that when the leader goes dark, no new writes are accepted anywhere.
#
# Run the cells from top to bottom (**Shift+Enter**). Every number below comes from a seeded simulation,
# so you will see exactly the numbers quoted in the text.

# %% [markdown]
# ## The picture
#
# An evening news programme is read live by one anchor in one studio. Three other channels carry that
# programme: they have no anchor of their own, they take the studio's signal and put it on air for their
# own viewers. The anchor *creates*; the channels *relay*.
#
# | In the studio | In a database | Other names you will meet |
# |---|---|---|
# | the anchor | the **leader**: the only node that accepts writes | primary, master, source |
# | Channel A, B, C | the **followers**: they copy the leader and serve reads | replicas, standbys, secondaries |
# | the live signal | the **replication stream**: the leader's log of changes, in order | WAL stream, binlog, oplog |
# | the viewers | clients reading data | |
#
# In the simulation below each node is a small database. The anchor is the leader; every link between
# the studio and a channel takes 50 ms one way (about a cross-country network hop).

# %%
from replsim import Cluster, ReplsimError
from replsim.plots import lag_plot
from replsim.widgets import ControlPanel
import matplotlib.pyplot as plt

CHANNELS = ["Channel A", "Channel B", "Channel C"]
studio = Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, seed=1)
print(studio.table())

# %% [markdown]
# ## 1. A write goes to the leader, and the stream carries it to every follower
#
# A client writes the evening's headline. Only the anchor takes it. Straight after the write the channels
# do not have it yet: the change is still travelling. 50 ms later, every channel shows it.

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
# The anchor says the election is on *Tuesday*; it is on *Thursday*. The channels do not check facts: they
# relay. Replication copies *every* change, wrong ones included, and quickly.

# %%
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

# %%
news = Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, seed=1)
ticker = news.start_writes(rate=2, keys=["ticker"])
news.run(until=10.0)
news.crash("Channel B")
news.run(until=29.9)
behind_before_return = news.lag()["Channel B"]
print(news.table())

# %%
if my_prediction is None:
    print("Put your guess in my_prediction above, then run these cells again.")
elif my_prediction == behind_before_return:
    print(f"Right: Channel B is {behind_before_return} entries behind.")
else:
    print(f"Not quite: you said {my_prediction}, the simulation says {behind_before_return}.")
assert behind_before_return == 40

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# Channel B missed every update from t = 10 s to t = 29.9 s: 2 per second for about 20 s, so **40 entries**.
# Channel A and C show 0: they never depended on Channel B. Each follower copies from the leader, not from
# its neighbours, so one follower failing costs the others nothing.
# </details>
#
# Channel B's disk still holds its log up to where it stopped (its position in the log). When it restarts it
# tells the anchor "I have everything up to here", and the anchor sends only what is missing:

# %%
news.run(until=30.0)
news.recover("Channel B")
news.run(until=30.2)
print(news.table())

# %% [markdown]
# The plot shows each channel's lag over time: how many log entries it is behind the anchor. Channel B's
# line climbs while it is dark and falls back to zero one round trip (100 ms) after it returns. (The
# other lines sit at 0 or 1: every new update is "1 behind" for the 50 ms it spends on the wire.)

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
# The panel below drives a fresh copy of the studio. Try:
# 1. **Write** a headline, then **Advance** by 0.1 s: every channel has it.
# 2. **Crash** Channel B, write a few times, **Advance**: watch its lag grow on the edge of the picture.
# 3. **Recover** it and **Advance**: it catches up.
# 4. Pick *Channel A* in the write box's node list and **Write**: the follower refuses.
# 5. **Crash** the Anchor and try to write.

# %% tags=["nbval-ignore-output"]
panel = ControlPanel(Cluster(leader="Anchor", followers=CHANNELS, delay=0.050, seed=1))
panel

# %%
assert panel.cluster.leader == "Anchor" and panel.last_error is None

# %% [markdown]
# ## Recap
#
# - One node, the **leader**, takes every write; the **followers** copy its stream of changes in order and
#   serve reads.
# - Followers copy faithfully, mistakes included: **replication is not a backup**.
# - A follower that goes down does not affect the others; when it returns it asks for what it missed
#   from its last position and catches up.
# - When the leader goes down, reads can continue on the followers, but **no new writes** are accepted
#   until a follower is promoted.
#
# **Next:** Lesson 2, *The head chef* (coming soon), looks inside the stream: the log, positions, and how a
# brand-new follower joins. Back to the [map of the course](00_start_here.ipynb).
