# %% [markdown]
# # Lesson 4 — Lag and reads: what a replica's readers see
#
# **Time:** about 50 minutes, plus 4 for the optional section on linearizability.
#
# **Questions this lesson answers**
# - How far behind its leader is a follower, in log entries and in seconds, and what makes that grow?
# - What does reading from a replica near you gain, and what does it cost?
# - Which surprises can readers of replicas meet, and how do you find them in a history?
# - (Going deeper, optional) What does "linearizable" mean, and why are reads from asynchronous
#   followers not?
# - How do real systems give readers back their guarantees, and at what price?
#
# **By the end of this lesson you can**
# - read a lag plot in entries and in seconds, and name three causes of lag: a slow link, a burst of
#   writes, a follower busy applying;
# - explain the trade-off of reading from the nearest replica, with latencies measured between real cities;
# - recognise a stale read and violations of read-your-writes, monotonic reads and consistent prefix, and
#   find each one, with the operations that show it, in the clients' own histories;
# - (optional) check a history for linearizability, including operations whose outcome is unknown;
# - choose a read policy (read from the leader after your own write, a sticky replica, reads that wait for
#   a position) for the anomaly you need to prevent, knowing what it costs.
#
# Run the cells from top to bottom (**Shift+Enter**). Every number comes from a seeded simulation.

# %% [markdown]
# ## The picture
#
# Back to the news studio of lesson 1. Every channel relays the live broadcast, but the signal takes time
# to reach it: a channel on another continent shows each headline a little later than the studio does.
# Now a viewer in Tokyo phones the studio with a vote, hangs up as soon as the studio says "got it", and
# turns on the Tokyo channel to see the result: is her vote in it yet? A viewer who flicks between two
# channels may see a story, then switch to a channel that has not shown it yet: the story seems to vanish.
#
# | In the studio | In a database |
# |---|---|
# | the time a headline takes to reach a channel | **replication lag**: how far a follower is behind its leader |
# | a viewer phoning the studio | a client **writing** to the leader |
# | watching the local channel | **reading from the nearest replica** |
# | the vote not showing yet | a **stale read**; for your own vote, a **read-your-writes** violation |
# | a story vanishing after switching channels | a **monotonic-reads** violation |
# | a reply on screen before the question it answers | a **consistent-prefix** violation |
#
# A system whose followers may lag but, once writes stop, all end up holding the same data is called
# **eventually consistent**. That promise says nothing about *when*, or about what a reader sees in the
# meantime: this lesson is about the meantime.

# %%
import matplotlib.pyplot as plt
import numpy as np

from replsim import Cluster
from replsim.clients.policies import AnyReplica, Leader, LeaderAfterWrite, Nearest, Sticky, WaitForPosition
from replsim.course.sessions import compare, one_key
from replsim.ui.figures import geo_read_plot, policy_plot
from replsim.course.geo import RTT_MS, SOURCES, city_clients, geo_cluster
from replsim.history.anomalies import find_anomalies
from replsim.history.linearizability import check, parse_jsonl, to_jsonl, from_history
from replsim.lesson import check_choice, check_prediction
from replsim.ui.course_actions import reads_world
from replsim.ui.plots import lag_plot
from replsim.ui import ControlPanel
from replsim.ui.view import ClusterView

# %% [markdown]
# ## 1. Lag over time, and what makes it grow
#
# A leader and three followers, each with a different problem waiting for it:
#
# - `near` is 5 ms from the leader;
# - `far` is 60 ms away, and between t = 5 s and t = 7 s its link slows to 300 ms (a congested route);
# - `busy` is 5 ms away but applies each change in 4 ms, one at a time: it keeps up with 250 changes a
#   second, no more.
#
# A client writes 100 times a second throughout; from t = 3 s to t = 4 s a second client adds a burst of
# 300 more.
#
# > **Quick check.** During and just after the burst, whose readers see the *oldest* data (the most
# > seconds behind the leader)?
# >
# > - **a)** `near`
# > - **b)** `far`
# > - **c)** `busy`

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "c",
    {
        "a": "`near` receives each write 5 ms after the leader and applies it at once: never more than a few"
        " ms behind, burst or not.",
        "b": "During the burst more writes are on `far`'s 60 ms wire at once, but each one still arrives 60 ms"
        " after it left: in seconds it stays about 60 ms behind until its route slows.",
        "c": "`busy` applies at most 250 entries a second. The burst brings 400 a second, so a queue builds,"
        " and every entry waits behind it: its readers see data more than half a second old, after the"
        " burst has ended.",
    },
)

# %% jupyter={"outputs_hidden": true}
print("How far each follower fell behind over the 10 s:")
c = Cluster(leader="primary", followers=["near", "far", "busy"], delay=0.005, seed=4)
c.set_link("primary", "far", delay=0.060)
c.set_stages("busy", apply=0.004)  # 4 ms to apply each entry
steady = c.start_writes(rate=100, keys=["ticker"])
c.run(until=3.0)
c.start_writes(rate=300, count=300, keys=["ticker"])  # the burst: 300 writes in one second
c.run(until=5.0)
c.set_link("primary", "far", delay=0.300)  # the slow route
c.run(until=7.0)
c.set_link("primary", "far", delay=0.060)
c.run(until=9.0)
steady.stop()
c.run(until=10.0)

times = np.linspace(0, 10, 10001)
for name in ["near", "far", "busy"]:
    entries, seconds = c.history.lag(name, times)
    print(
        f"{name:4}: at most {entries.max():3d} entries behind (t = {times[entries.argmax()]:.2f} s), "
        f"at most {seconds.max() * 1000:3.0f} ms behind (t = {times[seconds.argmax()]:.2f} s)"
    )

# %% jupyter={"outputs_hidden": true}
fig, (by_entries, by_seconds) = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
what_happened = [(3.0, 4.0, "burst"), (5.0, 7.0, "slow route to far")]
lag_plot(c, ax=by_entries, spans=what_happened, legend=False)
lag_plot(c, ax=by_seconds, unit="seconds", spans=what_happened)
by_entries.set_title("Lag in log entries", fontsize=11, loc="left")
by_seconds.set_title("Lag in seconds", fontsize=11, loc="left")
plt.show()

# %% [markdown]
# The two plots tell different stories, and a database shows both (PostgreSQL's `pg_stat_replication`
# has the positions, and `write_lag`, `flush_lag` and `replay_lag` in time):
#
# - **A slow link** (`far`): always about 6 entries behind at 100 writes a second, since each write spends
#   60 ms on the wire; in seconds a steady 60 ms. When the route slows to 300 ms, both grow about five times.
# - **A burst** of writes: in entries, everyone's lag jumps (`far` holds 24 entries on the wire at 400 writes a
#   second), yet in seconds `far` stays at 60 ms and `near` at 5 ms. A lag in entries says how much is
#   missing; a lag in seconds says how old the newest thing you can read is.
# - **A follower busy applying** (`busy`): it receives everything in 5 ms, but can apply only 250 entries a
#   second. During the burst its backlog grows by about 150 entries, and it keeps falling behind *in time*
#   after the burst ends, until it has worked through the queue: its readers see data more than half a
#   second old, though its disk is up to date. A standby replaying a large transaction, or one whose reads
#   compete with replay, behaves the same way.

# %% [markdown]
# ## 2. Replicas far away
#
# One reason to replicate is to put a copy near your users. The leader is in San Francisco; followers are
# in Tokyo, London and New York, and a user in each city reads and writes. The links are as long as the
# cities are apart, half of a measured round trip each way:

# %%
for pair, rtt in RTT_MS.items():
    a, b = sorted(pair)
    print(f"{a:>13} - {b:<13} {rtt:5.0f} ms round trip   source: {SOURCES[pair]}")

# %% [markdown]
# Real round trips change with the route and the hour: WonderNetwork's city-to-city ping tables
# (<https://wondernetwork.com/pings>) give current figures, and `geo_cluster(rtt_ms=...)` takes your own.
#
# Each user writes (to the leader, wherever it is) and reads two keys for 30 s, pausing about 50 ms between
# operations: once reading from the nearest replica, then again, on the same workload, from the leader. What does each read cost, and how stale is
# what the nearest replica answers?

# %%
CITY_ORDER = ["San Francisco", "New York", "London", "Tokyo"]


def world():
    return geo_cluster(seed=4, jitter=0.002)


def users(cluster):
    return list(city_clients(cluster, CITY_ORDER).values())


runs = compare(
    world,
    users,
    {"nearest": Nearest, "leader": Leader},
    keys=["news", "scores"],
    writes=0.3,
    think=0.05,
    until=30.0,
)
by_city = {}
for city in CITY_ORDER:
    row = {}
    for run in runs:
        mine = [
            o for o in run["ops"] if o.client == f"{city} user" and o.kind == "read" and o.outcome == "ok"
        ]
        row[f"{run['policy']} ms"] = 1000 * np.mean([o.complete - o.invoke for o in mine])
        if run["policy"] == "nearest":
            stale = [a for a in run["anomalies"] if a.kind == "stale read" and a.client == f"{city} user"]
            row["stale %"] = 100 * len(stale) / len(mine)
            row["stale by ms"] = 1000 * np.mean([a.stale_by for a in stale]) if stale else 0.0
    by_city[city] = row
    print(
        f"{city:>13}: read from the nearest replica {row['nearest ms']:5.1f} ms, from the leader "
        f"{row['leader ms']:5.1f} ms; {row['stale %']:4.1f}% of nearest reads stale, by {row['stale by ms']:4.1f} ms"
    )

# %%
fig = geo_read_plot(by_city)
fig.set_size_inches(11, 3.8)
plt.show()

# %% [markdown]
# Reading nearby turns a read that crossed an ocean into a 1 ms one. The price is staleness: a replica
# shows the data as it was when the stream left the leader, so the farther the replica is from the
# *leader*, the more often its readers miss a write others already had acknowledged (9.5% in New York,
# 11.9% in Tokyo, 23.8% in London). By *how much* a stale read is out of date does not follow the
# distance as neatly: it also depends on when each user happens to read and write. San Francisco's
# users read the leader itself: never stale.
#
# > **Think first.** The San Francisco user writes a new value and hears "done" 1 ms later (she is 0.5 ms
# > from the leader). For how many milliseconds after she hears "done" does the London replica still show
# > the old value? Write your guess below before you run the cells after it.

# %%
my_prediction = None  # replace None with your guess in ms, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true}
print("The San Francisco user's write, and when London has it:")
g = geo_cluster(seed=4)
sf = city_clients(g, ["San Francisco"])["San Francisco"]
w = sf.write("price", "9.99")
g.advance(0.2)
t = np.arange(0, 0.2, 0.0001)
london_has_it = t[g.history.position("London", t) >= w.lsn][0]
window_ms = round((london_has_it - w.complete) * 1000, 1)
print(f"acknowledged at {w.complete * 1000:.1f} ms; London holds it from {london_has_it * 1000:.1f} ms")

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    window_ms,
    "London shows the old value for {} ms after the acknowledgement",
    unit=" ms",
    tolerance=1,
    explain="Her answer travels 0.5 ms back to her; the copy travels half the 130 ms round trip to London.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **64.5 ms.** The write reaches the leader after 0.5 ms. From there the acknowledgement needs 0.5 ms back
# to her, but the copy needs 65 ms (half of the 130 ms round trip) to reach London. Her "done" arrives at
# 1 ms, London's copy at 65.5 ms. Any London reader in between gets the old price, although the database
# had already told someone the new one was stored. That window is the replication lag, and it is at least
# the one-way delay from the leader to the replica, whatever the hardware.
# </details>

# %% [markdown]
# ## 3. What readers of replicas see: four anomalies
#
# Four users of a social app, in one region: `replica-1` is 5 ms from the leader, `replica-2` 80 ms (it is
# catching up from elsewhere). Each user's reads go where the app's load balancer sends them:
#
# 1. Alice updates her profile, then reads it back, from `replica-2`.
# 2. Carol asks a question; Dave reads it (from `replica-1`) and answers.
# 3. Bob reads the answer (from `replica-1`), then the question and the answer again, both from `replica-2`.
#
# > **Quick check.** `replica-2` is 80 ms behind. Bob has just read Dave's answer on `replica-1`; his next
# > read asks `replica-2` for the question and finds nothing. What went wrong for Bob?
# >
# > - **a)** a read-your-writes violation: the database lost his write
# > - **b)** he saw an effect (the answer) without its cause (the question)
# > - **c)** nothing: an empty read from a replica that is behind is normal and harmless

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next one

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "Bob wrote nothing: read-your-writes is about reading back your *own* write. His reads are"
        " about Carol's and Dave's writes.",
        "b": "The log holds the question before the answer, and Bob saw them in the other order: a"
        " consistent-prefix violation. It happens because his two reads went to different replicas.",
        "c": "An empty read is normal for a lagging replica, but harmless only if Bob sees nothing newer"
        " first. He already saw the answer, so the app now shows him an answer to a question that seems"
        " not to exist.",
    },
)

# %% jupyter={"outputs_hidden": true}
print("Every operation, as its client saw it:")
app = Cluster(leader="primary", followers=["replica-1", "replica-2"], delay=0.005, seed=4)
app.set_link("primary", "replica-2", delay=0.080)
people = {
    n: app.client(n, delays={node: 0.001 for node in app.names}) for n in ["alice", "bob", "carol", "dave"]
}
people["alice"].write("alice's bio", "loves tea")
app.advance(0.01)
people["alice"].read("alice's bio", node="replica-2")
app.advance(0.2)
people["carol"].write("question", "When is the election?")
app.advance(0.02)
people["dave"].read("question", node="replica-1")
app.advance(0.01)
people["dave"].write("answer", "On Thursday")
app.advance(0.02)
people["bob"].read("answer", node="replica-1")
app.advance(0.01)
people["bob"].read("question", node="replica-2")
app.advance(0.01)
people["bob"].read("answer", node="replica-2")
app.advance(0.5)
for op in app.history.ops:
    print(op)

# %% [markdown]
# Each line is one operation as its client saw it: when it began and ended, which node answered, and for
# a write, its position in the log (lsn). The checkers in `replsim.history.anomalies` look only at these
# operations, as you could in your own application's logs, and name each anomaly with the operations
# that show it:

# %%
for anomaly in find_anomalies(app.history.ops):
    print(f"- {anomaly}")

# %% [markdown]
# - A **stale read** returns an older value than one already acknowledged to someone when the read began.
# - A **read-your-writes** violation is a stale read of your own write: Alice's profile seems to have
#   lost her edit.
# - A **monotonic-reads** violation: Bob saw the answer, then read it again and it was gone. Time went
#   backwards for him.
# - A **consistent-prefix** violation: Bob saw the answer, then found no question. Dave wrote the answer
#   *because* he had read the question, and the log holds them in that order; Bob saw the effect without
#   its cause. (Terry's session guarantees count this under monotonic reads too, since Bob's second read
#   saw an older state of the database; here the two are told apart by key, the way Kleppmann's *Designing
#   Data-Intensive Applications* tells them apart.)
#
# With one log, the last two happen only when one reader's reads go to different replicas.

# %% [markdown]
# ## 4. Remedies, and what they cost
#
# Real systems give readers back some guarantees without sending every read to the leader:
#
# | Read policy | Idea | Prevents | Found in |
# |---|---|---|---|
# | leader after own write | after writing, read from the leader for a while (here 100 ms) | read-your-writes violations, while the window covers the lag | a common application pattern |
# | sticky replica | each user always reads from the same replica | monotonic-reads and consistent-prefix violations | session affinity in load balancers |
# | wait for position | the client carries the log position of its last write, and the replica answers once it has applied it | read-your-writes violations | MySQL's `WAIT_FOR_EXECUTED_GTID_SET` |
# | wait for position, reads too | the position also moves with every read | all three session anomalies | MongoDB's causally consistent sessions (`afterClusterTime`), with `"majority"` read and write concern |
#
# None of them stops a *stale* read of someone else's write: only reading from the leader (or waiting for
# a position the leader tells you at read time) does that.
#
# The same workload under each policy: six users of the social app write and read three keys for 20 s,
# through a load balancer that spreads reads over three replicas. `replica-2` is busy (4 ms to apply each
# change), `replica-3` is 40 ms away.


# %%
def social_app():
    cl = Cluster(
        leader="primary", followers=["replica-1", "replica-2", "replica-3"], delay=0.002, jitter=0.001, seed=2
    )
    cl.set_link("primary", "replica-3", delay=0.040, jitter=0.010)
    cl.set_stages("replica-2", apply=0.004)
    return cl


def app_users(cl):
    return [cl.client(f"user-{i}", delays={n: 0.001 for n in cl.names}) for i in range(1, 7)]


POLICIES = {
    "any replica": AnyReplica,
    "leader": Leader,
    "leader after own write": lambda: LeaderAfterWrite(0.1, then=AnyReplica()),
    "sticky replica": Sticky,
    "wait for position (writes)": lambda: WaitForPosition(then=AnyReplica(), reads=False),
    "wait for position (writes and reads)": lambda: WaitForPosition(then=AnyReplica()),
}
rows = compare(
    social_app, app_users, POLICIES, keys=["question", "answer", "likes"], writes=0.2, think=0.03, until=20.0
)
print(
    f"{'read policy':37} {'stale':>5} {'RYW':>4} {'mono':>4} {'prefix':>6} {'mean ms':>8} {'p99 ms':>7} {'leader':>7}"
)
for r in rows:
    n = list(r["counts"].values())
    print(
        f"{r['policy']:37} {n[0]:5d} {n[1]:4d} {n[2]:4d} {n[3]:6d} {r['mean ms']:8.1f} {r['p99 ms']:7.1f} "
        f"{r['on leader %']:6.0f}%"
    )

# %%
fig = policy_plot(rows)
fig.set_size_inches(12, 4.4)
plt.show()

# %% [markdown]
# Read the table column by column:
#
# - **Leader** removes every anomaly, and here costs no time (the users sit next to the leader), but it
#   puts all reads on one node: the point of replicas was to spread them (lesson 2).
# - **Leader after own write** sends about half the reads to the leader at this write rate, and removes
#   read-your-writes violations. Users still see time go backwards between replicas.
# - **Sticky replica** keeps the leader free and removes monotonic-reads and consistent-prefix violations:
#   one replica applies the log in order, so it never goes back. A user stuck on the slow replica still
#   misses her own writes.
# - **Waiting for a position** removes read-your-writes violations (and with reads too, every session
#   anomaly) without touching the leader. It costs time when the replica is behind: the 99th percentile
#   rises to the lag of the farthest replica.
#
# Stale reads of *other people's* writes remain under every policy but the leader: a replica cannot know
# what it has not yet received.

# %% [markdown]
# ## Your turn
#
# The panel runs the four cities of section 2, with two changes: the links wobble a little (jitter), and
# the Tokyo replica is busy, as `busy` was in section 1 (it applies each change 30 ms after receiving it).
# **Write** sends a new value of the key from the chosen user to the leader; **Read** asks for the key as
# the chosen read policy says; **Advance** lets the chosen time pass. Under the buttons the panel lists the
# latest answers and names every anomaly the checkers find in the users' histories.
#
# **Task.**
# 1. As the Tokyo user, with reads from the **nearest replica**: Write, Advance 0.110 s (her answer is back
#    after 105 ms), Read, Advance 0.05 s. What did she read, and what does the panel name?
# 2. Switch to **wait for position** and repeat. What does she read now, and how long did the read take?
#    And with **leader after own write**?
# 3. Set writes/s to 10 (a client next to the leader writes `x`), pick the London user and **nearest
#    replica**, and Read and Advance a few times. Which anomaly appears? Which read policy removes it?

# %% tags=["nbval-ignore-output"]
world = reads_world()  # the four cities of section 2, links wobbling by up to 2 ms
world.set_stages("Tokyo", apply=0.030)  # a busy replica: 30 ms to apply each change
panel = ControlPanel(world, actions=("reads", "advance ms", "rate"), plots=("cluster", "lag seconds"))
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# 1. She reads her key **empty**, in 1 ms: the Tokyo replica received her write at about 105 ms, like her
#    answer, but applies it only 30 ms later. The panel names a **stale read** and a **read-your-writes
#    violation**, with her write and her read.
# 2. With **wait for position** her read carries the position of her write, and the Tokyo replica answers
#    once it has applied it: she reads her value, and the read takes about 27 ms instead of 1 ms. With
#    **leader after own write** her read goes to San Francisco: her value, after 105 ms.
# 3. **Stale reads**, most of the time: each new value of `x` reaches London 65 ms after the leader
#    acknowledged it, and a new one comes every 100 ms. No read policy that reads the London replica removes
#    them; only **leader** does (130 ms a read), or the app accepts that London sees the news 65 ms late.
# </details>


# %% [markdown]
# ## Build and break: your own read policy
#
# So far you picked a read policy from a list. Now write one. Your function is called for every read a
# session makes and decides where the read goes. It is given two things, both read-only:
#
# - `session`: `session.last_write`, the log position of the session's latest acknowledged write (0 if
#   none), and `session.last_seen`, the highest position it has seen so far, by its writes and its reads;
# - `nodes`: one entry per node, with `name`, `role` (`"leader"` or `"follower"`), `up`, `position` (the
#   log position it has applied) and `delay` (seconds from the session to it, one way).
#
# It returns a node's name, or `(name, position)` to have that node answer only once it has applied
# `position`. The **judge** then runs your rule in 1,000 seeded disasters: three or four nodes at random
# distances, two sessions writing and reading two keys, followers cut off from the leader, crashed and
# slowed down. It counts the schedules with a read-your-writes, monotonic-reads or consistent-prefix
# violation (stale reads of other sessions' writes are allowed: any replica can be behind), and the mean
# read latency you paid. The first failure is replayed, shrunk to its fewest faults.
#
# The rule below is the one many apps start with: read from the nearest node.

# %%
from replsim.judge import judge


def my_read_policy(session, nodes):
    nearest = min(nodes, key=lambda n: n.delay)
    return nearest.name


# %%
read_verdict = judge(my_read_policy, "read")

# %% [markdown]
# Each numbered line is a moment of the shrunk schedule; the last says what the checkers found. The
# timeline shows that run's messages: the sessions' requests and the answers, and the leader's appends.

# %% tags=["nbval-ignore-output"]
ClusterView(read_verdict.replay, mode="timeline", window=read_verdict.window, kinds=read_verdict.kinds)

# %% [markdown]
# **Task.** Change `my_read_policy` so that the judge finds no violation, and keep reads cheap: a read
# from the leader every time passes too, but it pays the leader's distance on every read. Run both cells
# again after each change. Hint: section 4's *wait for position*.
#
# <details>
# <summary><b>Solution</b></summary>
#
# Read from the nearest node that is up, and have it wait until it holds everything the session has
# seen. Its writes are then visible to it (read-your-writes), it never goes back in time (monotonic reads),
# and it sees every write before the ones it has seen (consistent prefix). The cell below judges it.
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
# A rule that passes
def read_nearest_after_seen(session, nodes):
    up = [n for n in nodes if n.up]
    nearest = min(up, key=lambda n: n.delay)
    return nearest.name, session.last_seen


solved_reads = judge(read_nearest_after_seen, "read")


# %% [markdown]
# ## Going deeper (optional): linearizable, or not
#
# This section is for a second sitting, or for the curious: the rest of the course does not depend on it.
#
# The strongest promise a replicated register can make is **linearizability**: every operation seems to
# take effect at one instant between the moment it was sent and the moment its answer arrived, and reads
# return the value written last before their instant. The system behaves like one copy. A checker tries
# every way of choosing those instants (with shortcuts that make a few hundred operations a matter of
# milliseconds). An operation can also have an **unknown outcome**: the client sent it and never heard
# back (a timeout, a crash), so it cannot tell whether it took effect. Histories record that outcome as
# `info` (Jepsen's word for it; lesson 5 shows how it happens). Such an operation may have taken effect at
# any instant after it was sent, or never.
#
# The checker reads a plain format, one JSON object per line, so histories from elsewhere can be checked
# too once written that way (your own logs, say; a Jepsen history, which Jepsen stores as EDN invoke and
# complete events, would need converting first):

# %%
history = parse_jsonl(
    """
{"process": "alice", "f": "write", "value": 1, "invoke": 0.0, "complete": 0.1, "outcome": "ok"}
{"process": "bob", "f": "cas", "value": [1, 2], "invoke": 0.2, "complete": null, "outcome": "info"}
{"process": "carol", "f": "read", "value": 2, "invoke": 0.5, "complete": 0.6, "outcome": "ok"}
{"process": "carol", "f": "read", "value": 1, "invoke": 0.7, "complete": 0.8, "outcome": "ok"}
"""
)
print(check(history))

# %% [markdown]
# Bob's compare-and-set (1 becomes 2) never got an answer, but Carol read 2, so it did take effect; her
# second read then went back to 1, which no single copy could do. Remove her last line and the history is
# linearizable.
#
# Now five clients, 300 operations on one key, against a leader with two asynchronous followers. First
# every read goes to the leader, then the same workload reads from the followers:


# %%
def five_clients(read_from):
    cl = Cluster(leader="L", followers=["F1", "F2"], delay=0.02, jitter=0.01, seed=3)
    sessions = [cl.client(f"c{i}", near=n) for i, n in enumerate(["L", "F1", "F2", "L", "F1"])]
    one_key(cl, sessions, ["L"] if read_from == "leader" else ["F1", "F2"], count=300)
    return cl


for read_from in ["leader", "followers"]:
    report = check(five_clients(read_from).history.ops)
    print(f"reads from the {read_from}: {report}\n")

# %% [markdown]
# Reads from the leader are linearizable: one node holds the register, and it answers every read with
# what it holds at that instant. (That stays true only while it really is the leader: lesson 6 shows an
# old leader answering after it was replaced.) Reads from asynchronous followers are not, even with no
# fault at all: the checker names the read that could not fit. Writing a history out in the same format
# is one call:

# %%
print(to_jsonl(from_history(five_clients("followers").history.ops)[:3]))

# %% [markdown]
# ## Key points
#
# - **Replication lag** has two faces: entries missing (how much) and seconds behind (how old). Slow links,
#   bursts of writes and followers busy applying all make it grow, and a busy follower keeps falling behind
#   in time after the burst ends.
# - Reading from a **nearby replica** turns an ocean-crossing read into a local one, and buys staleness at
#   least as long as the one-way delay from the leader to that replica.
# - Readers of replicas meet four anomalies: **stale reads**, **read-your-writes**, **monotonic-reads** and
#   **consistent-prefix** violations. All can be found, with the operations that show them, in the clients'
#   own histories.
# - (Going deeper) Reads from one leader (with no failover) are **linearizable**; reads from asynchronous
#   followers are not, even without any fault. A checker can tell, and point at the read that cannot fit.
# - A replicated database whose copies agree once writes stop is **eventually consistent**; the anomalies
#   above are what its readers meet before "eventually".
# - Each remedy buys one guarantee at one price: **leader after own write** (load on the leader), **sticky
#   replica** (monotonic reads, consistent prefix), **wait for position** (read-your-writes, and with reads
#   too every session guarantee; it costs waiting). Only the leader protects you from others' writes you have
#   not yet seen.
#
# **Next:** [Lesson 5, *When the anchor falls*](05_anchor_falls.ipynb): the leader itself fails, and a
# follower that is behind takes its place. Which acknowledged writes does it never have? Back to the
# [map of the course](00_start_here.ipynb).
