# %% [markdown]
# # Start here: leader-follower replication, by doing it
#
# **Time:** about 30 minutes.
#
# **Questions this notebook answers**
# - What is leader-follower replication, and which other ways of keeping copies exist?
# - How does a lesson of this course work: its panels, its "think first" questions, its checks?
# - What do the columns of the course's status tables (`lsn`, `behind`, `epoch`) mean?
# - How do I run the simulator, `replsim`, from a cell of my own?
#
# **By the end of this notebook you can**
# - open and run a lesson, use its control panel, and check a prediction against the simulation;
# - read a status table and the cluster picture;
# - find your way around the lessons;
# - call `replsim` from a cell of your own.

# %% [markdown]
# ## What this course is about
#
# Most databases that matter keep copies of their data on several machines (*replicas*), for three
# reasons: if one machine dies another can take over (**availability**); reads can be spread over the
# copies (**read scaling**); and a copy near its users answers them faster (**geography**). There are
# three ways to decide who may accept a write:
#
# | Family | Who accepts writes | Examples |
# |---|---|---|
# | **single-leader** (leader-follower) | one node, the leader; the others copy its changes in order | PostgreSQL, MySQL, MongoDB replica sets, Redis |
# | **multi-leader** | several nodes, each sending its changes to the others | set-ups spanning data centres, apps that sync after working offline |
# | **leaderless** | any replica; the client or a coordinator writes to several at once | Cassandra |
#
# This course is about the first family: **one node takes the writes, the others copy it.** You run that
# arrangement on your own screen, break it, and watch what happens: you write data, crash machines, cut
# the network, promote a follower, and read the damage off plots and checkers.
#
# Do not assume a copy exists because the database runs in the cloud: check what yours does. Some managed
# services add a standby or read replicas only when you turn them on (Amazon RDS for PostgreSQL or MySQL,
# Google Cloud SQL); others always keep several copies of the storage (Amazon Aurora keeps its data in
# three availability zones even with a single database instance).
#
# > **Quick check.** A PostgreSQL primary streams its changes to two standbys, which serve reads but
# > refuse writes. Which family is that?
# >
# > - **a)** single-leader
# > - **b)** multi-leader
# > - **c)** leaderless

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
from replsim.lesson import check_choice

check_choice(
    my_choice,
    "a",
    {
        "a": "One node (the primary) accepts every write and the standbys copy its changes in order: that is "
        "leader-follower replication, this course's subject.",
        "b": "Multi-leader means several nodes accept writes and exchange them. The standbys here refuse "
        "writes, so there is only one leader.",
        "c": "Leaderless means a client writes to several replicas itself, with no node in charge of the "
        "order. Here the primary decides the order alone.",
    },
)

# %% [markdown]
# ## How a lesson works
#
# Each lesson opens with the questions it answers, what you will be able to do and about how long it
# takes. It tells a short story (a news anchor, a head chef), maps the story to databases, then lets you
# make it happen. It ends with its **key points**. Along the way:
#
# - **Run cells in order** with **Shift+Enter**, or *Run → Run All Cells*. Nothing depends on cells you
#   skipped further down.
# - **Think first.** Some questions ask for a prediction before you run the cell that answers it. You
#   type your guess into a cell (`my_prediction = ...`), and the next cells compare it with the
#   simulation. The explanation is folded away like this:
#
# <details>
# <summary><b>Answer</b> (click to open)</summary>
#
# Open it only after you have made your guess: a prediction you wrote down teaches more than one you read.
# </details>
#
#   The cells that answer a question open with their output folded away (and the check's own text
#   folded too), so nothing gives the answer before you have guessed; running them shows it.
# - **Quick checks.** A question with choices **a**, **b**, **c** takes a letter in a cell
#   (`my_choice = "b"`); the next cell says whether it is right, and explains the choice you made, so a
#   wrong answer teaches something as well. Try again until it says *Right*.
# - **Control panels** drive a live simulation: buttons for *Write*, *Crash*, *Recover*, *Advance* time (and
#   later *Partition*, *Heal*, *Promote*). Each click updates the picture and the plot in place; there is no
#   need to re-run the cell. A refused action (say, a write sent to a follower) shows its reason in red under
#   the buttons. Each **Your turn** panel comes with a task; its solution is folded away too.
# - **Same numbers for everyone.** Every simulation is seeded: given the same seed it produces the same
#   history on every machine, so the numbers in the text are the numbers you will see.

# %% [markdown]
# ## Reading a cluster
#
# A leader and two followers, with 50 ms of network between the leader and each follower. A client
# writes one value, and at that very moment `follower-2` crashes, before the copy can reach it. One
# second later, the picture and the table show where everyone stands:

# %%
from replsim import Cluster
from replsim.ui.plots import LINE_COLOURS, cluster_picture
from replsim.ui import ControlPanel
from replsim.lesson import check_prediction
import matplotlib.pyplot as plt

# %%
c = Cluster(leader="leader", followers=["follower-1", "follower-2"], delay=0.050, seed=0)
c.write("greeting", "hello")
c.crash("follower-2")
c.advance(1.0)
fig = cluster_picture(c)
plt.show()
print(c.table())

# %% [markdown]
# Shapes and hatching tell the roles apart even in black and white: the leader is a square, followers
# are circles, a crashed node is grey and hatched. The table's columns:
#
# - **role**: *leader* (takes the writes) or *follower* (copies them); **state**: *up*, or *DOWN* after a crash.
# - **lsn**, the *log sequence number*: the node's position in the leader's log of changes. Every write
#   the leader accepts becomes the next entry of that log; a node with lsn 1 holds the first entry.
# - **behind**: how many log entries the node lacks compared with the leader (the leader's lsn minus its
#   own). Here `follower-2` crashed before the write reached it: it is 1 behind.
# - **epoch**: which leadership the node follows. It starts at 1 and goes up by one each time a follower is
#   promoted to leader (lesson 5). The nearest things in real systems are PostgreSQL's *timeline* and
#   Raft's *term* (a Raft term also goes up when an election fails, lesson 6).
#
# When `follower-2` restarts, it tells the leader its lsn and asks for the entries after it: it catches up
# **if those entries can still be found**. A real leader does not keep its log forever; PostgreSQL's log is
# its **WAL** (*write-ahead log*: every change is written there before the data files), and lesson 2 shows
# what happens to a follower whose missing part has been thrown away. In the simulation the leader keeps
# its whole log unless a lesson says otherwise, so a returning follower can catch up.

# %% [markdown]
# ## Think first: how often is a follower out of date?
#
# Same cluster, fresh start. A client now writes to the leader every 100 ms, and each write needs 50 ms to
# reach a follower. Someone reads from `follower-1` at a random moment.
#
# > **Think first.** What share of the time (in %) does `follower-1` lack the newest write the leader
# > has? Write your guess below before you run the cells after it.

# %%
my_prediction = None  # replace None with your guess (a whole number of %), then run this cell and the next ones

# %% jupyter={"outputs_hidden": true}
print("Looking at follower-1 every 2 ms for 2 s:")
c = Cluster(leader="leader", followers=["follower-1", "follower-2"], delay=0.050, seed=0)
c.start_writes(rate=10)  # one write every 100 ms, from t = 0
times, at_leader, at_follower = [], [], []
for _ in range(1000):  # look every 2 ms, for 2 s
    c.advance(0.002)
    lsn = {row["node"]: row["lsn"] for row in c.status()}
    times.append(c.now)
    at_leader.append(lsn["leader"])
    at_follower.append(lsn["follower-1"])
missing = sum(lead > mine for lead, mine in zip(at_leader, at_follower))
stale_share = round(100 * missing / len(times))
print(f"follower-1 lacked the newest write at {missing} of {len(times)} moments: {stale_share}%")

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    stale_share,
    "{}% of the time",
    unit="%",
    tolerance=2,
    explain="Compare how long a write spends on the wire (50 ms) with how often a new one leaves (every 100 ms).",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **50%.** Each write spends 50 ms on the wire, and a new one leaves every 100 ms: for the first half of
# every 100 ms the follower lacks the newest write, for the second half it has it. Nothing failed here:
# copying takes time, so a follower is *always* a little behind a busy leader. That gap is the
# **replication lag**, and lesson 4 is about reading from followers despite it. With a write every 40 ms
# instead, the follower would never be fully up to date.
# </details>
#
# The plot shows the first second: each step up is a new entry in a node's log. The follower's staircase
# is the leader's, 50 ms later; the hatched area is where it lacks the newest write.

# %%
fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
ax.step(times, at_leader, where="post", color=LINE_COLOURS[4], lw=2, label="leader")
ax.step(times, at_follower, where="post", color=LINE_COLOURS[1], lw=2, ls="--", label="follower-1")
gap = {"facecolor": "#EEEEEE", "edgecolor": "#888888", "hatch": "//", "linewidth": 0}
ax.fill_between(times, at_follower, at_leader, step="post", label="follower-1 lacks a write", **gap)
ax.set(xlim=(0, 1), ylim=(0, 12), xlabel="virtual time (s)", ylabel="lsn (entries in the node's log)")
ax.set_title("A write every 100 ms, 50 ms to copy it", loc="left", fontsize=11)
ax.legend(loc="upper left", fontsize=8)
plt.show()

# %% [markdown]
# ## Your turn: drive a panel
#
# The panel below runs the same three nodes. Click **Write**, then **Advance**, and watch the followers'
# lsn catch up with the leader's in the status line and on the picture.
#
# Below the buttons, **look back** is a slider over the experiment so far: drag it to an earlier time and
# the status and the pictures show that moment, rebuilt from the record of what happened (nothing is run
# again). Any action, or **Now**, brings you back to the present.
#
# **Task.** Make `follower-2` fall exactly **3** entries behind, then bring it back to 0 behind. Which
# buttons, in which order? What does the message line say when it comes back? Then use **look back** to
# find the moment when it was 3 behind.

# %% tags=["nbval-ignore-output"]
demo = ControlPanel(Cluster(leader="leader", followers=["follower-1", "follower-2"], delay=0.050, seed=0))
demo

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# Pick `follower-2` in the node list and click **Crash**; click **Write** three times (each write is one
# new log entry); **Advance**: the edge to `follower-2` shows 3 behind while `follower-1` is at 0. Then
# **Recover**: the message says it restarted 3 entries behind and asks its leader for them. **Advance**
# again: one round trip (100 ms) later it is 0 behind. Drag **look back** to a time between the first
# Advance and the Recover: the picture shows `follower-2` down and 3 behind again.
# </details>

# %% [markdown]
# ## The lessons
#
# Ten notebooks, from about 30 to 80 minutes each: about 8 hours in all (estimated as the instructors'
# guide describes: reading at 150 words a minute, plus time for every cell, plot, prediction, check and
# task).
# Click a lesson to open it.
#
# | # | Lesson | Minutes | You will see |
# |---|---|---|---|
# | 0 | Start here | 30 | how the course works (this notebook) |
# | 1 | [The news anchor](01_news_anchor.ipynb) | 35 | one leader takes all writes; followers copy the stream, mistakes included; a follower going dark vs the leader going dark |
# | 2 | [The head chef](02_head_chef.ipynb) | 45 | the replication log and positions; catching up, and rebuilding a follower the log no longer covers; a new follower from a snapshot; spreading reads |
# | 3 | [Replication methods](03_replication_methods.ipynb) | 45 | statement, row and WAL shipping on real SQL, and why shipping statements diverges |
# | 4 | [Lag and reads](04_lag_and_reads.ipynb) | 50 | lag in entries and seconds; replicas in Tokyo, London and New York; stale reads, read-your-writes, monotonic and consistent-prefix anomalies found in your history; linearizability; read policies that remedy them; a read policy of your own, judged |
# | 5 | [When the anchor falls](05_anchor_falls.ipynb) | 55 | failover by hand: which acknowledged writes a promoted follower never had, counted exactly; unknown outcomes and safe retries; what the old leader throws away; a promotion rule of your own, judged |
# | 6 | [Split brain](06_split_brain.ipynb) | 80 | two leaders after a partition; epochs and fencing, majority commit, elections by majority vote, and their limits; a thousand random disasters per design; a vote rule of your own, judged |
# | 7 | [Sync vs async](07_sync_vs_async.ipynb) | 45 | async, semi-sync, `FIRST k` and `ANY k` commit, and what "confirmed" means; write latency against writes lost over 100 failovers; a dead synchronous standby stalls writes |
# | 8 | [Lab: real PostgreSQL](08_real_postgresql.ipynb) | 55 | a real primary and standbys on your machine: lag, a refused write, promotion, a new timeline, split brain and `pg_rewind` |
# | 9 | [Recap and quiz](09_recap_quiz.ipynb) | 55 | five predict-then-run questions on fresh scenarios, checked; a scenario of your own |
#
# Lessons build on each other; take them in order if you are new to replication. Lesson 8 needs a
# PostgreSQL on your machine (its first cell says how to get one); everything else runs anywhere.

# %% [markdown]
# ## Running the course
#
# - **In the browser, nothing to install:** the *launch binder* link in the project's README opens this
#   notebook in JupyterLab on mybinder.org. It takes a minute or two to start.
# - **On your machine:** from the project folder, `make course` sets everything up in a local `.venv` and
#   opens JupyterLab here. `make test` runs the whole test suite.
#
# ## Using `replsim` yourself
#
# The lessons are thin: the simulation lives in the `replsim` package, and you can call it from any cell to
# try a what-if. Everything happens at a virtual time, `c.now`, that moves only when you ask:

# %%
# primary and replica are the names PostgreSQL and MySQL use for the leader and its followers
c = Cluster(leader="primary", followers=["replica-1", "replica-2"], delay=0.010, seed=7)
c.write("balance", 100)          # goes to the leader
print("replica-1 right away:", c.read("balance", node="replica-1"))
c.advance(0.010)                  # let 10 ms of virtual time pass
print("replica-1 after 10 ms:", c.read("balance", node="replica-1"))
print(c.table())

# %% [markdown]
# Mistakes get a message that says what went wrong and what would work:

# %%
from replsim import ReplsimError

for attempt in (lambda: c.crash("replica-9"), lambda: c.write("balance", 0, node="replica-1")):
    try:
        attempt()
    except ReplsimError as err:
        print(f"{type(err).__name__}: {err}")

# %% [markdown]
# ## Key points
#
# - Databases keep copies in three families: single-leader, multi-leader and leaderless. This course is
#   about **single-leader**: one node takes the writes, the followers copy its log of changes in order.
# - Copying takes time, so a follower is usually a little **behind** its leader, even when nothing fails.
# - A status table gives each node's **lsn** (position in the log), how far it is **behind** the leader,
#   and its **epoch** (which leadership it follows).
# - A returning follower catches up only from what the leader still keeps of its log.
# - Run cells top to bottom; use the panels; predict before you peek. The numbers are seeded and the same
#   for everyone, and `replsim.Cluster` puts the whole simulator behind a small API (`write`, `read`,
#   `crash`, `recover`, `partition`, `heal`, `promote`, `advance`).
#
# **Next:** [Lesson 1 — The news anchor](01_news_anchor.ipynb).
