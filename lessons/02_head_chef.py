# %% [markdown]
# # Lesson 2 — The head chef: the log, positions, new followers and read scaling
#
# **Time:** about 45 minutes.
#
# **Questions this lesson answers**
# - What exactly does a leader send its followers, and how does a follower know where it is?
# - How does a follower that was switched off catch up, and when can it no longer?
# - How does a brand-new follower get the data written before it existed?
# - What does a replication slot protect, and what does it cost the leader?
# - Does adding followers take load off the leader? Which load, and at what price?
#
# **By the end of this lesson you can**
# - read a replication log: numbered entries (positions, LSNs) applied in order, and each node's position;
# - show a follower catching up from its own position after an absence;
# - add a follower from a snapshot plus the log after it, as `pg_basebackup` and streaming do;
# - show a follower that must be rebuilt because the leader no longer keeps the log it needs, and what a
#   replication slot trades against that;
# - measure the leader's load and the read latency as reads spread over 0, 1, 2 and 4 followers, and name
#   the price (stale reads) and the limit (writes do not spread).
#
# Run the cells from top to bottom (**Shift+Enter**). Every number below comes from a seeded simulation.

# %% [markdown]
# ## The picture
#
# A head chef runs a kitchen with a few sous chefs. The chef alone decides the recipes. Every time she
# changes one she does not hand out a new cookbook: she writes the change as a numbered note in her order
# book ("note 57: soup, add a bay leaf") and reads the new notes out. Each sous chef applies the notes in
# number order to a copy of the book, and keeps a bookmark: the number of the last note applied. A sous
# chef back from a break says "I stopped at note 41", and the chef reads out 42 onwards. A new sous chef
# cannot start at note 1 of a book that has been going for years: he gets a photocopy of the current
# recipes ("everything up to note 500") and then follows the notes after 500.
#
# | In the kitchen | In a database | Names you will meet |
# |---|---|---|
# | the head chef | the **leader** | primary, master |
# | a sous chef | a **follower** | replica, standby, secondary |
# | the numbered notes | the **replication log**: every change, in order | PostgreSQL's WAL, MySQL's binlog, MongoDB's oplog |
# | a note's number | a **position** in the log | LSN (log sequence number), binlog file and offset, optime |
# | a sous chef's bookmark | the follower's position: the last entry it holds and applied | `replay_lsn` in `pg_stat_replication` |
# | a photocopy of the book at note n | a **snapshot** (base backup) taken at position n | `pg_basebackup`, MongoDB's initial sync, a file-system snapshot |
# | the chef throwing old notes away | the leader **removing old log** it no longer needs | `wal_keep_size`, binlog expiry |
# | a promise to keep notes until a given sous chef has them | a **replication slot** | `pg_create_physical_replication_slot` |

# %%
from replsim import Cluster
from replsim.course.readers import read_scaling
from replsim.lesson import check_choice, check_prediction, sample
from replsim.ui.plots import kept_log_plot, read_scaling_plot
from replsim.ui import ControlPanel
import matplotlib.pyplot as plt

SOUS_CHEFS = ["Sous chef A", "Sous chef B"]
kitchen = Cluster(leader="Head chef", followers=SOUS_CHEFS, delay=0.010, seed=2)
kitchen.write("soup", "add a bay leaf")
kitchen.write("bread", "rye, not wheat")
kitchen.write("soup", "less salt")
print("The head chef's log:")
for entry in kitchen.node("Head chef").log.entries:
    print(f"  lsn {entry.lsn}: {entry.key} = {entry.value!r}  ({entry.size} bytes)")
print(kitchen.table())

# %% [markdown]
# ## 1. The log and positions
#
# Each write became one **entry** of the leader's log, numbered 1, 2, 3: its position, or **LSN**. The
# entry holds the change itself, and a few bytes of header. The table says the sous chefs are at lsn 0:
# the entries are still on the 10 ms link. Let them arrive:

# %%
kitchen.advance(0.010)
print(kitchen.table())
print("Sous chef A's soup:", kitchen.read("soup", "Sous chef A"))

# %% [markdown]
# A follower applies entries **in order**, and its position (`lsn`) is the last one it holds and has
# applied. Order matters: `soup` was changed twice, and a follower that applied entry 3 before entry 1
# would end with a bay leaf and too much salt. The position is all a follower needs to remember about
# where it is: "I hold everything up to 3" means it holds 1, 2 and 3.
#
# ## 2. Away, and back
#
# The kitchen gets busy: a client changes one of 40 recipes **5 times a second**. At t = 2 s Sous chef B
# goes on a break (its server crashes; its log stays on its disk); it comes back at t = 8.2 s.
#
# > **Quick check.** When Sous chef B is back, what does the head chef send it?
# >
# > - **a)** the whole order book, from note 1, to be safe
# > - **b)** only the notes after the number on Sous chef B's bookmark
# > - **c)** a photocopy of all the current recipes

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "Sous chef B already applied every note up to its bookmark, in order: sending them again"
        " would be wasted work (and applying them twice could even be wrong).",
        "b": "Its position says exactly what it holds, so the chef sends what follows it: 31 entries"
        " here, 6.2 s of changes at 5 a second.",
        "c": "A photocopy is for a sous chef who has nothing, or whose missing notes are gone (sections 3"
        " and 4). While the notes are still there, sending them is far cheaper.",
    },
)

# %% jupyter={"outputs_hidden": true}
print("The kitchen at t = 8.2 s, as Sous chef B comes back:")
RECIPES = [f"recipe {i}" for i in range(1, 41)]
orders = kitchen.start_writes(rate=5, keys=RECIPES)
kitchen.run(until=2.0)
kitchen.crash("Sous chef B")
kitchen.run(until=8.2)
print(kitchen.table())

# %% [markdown]
# When it restarts, Sous chef B tells the chef the last position it holds and asks for what follows.
# Here are the messages between the two, from the network's journal:

# %% jupyter={"outputs_hidden": true}
print("Messages between the head chef and Sous chef B after it restarts:")
kitchen.recover("Sous chef B")
kitchen.advance(0.05)
for m in kitchen.network.messages:
    if m.sent >= 8.2 and {m.src, m.dst} == {"Head chef", "Sous chef B"} and m.kind in ("ack", "append"):
        print(f"t = {m.sent:.2f} s  {m.src} -> {m.dst}: {m.kind} {m.fields}  ({m.size} bytes)")
print(kitchen.table())

# %% [markdown]
# The first message is the bookmark: `ack` with `ok: False` means "I hold up to this lsn; please send what
# follows". The chef answers with one `append` carrying every missing entry, and Sous chef B confirms the
# new position (`ok: True`). Nothing before its bookmark is sent again. This is how a PostgreSQL standby
# reconnects: it asks the primary to stream WAL from the position where its own WAL ends.
#
# ## 3. A new sous chef joins
#
# A third sous chef joins while the orders keep coming. Replaying the log from entry 1 could take days in
# a real system, and the leader may not even have entry 1 any more. So the leader sends a **copy of its
# data as it is now**, at its current position n, and then streams the entries after n:

# %%
kitchen.add_follower("Sous chef C")
kitchen.advance(0.05)
newcomer = kitchen.node("Sous chef C")
snapshot = [m for m in kitchen.network.messages if m.kind == "snapshot" and m.dst == "Sous chef C"][0]
print(f"snapshot sent at t = {snapshot.sent:.2f} s: the data at lsn {snapshot.fields['lsn']}, {snapshot.size:,} bytes")
kitchen.run(until=10.0)
orders.stop()
kitchen.advance(0.1)
print(f"Sous chef C's log starts after lsn {newcomer.log.base}; it has applied {len(newcomer.log)} entries since")
print(kitchen.table())
print("recipes that differ between nodes:", kitchen.divergence())

# %% [markdown]
# Sous chef C's log starts *after* the snapshot's position: it never received entries 1 to 45, it holds
# their result, and it took the entries after 45 from the stream like the others. The snapshot (all 40
# recipes) took 1,496 bytes; the 31 entries Sous chef B missed took 1,116. A copy of the data is the size
# of the data; the log is the size of the history, which grows without end. The events record the steps:

# %%
for e in kitchen.history.events:
    if e.node == "Sous chef C":
        print(f"t = {e.time:.2f} s  {e.kind}: {e.detail}")

# %% [markdown]
# PostgreSQL does the same in two steps: `pg_basebackup` copies the primary's data files while it keeps
# running (and records the WAL position the copy starts from), then the new standby streams WAL from that
# position. MongoDB's initial sync and MySQL's clone plugin follow the same idea: copy the data, then
# apply the log from the copy's position.
#
# ## 4. When the leader no longer has the log
#
# The leader cannot keep its log forever: it would fill the disk. PostgreSQL's log is its WAL
# (*write-ahead log*); after each checkpoint it recycles the WAL that crash recovery no longer needs,
# whether or not a standby has received it, unless something holds it back: `wal_keep_size` (keep at
# least this much), a replication slot (below), or WAL archiving that has not yet copied it. The
# simulator's `keep_log=50` is the `wal_keep_size` rule in entries: the leader keeps at least the last 50
# (it throws older ones away in batches, so between 50 and about 160 are there at any time).
#
# Below, two kitchens take **20 writes a second**, and Sous chef B is away from t = 5 s to t = 25 s, 400
# entries. The first kitchen only has `keep_log`. The second also has a **replication slot** per follower
# (`slots=True`): the leader keeps every entry a known follower has not yet confirmed.
#
# > **Quick check.** In the first kitchen (no slot), what happens when Sous chef B comes back, 400 entries
# > behind?
# >
# > - **a)** it catches up, only more slowly than after a short break
# > - **b)** it can never catch up by asking; it needs a fresh copy
# > - **c)** the head chef stops taking orders until B has caught up

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "Catching up needs the entries right after B's position, and the leader kept only its last"
        " 50 to 160: the ones B needs are gone, however long it waits.",
        "b": "The leader threw away the entries B needs next, so B has no way to continue from its"
        " position: like a new follower, it needs a snapshot and the log after it.",
        "c": "A leader never waits for an asynchronous follower: that is what lets it keep serving while a"
        " follower is away, and also why it may throw away what the follower needs.",
    },
)

# %% jupyter={"outputs_hidden": true}
def busy_kitchen(slots):
    k = Cluster("Head chef", SOUS_CHEFS, delay=0.010, seed=2, keep_log=50, slots=slots)
    k.start_writes(rate=20, keys=RECIPES)
    kept = lambda c: len(c.node("Head chef").log)
    t1, n1 = sample(k, 5.0, 0.1, kept)
    k.crash("Sous chef B")
    t2, n2 = sample(k, 25.0, 0.1, kept)
    k.recover("Sous chef B")
    t3, n3 = sample(k, 26.0, 0.1, kept)
    return k, (t1 + t2 + t3, n1 + n2 + n3)

print("Two kitchens, 20 writes a second, Sous chef B away from 5 s to 25 s:")
no_slot, kept_no_slot = busy_kitchen(slots=False)
with_slot, kept_with_slot = busy_kitchen(slots=True)
print("Without a slot:")
print(no_slot.table())
for e in no_slot.history.events:
    if e.kind == "needs rebuild":
        print(f"  t = {e.time:.2f} s  {e.node}: {e.detail}")
print("With a slot:")
print(with_slot.table())

# %% [markdown]
# Without a slot, Sous chef B comes back asking for entry 101, and the leader has already thrown it away:
# it answers that its log now starts later. B **cannot catch up**, however long it waits. It is still up,
# still serving its old data to anyone who reads from it, but it will never move again. PostgreSQL's
# standby says it in its log: *requested WAL segment ... has already been removed*. Had the primary been
# archiving its WAL somewhere the standby can read (`restore_command`), the standby would fetch the missing
# part from the archive instead. Without one, the way out is a fresh copy, as for a new follower:
# `rebuild()` (for PostgreSQL, a new `pg_basebackup`). A sous chef who lost his copy of the book gets a new
# photocopy from the head chef's, and the notes after it.

# %%
no_slot.rebuild("Sous chef B")
no_slot.advance(1.0)
print(no_slot.table())
rebuild = [m for m in no_slot.network.messages if m.kind == "snapshot" and m.dst == "Sous chef B"][0]
print(f"the fresh copy: the data at lsn {rebuild.fields['lsn']}, {rebuild.size:,} bytes")

# %% [markdown]
# With a slot, Sous chef B simply caught up. The price is paid by the leader, on its disk: while B was
# away the leader kept **every** entry since B's position. The plot samples how many entries each
# leader held, every 0.1 s:

# %%
fig = kept_log_plot(
    {"keep_log=50, no slot": kept_no_slot, "keep_log=50 and a slot per follower": kept_with_slot},
    away=(5.0, 25.0),
)
plt.show()

# %%
print("most entries kept without a slot:", max(kept_no_slot[1]))
print("most entries kept with a slot:   ", max(kept_with_slot[1]))

# %% [markdown]
# Without a slot the leader's log stays small (the sawtooth: it grows to about 160, then drops back to
# 50). With a slot it grows for as long as the follower is away, then shrinks once the follower has
# confirmed it caught up. Here that is 400 small entries; in production it is WAL at the write rate, for
# as long as the standby is gone. A standby that never comes back, with a slot nobody dropped, fills the
# primary's disk, and a primary with a full disk stops. Since PostgreSQL 13, `max_slot_wal_keep_size` caps
# what a slot may hold: past that, the slot is invalidated and the standby needs a fresh copy after all.
# (PostgreSQL documentation: [replication slots](https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS),
# [`wal_keep_size` and `max_slot_wal_keep_size`](https://www.postgresql.org/docs/current/runtime-config-replication.html).)
#
# ## 5. Read scaling: spreading reads over followers
#
# Every follower holds all the data, so any of them can answer a read. In this part each node serves
# one read at a time, and a read keeps it busy **4 ms** (`read_time=0.004`): at most 250 reads a second
# per node. Clients 1 ms away send **200 reads a second** (at random moments, like real users), and one
# client sends 20 writes a second to the leader. Links between nodes take 10 ms. We run the same load on
# five-node clusters (a leader and four followers) and change only where the reads go: the leader alone,
# or the leader and 1, 2 or 4 followers, in turn, as a load balancer would.
#
# > **Think first.** With the leader alone, it spends about 80% of its time serving reads (200 reads of
# > 4 ms each per second). If the reads are spread evenly over the leader and **4** followers, what share
# > of its time (in %) will the leader spend serving reads?

# %%
my_prediction = None  # replace None with your guess (a percentage, e.g. 50), then run this cell and the next ones

# %% jupyter={"outputs_hidden": true}
rows = read_scaling(
    (0, 1, 2, 4), leader="Head chef", names=["Sous chef A", "Sous chef B", "Sous chef C", "Sous chef D"]
)
leader_busy_4 = round(100 * rows[-1].leader_busy)

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    leader_busy_4,
    "the leader is busy {}% of the time",
    unit="%",
    tolerance=3,
    explain="Five nodes share the reads, so each serves a fifth of them: about 80% / 5.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# About **16%**: the leader now serves one read in five, so a fifth of its 81%. The same holds for each
# follower serving reads. Reads scale out: each node you add takes its share.
# </details>
#
# Here are all four set-ups:

# %%
print("followers  leader busy  median read  95th pct  stale reads  writes on the leader")
for r in rows:
    print(
        f"{r.followers:9}  {100 * r.leader_busy:10.0f}%  {r.median_ms:8.1f} ms  {r.p95_ms:5.1f} ms"
        f"  {r.stale:4} ({100 * r.stale_share:.1f}%)  {r.writes_on_leader} of {r.writes}"
    )
fig = read_scaling_plot(rows)
plt.show()

# %% [markdown]
# Three things to read from this:
#
# - **The leader's load drops** as followers share the reads, and so does the read latency: at 81% busy
#   the leader builds queues (a read often waits for others: the 95th percentile is about 36 ms), while a
#   node 16-41% busy rarely makes a read wait. Every read still takes at least 6 ms: 1 ms there, 4 ms of
#   work, 1 ms back.
# - **Stale reads are the price.** A write reaches a follower 10 ms after the leader acknowledged it; a
#   read that a follower answers in that window returns the older value although the newer one was already
#   confirmed to its writer. None of the leader's answers are stale; about 8% of all reads are once four
#   followers share them. Lesson 4 looks at what that does to an application, and at the remedies.
# - **Writes do not spread.** All 200 writes went to the leader in every set-up. Worse, every follower
#   applies every write too, so adding followers adds no write capacity at all: each copy does all the
#   write work. Read replicas help read-heavy work (most web applications); a write-heavy workload needs
#   something else, like splitting the data between several leaders (sharding).

# %% [markdown]
# ## Your turn
#
# The panel drives a kitchen of its own: a head chef and two sous chefs, 10 ms apart, a client changing a
# recipe 5 times a second, and each node serving a read in 4 ms. **Add follower** adds a sous chef with the
# name in the box; **Crash** and **Recover** act on the node picked in *node*; **Spread reads** sends the
# clients' 200 reads a second to the leader and the number of followers in the box; **Advance** lets time
# pass. The right-hand plot shows how busy each node was in the last second.
#
# **Task.**
# 1. Click **Spread reads** with 0 followers, then **Advance**. How busy is the head chef?
# 2. Set 2 followers, **Spread reads**, **Advance**. And now?
# 3. **Add follower** (Sous chef C), **Advance**, then spread the reads over 3 followers and **Advance**.
#    What did Sous chef C need before it could serve reads, and how busy is each node now?
# 4. **Crash** Sous chef A while reads still go to it, and **Advance**. What happens to its share of the
#    reads? What should a load balancer do, and what does clicking **Spread reads** again do?

# %% tags=["nbval-ignore-output"]
panel_kitchen = Cluster(leader="Head chef", followers=SOUS_CHEFS, delay=0.010, read_time=0.004, seed=2)
panel_kitchen.start_writes(rate=5, keys=RECIPES)
panel = ControlPanel(
    panel_kitchen,
    actions=("add follower", "crash", "recover", "spread reads", "advance"),
    plots=("cluster", "load"),
    title="The kitchen",
)
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# 1. About **80%**: it serves every read.
# 2. About **27%** each for the head chef and the two sous chefs: a third of the reads each.
# 3. Sous chef C first received a snapshot of the head chef's data and then the entries after it (the
#    picture shows it at the leader's position within one round trip). Spread over 3 followers, the four
#    nodes are each about **20%** busy.
# 4. Sous chef A answers nothing while it is down: a quarter of the reads wait for their client's timeout
#    and are lost, and its bar is hatched at 0%. A load balancer must check its replicas' health and stop
#    sending reads to a dead one. **Spread reads** again does that here: it only picks followers that are up.
# </details>


# %% [markdown]
# ## Key points
#
# - The leader records every change as a numbered **entry** in its log; followers apply entries **in
#   order** and remember their **position** (PostgreSQL: an LSN).
# - A follower that was away asks for the entries after its position and **catches up**, but only while
#   the leader still keeps them; otherwise it must be **rebuilt** from a fresh copy.
# - A new follower starts from a **snapshot** at position n (`pg_basebackup`) and then streams the log
#   after n.
# - A **replication slot** keeps the log a follower still needs; the leader pays in disk for as long as the
#   follower is away.
# - Spreading reads over followers **cuts the leader's read load and latency**; the price is **stale
#   reads**, and writes do not spread: every write goes to the leader and is applied by every copy.
# - If the head chef herself walks out, the kitchen needs a new head chef, and only what that sous chef's
#   book holds survives: that is failover, lesson 5.
#
# **Next:** [Lesson 3, *Statement, row and physical shipping on real SQL*](03_replication_methods.ipynb),
# looks at what an entry of the log actually contains. Back to the [map of the course](00_start_here.ipynb).
