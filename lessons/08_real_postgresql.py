# %% [markdown]
# # Lesson 8 — Lab: a real PostgreSQL primary and its standbys
#
# **Time:** about 55 minutes (the three servers start in a few seconds; Run All takes about half a minute,
# most of it real servers starting, waiting and being repaired).
#
# **Questions this lab answers**
# - Does a real database behave like the simulation: lag, a refused write, a failover that loses writes?
# - How far behind is each standby, and which one should you promote when the primary dies?
# - What happens when the old primary comes back unfenced, and how does `pg_rewind` repair it?
#
# **By the end of this lab you can**
# - start a real PostgreSQL primary with two streaming standbys, and read a standby's copy of the data;
# - pause a standby's replay and watch its lag grow, then fall when replay resumes;
# - read `pg_stat_replication` (sent, write, flush and replay positions; write, flush and replay lag) and
#   plot how far the standbys fall behind during a burst of writes;
# - show that a standby refuses writes, with PostgreSQL's own error and SQLSTATE;
# - choose the standby to promote from what each has received, fail over by hand with `pg_promote()`,
#   count exactly which acknowledged rows were lost, and see the new timeline;
# - produce a real split brain, see it spread to a standby, and repair it with `pg_rewind`, knowing how it
#   works and what it throws away;
# - put the real results next to the simulation's.
#
# Run the cells from top to bottom (**Shift+Enter**). The lab starts three real database servers on your
# machine. They keep running after the last cell, so you can go on using the panel; stop them with the
# panel's **Stop lab** button (closing the notebook's kernel stops them too).
#
# **PostgreSQL on your machine.** The lab uses, in this order: the folder named by the environment
# variable `REPLSIM_PG_BIN`; the PostgreSQL inside the `pgserver` Python package (installed with the
# course on Linux x86-64 and macOS); a PostgreSQL installed on your machine and found on the PATH
# (`pg_config --bindir`). If none is there, the first code cell below says how to get one for your system
# (Debian's or Ubuntu's `postgresql` packages, Homebrew, conda-forge), and the lab's cells print
# *Skipped* instead of failing.

# %% [markdown]
# ## What this lab assumes
#
# The lab replays on real servers what lessons 5 ([When the anchor falls](05_anchor_falls.ipynb)) and 6
# ([Split brain](06_split_brain.ipynb)) show in the simulation. If you have not taken them yet, this is
# what you need from them:
#
# - **Failover** (lesson 5). When the leader dies, someone (an operator or a tool) promotes a follower to
#   be the new leader. With asynchronous replication the old leader told clients "committed" before the
#   followers had the write, so whatever the promoted follower never received is lost, although it was
#   acknowledged. If the old leader comes back, it holds writes nobody else has, and they must be thrown
#   away before it can follow the new leader.
# - **Epochs, split brain and fencing** (lesson 6). Each promotion starts a new *epoch* (a *term*). A
#   deposed leader that does not know it was replaced may go on accepting writes: two leaders, two
#   diverging histories, a **split brain**. **Fencing** stops the old leader (cut its power or its
#   network, or have everyone refuse it) before or as the new one takes over.
#
# From lesson 1: leader and followers, the replication stream, a node's position in the log (lsn) and how
# far it is behind.

# %% [markdown]
# ## Why a real database?
#
# The earlier lessons ran a model: a news anchor (the leader) whose programme is relayed by TV channels
# (the followers). A model is small and repeatable, but you only have our word that it behaves like the
# systems it imitates. So here the studio is real. PostgreSQL's **primary** plays the anchor, two **hot
# standbys** play the channels, and the live signal is PostgreSQL's **write-ahead log (WAL)**, streamed
# over a network connection.
#
# | In the studio | In PostgreSQL | Where you meet it |
# |---|---|---|
# | the anchor | the **primary**: the only server that accepts writes | `pg.write("primary", ...)` |
# | a channel | a **hot standby**: replays the primary's WAL, serves reads | `pg.read("standby-1")` |
# | the live signal | **streaming replication** of the WAL (async by default) | `pg_stat_replication` |
# | a position in the log | an **LSN** (log sequence number): a byte offset in the WAL | `replay_lsn` |
# | "who is the anchor now" (epoch) | the **timeline** id, raised by each promotion | `timeline_id` |
#
# **Safety.** Each server lives in a temporary folder and listens on `127.0.0.1` only (nobody else on your
# network can reach it). Even on your own machine, only this lab gets in: each lab makes a random password
# that never appears on screen, and the servers refuse any connection without it (scram-sha-256 in
# `pg_hba.conf`, no `trust`). If Python runs as root, the servers run as an unprivileged user
# (`replsim-pg`), because PostgreSQL refuses to run as root. The mechanics live in `replsim/lab/`; the
# cells below only call it.

# %% [markdown]
# ## 1. Start a primary and two streaming standbys
#
# `PgCluster().start()` runs `initdb` for the primary, starts it, then makes each standby with
# `pg_basebackup -R` (a copy of the primary's files plus the settings to follow it) and a **replication
# slot** (so the primary keeps the WAL a standby still needs: a promise not to recycle it until that
# standby has it). On a laptop this takes a few seconds; the cell prints each step as it begins. If
# PostgreSQL cannot run on your machine, the cell says why and how to get it.

# %%
import matplotlib.pyplot as plt

import replsim
from replsim.errors import ReadOnlyError
from replsim.lesson import check_choice, check_prediction
from replsim.ui.plots import standby_lag_plot
from replsim.lab.notebook import open_lab
from replsim.lab.postgres import sample_lag
from replsim.ui import PgPanel

STANDBYS = ["standby-1", "standby-2"]
pg = open_lab(standbys=2)

# %%
print(pg)
for name in pg.servers:
    print(f"{name:10} listens on: {pg.sql(name, 'SHOW listen_addresses')[0][0]}")

# %% [markdown]
# The primary lists the standbys streaming from it in the view `pg_stat_replication`. Its column
# `sync_state` says whether the primary waits for that standby before it tells a client "committed". (MySQL and Redis acknowledge before their
# replicas have a write too. MongoDB, since version 5.0, by default waits until a majority of its replica
# set has it: write concern `majority`, with exceptions for some set-ups with arbiters.)
#
# > **Quick check.** Nobody configured anything about waiting. What does `sync_state` say for each standby?
# >
# > - **a)** *sync*: PostgreSQL waits for its standbys by default
# > - **b)** *async*: the primary waits for no standby
# > - **c)** *sync* for `standby-1`, *async* for the other

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "Waiting is opt-in: only standbys named in `synchronous_standby_names` are waited for, and it is"
        " empty by default.",
        "b": "PostgreSQL's default: the primary says 'committed' once the commit is on its own disk. That is"
        " the root of everything that goes wrong below.",
        "c": "With nothing in `synchronous_standby_names` no standby is synchronous, whatever its order.",
    },
)

# %% jupyter={"outputs_hidden": true}
print("pg_stat_replication on the primary:")
for row in pg.replication_status("primary"):
    print(f"{row.standby}: state={row.state}, sync_state={row.sync_state}")

# %% [markdown]
# ## 2. Write on the primary, read on a standby
#
# We write 100 rows (keys 1 to 100) into a table `kv` on the primary, one committed transaction each.
# Because replication is asynchronous, a read on a standby *right after* could still miss the last few
# rows, so we first wait until each standby has replayed the WAL up to the primary's current position.

# %%
acked = pg.write("primary", range(1, 101))
print("rows acknowledged by the primary:", len(acked))
for name in STANDBYS:
    pg.wait_caught_up(name)
    print(f"rows on {name}: {len(pg.read(name))}")

# %% [markdown]
# ### Watching the lag
#
# Each row of `pg_stat_replication` follows one standby through four positions in the WAL:
# - `sent_lsn`: how far the primary has **sent**;
# - `write_lsn`: how far the standby has **written** to its disk (not yet forced to stable storage);
# - `flush_lsn`: how far it has **flushed** (durable on the standby);
# - `replay_lsn`: how far it has **replayed** (visible to queries on the standby).
#
# and three times: `write_lag`, `flush_lag` and `replay_lag`, how long recent WAL took to reach each stage.
#
# Below, a thread writes a burst (40 transactions of 2,000 rows) on the primary while we sample the view
# every few tens of milliseconds. On one machine a standby keeps up within milliseconds, so for the first
# second we also pause `standby-2`'s *replay* (`pg_wal_replay_pause()`; it goes on receiving and storing
# the WAL), as a slow disk or a long query on a standby would. Your numbers differ from run to run and
# machine to machine: that is real life, so we plot them rather than print them.

# %%
samples = sample_lag(pg, transactions=40, rows=2000, pause=("standby-2", 1.0))
fig = standby_lag_plot(samples, pause=("standby-2", 1.0))
plt.show()

# %% [markdown]
# `standby-1` never falls far behind: a megabyte or so at most, gone within milliseconds. `standby-2`
# falls further behind with every transaction while its replay is paused, then catches up once it
# resumes, replaying what it had stored faster than the primary wrote it. Across a continent, add the
# network's round trip; with a slow standby disk, more. `replay_lag` (right) is a time, not a size: how
# long ago the primary wrote what the standby has just replayed.
#
# ### Pausing replay by hand
#
# The burst paused `standby-2` for you. Here it is step by step: `pg_wal_replay_pause()` stops a standby
# from *applying* what it receives (it keeps receiving and storing the WAL), and `pg_wal_replay_resume()`
# lets it go on. While `standby-2` is paused, we write 50 rows on the primary and count the rows each
# server shows:

# %%
last = {s.row.standby: s.row for s in samples}
for name, row in sorted(last.items()):
    print(f"{name} after the burst: caught up = {row.lag_bytes == 0}, sync_state = {row.sync_state}")

pg.pause_replay("standby-2")
pg.write("primary", range(1001, 1051))
pg.wait_caught_up("standby-1")
print(f"rows: primary {len(pg.read('primary'))}, standby-1 {len(pg.read('standby-1'))}, "
      f"standby-2 {len(pg.read('standby-2'))} (replay paused: {pg.replay_paused('standby-2')})")
pg.resume_replay("standby-2")
pg.wait_caught_up("standby-2")
print(f"after pg_wal_replay_resume(): standby-2 {len(pg.read('standby-2'))} rows")
deleted = pg.sql("primary", "DELETE FROM kv WHERE k > 1000")  # back to the 100 rows of the story

# %% [markdown]
# ## 3. A standby refuses writes
#
# A channel cannot go on air with its own news. A standby is in *recovery* (it is replaying someone
# else's WAL), and every transaction on it is read-only. The error names the command it refused: our
# writes are `INSERT ... ON CONFLICT` statements, so it says INSERT (an `UPDATE` would say UPDATE).

# %%
for name in pg.servers:
    print(f"{name:10} pg_is_in_recovery() = {pg.in_recovery(name)}")
try:
    pg.write("standby-1", [1], "written on a standby")
except ReadOnlyError as err:
    print(f"refused: {err} (SQLSTATE {err.sqlstate})")

# %% [markdown]
# ### Your turn
#
# This panel drives the same three servers. Pick **primary**, choose how many rows, and click
# **Write rows**: the primary acknowledges them (new keys from 10,000 up, far from the lesson's own). Click
# **Refresh** once or twice: the standbys' row counts catch up, and their replay lag (bytes of WAL the
# primary has that the standby has not replayed yet) falls back to 0. Then pick a standby and click
# **Write rows**: it refuses, with the same error and SQLSTATE as above. **Pause replay** and **Resume
# replay** act on the standby picked in *server*. (Stopping the servers, or starting a fresh set, is
# the last step of the lab, with its own panel.)
#
# Showing the panel writes nothing. Rows you add stay in the table `kv`, so the row counts printed below
# will be higher by that many; which acknowledged rows get lost does not change.
#
# **Task.**
# 1. On **primary**, write 1000 rows (the most the box takes; the message counts them as they go). Look at
#    the table the panel shows right after, then click **Refresh**. Did a standby ever show a replay lag
#    above 0 bytes, or fewer rows than the primary? For how long?
# 2. On **standby-2**, write 10 rows. What comes back, and did any row count change?
# 3. Pick **standby-1**, click **Pause replay**, then write 200 rows on **primary** and **Refresh** a few
#    times. What happens to `standby-1`'s rows and lag? Then **Resume replay** it and **Refresh**.

# %% tags=["nbval-ignore-output"]
panel = PgPanel(pg)
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# 1. Often the table already shows 0 bytes and the same row counts everywhere; sometimes a standby is a few
#    kB and a few rows behind, and the next **Refresh** shows it caught up. The lag is real but short: here
#    the WAL crosses no network and the standbys replay it in milliseconds. Across a continent, add the
#    round trip; with a slow standby disk or a burst of writes, more (the plot in section 2).
# 2. *Refused: cannot execute INSERT in a read-only transaction (SQLSTATE 25006)*, and no count changes:
#    the standby wrote nothing, and nothing reached the primary either. A client must send its writes to
#    the primary itself.
# 3. `standby-1`'s row count stays where it was and its replay lag grows by the WAL of each write (tens of
#    kB for 200 rows), while `standby-2` keeps up. A paused standby still *receives* the WAL (it would
#    survive a crash of the primary), but its readers see old data. After **Resume replay** it applies the
#    backlog within a **Refresh** or two and is back to 0. This is the lag of lesson 4, made visible.
# </details>

# %% [markdown]
# ## 4. A standby falls behind, then the primary dies
#
# Now the question of lesson 5, on a real database: *a follower is about 5 seconds behind when the leader
# dies; what is lost?*
#
# We cut `standby-1` off for real: on the standby we clear `primary_conninfo` with `ALTER SYSTEM` and
# reload its configuration (`pg_reload_conf()`), which stops its WAL receiver. The primary notices the
# connection is gone; `standby-2` keeps streaming.

# %%
pg.disconnect_standby("standby-1")
print("the primary streams to:", [row.standby for row in pg.replication_status("primary")])

# %% [markdown]
# The primary then acknowledges 25 writes, 0.2 s apart (keys 101 to 125, 4.8 s from the first to the
# last), while `standby-1` receives nothing. Then the primary crashes: `pg_ctl stop -m immediate` kills
# PostgreSQL's processes without a shutdown checkpoint. That is a crash of the database server, not a
# power cut: the operating system keeps running, and with it whatever PostgreSQL had handed to its disk
# cache. Finally we promote `standby-1` with `pg_promote()`.
#
# > **Think first.** Every one of those writes was acknowledged: the client was told "committed". After
# > the promotion, how many acknowledged rows will the new primary be missing? Write your guess below
# > before you run the cells after it.

# %%
my_prediction = None  # replace None with your guess (a whole number), then run this cell and the next ones

# %% jupyter={"outputs_hidden": true}
print("writing 25 rows, one every 0.2 s (about 5 s)...")
late = pg.write("primary", range(101, 126), every=0.2)
pg.wait_caught_up("standby-2")
rows_on = {name: len(pg.read(name)) for name in pg.servers}
print(rows_on)
timeline_before = pg.timeline("primary")

# %% [markdown]
# Before promoting, an operator would compare what each standby has **received**.
# `pg_last_wal_receive_lsn()` on a standby is the end of the WAL it has received and flushed to its disk.
# A standby replays all of that before its promotion completes, so it is what survives;
# `pg_last_wal_replay_lsn()` (what queries on it already see) can trail behind and make a standby look
# worse than it is. An LSN such as `0/400CFC8` is a byte position in the WAL, written as two hexadecimal
# halves:

# %% jupyter={"outputs_hidden": true}
def wal_bytes(lsn):
    """A PostgreSQL LSN such as '0/400CFC8' as a byte position: the high and low 32 bits, in hex."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


print("What each standby has received:")
received = {name: pg.sql(name, "SELECT pg_last_wal_receive_lsn()::text")[0][0] for name in STANDBYS}
most = max(STANDBYS, key=lambda name: wal_bytes(received[name]))
print("the standby that has received the most WAL:", most)

# %% [markdown]
# We promote `standby-1` anyway, the one that was cut off, to see what that costs:

# %% jupyter={"outputs_hidden": true}
print("Crashing the primary and promoting standby-1:")
pg.crash("primary")
pg.promote("standby-1")
survivors = pg.read("standby-1")
lost = [k for k in acked + late if k not in survivors]
timeline_after = pg.timeline("standby-1")
print(f"acknowledged writes: {len(acked + late)}; on the new primary: {len(survivors)}; lost: {len(lost)}")
print(f"lost keys: {lost[0]} to {lost[-1]}")
print(f"timeline: {timeline_before} -> {timeline_after}")

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    len(lost),
    "{} acknowledged rows are gone",
    source="PostgreSQL",
    explain="Count the writes the primary acknowledged while standby-1 received nothing.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **25 rows**: every write the primary acknowledged while `standby-1` was cut off (25 writes, one every
# 0.2 s). Asynchronous replication means "committed" only promised the row was safe on the *primary*.
# `standby-1` never received those 25 rows, and promoting it makes its history the official one, so for
# every client from now on they never happened. A standby about 5 seconds behind loses about 5 seconds of
# writes.
#
# Notice that `standby-2` holds all 125 rows: promoting it, the standby that had received the most WAL,
# would have lost nothing here. With a busier primary, even that standby misses the transactions still in
# flight at the crash. Synchronous replication closes the gap, at the price of waiting for a standby on
# every commit, but **only if you promote a standby that confirmed the commit**. With
# `synchronous_commit = on` the primary answers "committed" once a synchronous standby has flushed the
# commit to its disk. With `synchronous_standby_names = 'FIRST 1 (standby-1, standby-2)'` that is
# `standby-1` while it is connected (and `standby-2` when it is not); with `'ANY 1 (standby-1, standby-2)'`
# it is whichever answers first, commit by commit. Either way, promote a standby that holds the commit,
# the one that has received the most WAL, not just any standby.
# </details>
#
# **The new timeline.** A promoted standby starts a new *timeline*: from here on its WAL is a new branch
# of history (timeline 2), which forks from the old one (timeline 1) at the point where `standby-1` stopped.
# It plays the role of the epoch (or term) in the simulation. `pg.timeline()` reads it with
# `SELECT timeline_id FROM pg_control_checkpoint()` after forcing a `CHECKPOINT`.
#
# Note also what PostgreSQL did **not** do: it did not notice the dead primary and did not promote
# anyone. We did. Tools such as Patroni or pg_auto_failover watch the primary and promote a standby for you.

# %% [markdown]
# ## 5. The old primary comes back: split brain
#
# The old primary's disk is intact, and someone simply starts it again.
#
# > **Quick check.** What does it come back as?
# >
# > - **a)** a standby of `standby-1`, since `standby-1` was promoted
# > - **b)** a primary on timeline 1, accepting writes
# > - **c)** nothing: PostgreSQL refuses to start a deposed primary

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "Nothing told it about the promotion: its settings still say it is a primary, and it knows nothing"
        " of timeline 2.",
        "b": "It starts as what its data folder says it is. Nothing stops it: two servers now accept writes.",
        "c": "PostgreSQL has no such check: it does not know another server was promoted. Keeping it out is"
        " fencing, the operator's job.",
    },
)

# %% [markdown]
# It comes back as what its data folder says it is: a primary, on timeline 1. Nothing stops it. Two
# servers now accept writes, and a client on each side writes the same key:

# %%
pg.recover("primary")
for name in ["primary", "standby-1"]:
    print(f"{name:10} pg_is_in_recovery() = {pg.in_recovery(name)}")
pg.write("primary", [7], "set on the old primary")
pg.write("standby-1", [7], "set on the new primary")
for name in ["primary", "standby-1"]:
    print(f"key 7 on {name}: {pg.read(name)[7]!r}")

# %% [markdown]
# Both writes were acknowledged, and the two servers now disagree. The old primary is not alone, either:
# `standby-2`'s settings still name it as its primary, so when it came back `standby-2` reconnected to it
# and copied its WAL, split-brain write included:

# %%
pg.wait_caught_up("standby-2")
print(f"key 7 on standby-2: {pg.read('standby-2')[7]!r}")

# %% [markdown]
# Clients reading from `standby-2` now see the old primary's value, and if `standby-2` were promoted next,
# the old primary's branch would become the official history. One unfenced server has split the cluster
# in two camps. This is why a failover must **fence** the old primary before or as it promotes a new one
# (STONITH, "shoot the other node in the head": cut its power or its network, or make sure it cannot start
# as a primary), and repoint every standby to the new primary: PostgreSQL alone prevents none of this.
#
# ### The repair: `pg_rewind`
#
# To rejoin the cluster, the old primary must become a standby of the new one. It cannot simply follow:
# its WAL has a branch (keys 101 to 125, and its value of key 7) that the new primary never had. A fresh
# copy of the new primary (`pg_basebackup`) would do, but copies every file; `pg_rewind` copies only what
# the branch touched:
#
# 1. From the two servers' timeline histories it finds where they forked: the point where `standby-1` was
#    promoted.
# 2. It reads the old primary's **own** WAL, from the last checkpoint before the fork onwards, and lists
#    every data block the old primary changed there. Those are the blocks that may hold what only it had.
# 3. It copies those blocks from the new primary, and copies the other files (configuration, transaction
#    status, new tables) whole. Unchanged blocks are left alone, which is what makes it fast on a big
#    database.
# 4. When the server starts, it replays the new primary's WAL from that checkpoint on, which makes the
#    copied blocks consistent, and then streams from the new primary as a standby.
#
# What it needs (PostgreSQL 16): data checksums or `wal_log_hints = on` (this lab sets the latter) and
# `full_page_writes = on` (the default) on the old primary, and its WAL back to that checkpoint; a
# connection to the new primary as a superuser or, since PostgreSQL 11, as a role allowed to run the few
# file-reading functions it uses (the lab uses its superuser). The old primary must be shut down cleanly:
# we stop it first, but if it had crashed, `pg_rewind` would run its crash recovery itself before starting,
# unless given `--no-ensure-shutdown`. With `-R` it also writes the settings that make the server start as
# a standby; the lab writes them itself.
#
# > **Quick check.** The old primary holds keys 101 to 125 and its own value of key 7, none of which the
# > new primary has. What is left of them after `pg_rewind`?
# >
# > - **a)** all of it: `pg_rewind` merges the two branches
# > - **b)** nothing: the old primary's branch is replaced by the new primary's blocks
# > - **c)** the rows, but with the new primary's value of key 7

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "`pg_rewind` works on blocks, not rows: it knows nothing of what the rows mean, so it cannot"
        " merge. It copies the new primary's version of every block the old branch touched.",
        "b": "Every block the old primary changed after the fork is overwritten with the new primary's: its"
        " branch, acknowledged writes included, is gone, as the simulation's rejoin() discards them.",
        "c": "Keys 101 to 125 exist only on the old branch, so the new primary's blocks do not hold them:"
        " they go too, not only the value of key 7.",
    },
)

# %% jupyter={"outputs_hidden": true}
print("stopping the old primary, then pg_rewind from standby-1 and a restart as its standby...")
before = pg.read("primary")
pg.stop("primary")
pg.rewind("primary", source="standby-1")
after = pg.read("primary")
discarded = sorted(k for k, v in before.items() if after.get(k) != v)
print(f"pg_rewind threw away {len(discarded)} row versions only the old primary had: keys {discarded}")
print(f"key 7 on primary now: {after[7]!r}")
print(f"primary pg_is_in_recovery() = {pg.in_recovery('primary')}")

# %% [markdown]
# The server still called "primary" is now a standby (names are labels; roles move). To check it really
# follows the new primary, write a new row on `standby-1` and read it back on `primary`:

# %%
pg.write("standby-1", [500], "after the repair")
pg.wait_caught_up("primary")
print("key 500 on primary:", repr(pg.read("primary")[500]))
print("standby-1 streams to:", [row.standby for row in pg.replication_status("standby-1")])

# %% [markdown]
# `standby-2` has the same problem: it holds keys 101 to 125 of timeline 1 and, since the old primary came
# back, the old primary's key 7 too. The same repair brings it back, and the cluster is whole again, with
# `standby-1` as its primary:

# %%
print("stopping standby-2, then pg_rewind from standby-1 and a restart as its standby...")
pg.stop("standby-2")
pg.rewind("standby-2", source="standby-1")
print(pg)
for row in pg.replication_status("standby-1"):
    print(f"{row.standby}: state={row.state}, sync_state={row.sync_state}")

# %% [markdown]
# ## 6. The same story in the simulation
#
# The simulation from the other lessons can replay this lab: the same names, 100 writes, `standby-1` cut
# off, 25 writes 0.2 s apart, a crash, a promotion that does not repoint the old primary, its return and a
# write on each side, then `rejoin()`, the model's counterpart of `pg_rewind` plus a restart as standby.

# %%
sim = replsim.Cluster(leader="primary", followers=STANDBYS, delay=0.005, seed=1)
for key in range(1, 101):
    sim.write(key, "v")
sim.advance(1.0)
sim.cut("primary", "standby-1")
for key in range(101, 126):
    sim.write(key, "v")
    sim.advance(0.2)
sim_behind = sim.lag()["standby-1"]
sim.crash("primary")
sim.promote("standby-1", followers=[])
sim_lost = len(sim.lost_writes())
sim_epochs = f"1 -> {sim.nodes['standby-1'].epoch}"
sim.recover("primary")
sim.write(7, "set on the old primary", node="primary")
sim.write(7, "set on the new primary", node="standby-1")
sim_leaders = ", ".join(sim.leaders())
sim.heal()
sim.rejoin("primary")
sim.advance(1.0)
sim_discarded = len(sim.nodes["primary"].rolled_back)

pg_behind = rows_on["primary"] - rows_on["standby-1"]
rows = [
    ("", "PostgreSQL", "replsim"),
    ("standby-1 behind at the crash", f"{pg_behind} rows", f"{sim_behind} entries"),
    ("acknowledged writes lost", str(len(lost)), str(sim_lost)),
    ("timeline / epoch", f"{timeline_before} -> {timeline_after}", sim_epochs),
    ("accepting writes after the return", "primary, standby-1", sim_leaders),
    ("discarded by the repair", f"{len(discarded)} rows (pg_rewind)", f"{sim_discarded} entries (rejoin)"),
]
for label, real, model in rows:
    print(f"{label:36} {real:22} {model}")

# %% [markdown]
# (The model counts positions in log entries; PostgreSQL counts them in bytes of WAL, the LSN.)
# The model and the real database agree on what matters: the same writes are lost, promotion starts a new
# epoch or timeline, without fencing the old leader keeps accepting writes, and the repair throws away
# exactly what only the old leader had. The model leaves out what it does not need (bytes, disks,
# configuration files).

# %% [markdown]
# ## When you are done: stop the servers
#
# The servers are still running, and the panel below drives them, like the one in section 3: `standby-1`
# is now the primary, and the server called `primary` is its standby (names are labels; roles move).
# **Restart lab** replaces them with a fresh primary and two standbys (an empty table), if you want to
# start over.
#
# When you have finished, click **Stop lab**, or run `pg.close()` in a cell of your own. It stops every
# server and removes their temporary folders. Closing the notebook (or restarting its kernel) stops them
# too; nothing is left running after that.

# %% tags=["nbval-ignore-output"]
PgPanel(pg, lab_controls=True)

# %% [markdown]
# ## Key points
#
# - PostgreSQL streams its WAL to standbys **asynchronously** by default; `pg_stat_replication` shows how
#   far each standby has got (sent, write, flush, replay) and how long that took.
# - A standby answers reads but refuses writes, naming the command: *cannot execute INSERT in a read-only
#   transaction* (SQLSTATE 25006).
# - When the primary dies, whatever it acknowledged but the promoted standby never received is **lost**:
#   here exactly the 25 rows written while `standby-1` was cut off. Promote the standby that has received
#   the most WAL (`pg_last_wal_receive_lsn()`); synchronous replication saves a commit only on the standby
#   that confirmed it.
# - `pg_promote()` starts a **new timeline**; PostgreSQL does not detect the failure or promote by itself.
# - Without fencing, the old primary comes back as a second primary and its standbys follow it: **split
#   brain**. `pg_rewind` repairs a server by finding, in its own WAL, the blocks it changed after the fork
#   and copying them from the new primary: what only the old primary had is thrown away.
# - A paused replay (`pg_wal_replay_pause()`) shows the difference between WAL received and WAL applied:
#   the standby has the data on disk, but its readers do not see it until replay resumes.
#
# **Next:** [Lesson 9, the recap and quiz](09_recap_quiz.ipynb). Back to the
# [map of the course](00_start_here.ipynb).
