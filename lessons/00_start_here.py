# %% [markdown]
# # Start here: leader-follower replication, by doing it
#
# Almost every production database keeps copies of its data on several machines, and almost all of
# them do it the same way: **one node takes the writes, the others copy it.** This course lets you run
# that arrangement on your own screen, break it, and watch what happens: you write data, crash machines,
# cut the network, promote a follower, and read the damage off plots and checkers.
#
# **By the end of this notebook you can**
# - open and run a lesson, and use its control panel;
# - find your way around the lessons;
# - call the simulator, `replsim`, from a cell of your own.

# %% [markdown]
# ## How a lesson works
#
# Each lesson opens with what you will be able to do, tells a short story (a news anchor, a head chef),
# maps the story to databases, and then lets you make it happen. Along the way:
#
# - **Run cells in order** with **Shift+Enter**, or *Run → Run All Cells*. Nothing depends on cells you
#   skipped further down.
# - **Think first.** Some questions ask for a prediction before you run the cell that answers it. The answer
#   is folded away like this:
#
# <details>
# <summary><b>Answer</b> (click to open)</summary>
#
# Open it only after you have made your guess: a prediction you wrote down teaches more than one you read.
# </details>
#
# - **Control panels** drive a live simulation: buttons for *Write*, *Crash*, *Recover*, *Advance* time (and
#   later *Partition*, *Heal*, *Promote*). Each click updates the picture and the plot in place; there is no
#   need to re-run the cell. A refused action (say, a write sent to a follower) shows its reason in red under
#   the buttons.
# - **Same numbers for everyone.** Every simulation is seeded: given the same seed it produces the same
#   history on every machine, so the numbers in the text are the numbers you will see.

# %% [markdown]
# ## Try a panel
#
# Below: a leader and two followers, 50 ms apart. Click **Write**, then **Advance** a little, and watch the
# followers' positions in the log (their LSN, "log sequence number") catch up with the leader's. Then
# **Crash** a follower, write again, and see its lag appear on its edge.

# %%
from replsim import Cluster
from replsim.plots import cluster_picture
from replsim.widgets import ControlPanel
import matplotlib.pyplot as plt

# %% tags=["nbval-ignore-output"]
demo = ControlPanel(Cluster(leader="leader", followers=["follower-1", "follower-2"], delay=0.050, seed=0))
demo

# %%
assert demo.cluster.now == 0 and demo.last_error is None  # the panel starts at t = 0, with no error

# %% [markdown]
# The picture the panel draws can also be drawn on its own. Shapes and hatching tell the roles apart even
# in black and white: the leader is a square, followers are circles, a crashed node is grey and hatched.

# %%
c = Cluster(leader="leader", followers=["follower-1", "follower-2"], delay=0.050, seed=0)
c.write("greeting", "hello")
c.crash("follower-2")
c.advance(1.0)
fig = cluster_picture(c)
plt.show()
print(c.table())

# %% [markdown]
# ## The lessons
#
# | # | Lesson | You will see | Status |
# |---|---|---|---|
# | 0 | Start here | how the course works | this notebook |
# | 1 | [The news anchor](01_news_anchor.ipynb) | one leader takes all writes; followers copy the stream, mistakes included; a follower going dark vs the leader going dark | ready |
# | 2 | The head chef | the replication log and positions; catching up; a new follower from a snapshot; spreading reads | coming |
# | 3 | Replication methods | statement, row and WAL shipping on real SQL, and why shipping statements diverges | coming |
# | 4 | Lag and reads | stale reads; read-your-writes, monotonic and consistent-prefix anomalies found in your history; replicas far away | coming |
# | 5 | When the anchor falls | failover: which acknowledged writes a promoted follower never had | coming |
# | 6 | Split brain | two leaders after a partition; terms, fencing and quorum as the cure, and their limits | coming |
# | 7 | Sync vs async | write latency against writes lost at failover | coming |
# | 8 | [Lab: real PostgreSQL](08_real_postgresql.ipynb) | a real primary and standbys on your machine: lag, a refused write, promotion, a new timeline, split brain and `pg_rewind` | ready |
# | 9 | Recap and quiz | predict, then run | coming |
#
# Lessons build on each other; take them in order if you are new to replication.

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
# ## Recap
#
# - Run cells top to bottom; use the panels; predict before you peek.
# - The numbers are seeded and the same for everyone.
# - `replsim.Cluster` is the whole simulator behind a small API: `write`, `read`, `crash`, `recover`,
#   `partition`, `heal`, `promote`, `advance`.
#
# **Start with [Lesson 1 — The news anchor](01_news_anchor.ipynb).**
