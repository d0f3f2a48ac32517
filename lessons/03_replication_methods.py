# %% [markdown]
# # Lesson 3 — Statement, row and physical shipping on real SQL
#
# **Time:** about 45 minutes.
#
# **Questions this lesson answers**
# - What does a leader actually put in its log: the SQL it ran, the rows that changed, or the bytes?
# - Why can shipping SQL statements leave the copies different, and how do MySQL and rqlite defend
#   against it? What does each defence miss?
# - What does each way cost in bytes on the wire?
# - What does shipping physical pages tie a follower to?
#
# **By the end of this lesson you can**
# - replicate the same workload three ways on nodes that each hold a real SQLite database, and count the
#   rows that differ between them;
# - name the SQL that diverges under statement shipping (`random()`, `'now'`, `LIMIT` without `ORDER BY`)
#   and say what shipping the statement's context (MySQL) or rewriting it (rqlite) fixes and what not;
# - compare the bytes each method ships, and explain why a one-row update costs a whole page physically;
# - explain why a follower with another page format cannot apply physical changes, while row changes
#   work across versions.
#
# Run the cells from top to bottom (**Shift+Enter**). Every number below comes from a seeded simulation.

# %% [markdown]
# ## The picture
#
# The head chef of lesson 2 changes a recipe and must pass the change on. She can do it three ways:
#
# 1. **Say the instruction**: "put today's date on every jar, and give a random customer a free dessert".
#    Each sous chef carries it out himself, later, with his own calendar and his own dice.
# 2. **Say the result, dish by dish**: "jar 17: the label now reads 3 March; customer 4: free dessert".
#    Nothing is left to the sous chef's judgement.
# 3. **Photocopy the pages of her book that changed** and hand them over. The sous chef swaps the pages
#    in his copy, which only works if his copy is the same edition, with the same page layout.
#
# | In the kitchen | In a database | Real systems |
# |---|---|---|
# | say the instruction | **statement shipping**: the log holds the SQL text; followers run it again | MySQL with `binlog_format=STATEMENT`; rqlite |
# | say the result, dish by dish | **row shipping** (logical): the log holds each changed row's new values, and enough of the old row to find it (its key, or all of it) | MySQL's `ROW` format (its default since 5.7.7; full old rows by default); PostgreSQL's logical replication (old key columns only, unless `REPLICA IDENTITY FULL`); SQLite's session extension |
# | photocopy the changed pages | **physical shipping**: the log holds the changed storage pages, as bytes | PostgreSQL's streaming replication (WAL); Oracle's redo; SQLite's WAL frames, shipped by tools such as Litestream or LiteFS (SQLite itself does not replicate) |
#
# MySQL's binary log is a *logical* log (statements or rows), kept apart from its storage engine's own
# redo log; its default format is `ROW`, while MariaDB's default is `MIXED` (statements, switching to rows
# for the ones it flags unsafe). PostgreSQL ships its physical WAL (write-ahead log), and offers logical
# replication on top of it.
#
# In this lesson **every node holds a real SQLite database** (the SQLite inside the `apsw` package, the
# same version on every machine). The clock SQLite reads for `'now'` is the simulation's virtual clock,
# and `random()` draws from each node's own seeded stream, so the numbers are the same for everyone.

# %%
from replsim import Cluster, StoreError
from replsim.course.shop import SHOP_DAY, SHOP_SCHEMA
from replsim.lesson import check_choice, check_prediction
from replsim.course.methods import ship, sql_store
from replsim.ui.plots import bytes_plot
from replsim.stores.sqlite import compile_options, sqlite_version
from replsim.ui import ControlPanel
import matplotlib.pyplot as plt

print("SQLite", sqlite_version())
print(SHOP_SCHEMA)
for i, (what, sql) in enumerate(SHOP_DAY, 1):
    print(f"{i:2}. {what}:\n      {sql}")

# %% [markdown]
# That is a small shop's day: its tables (every node creates them when it starts) and twelve statements
# the application sends to the leader, one every 0.1 s. Five are ordinary. Seven use one of four
# constructs that trouble statement shipping: `datetime('now', 'subsec')` reads the clock (to the
# millisecond), `randomblob(4)` and `random()` draw random numbers, and statement 11 deletes "any 3
# items": a `LIMIT` with no `ORDER BY` leaves the choice of rows to the database.
#
# ## 1. One statement, three databases
#
# A leader and two followers, 10 ms apart, shipping statements. The leader takes an order:

# %%
shop = Cluster("primary", ["replica-1", "replica-2"], delay=0.010, seed=3,
               store=sql_store("statement", schema=SHOP_SCHEMA))
shop.execute("INSERT INTO orders (item, qty, placed_at) VALUES (17, 2, datetime('now', 'subsec'))")
shop.advance(0.1)
for name in shop.names:
    print(f"{name:9}", shop.node(name).store.query("SELECT * FROM orders"))

# %% [markdown]
# Same statement, three databases, and already two answers: the followers ran the statement 10 ms after
# the leader, and `'now'` on a follower is the follower's *now*. Nothing was lost in transit; the copies
# differ because each node did the work itself.
#
# Statement 11 is written with a subquery. The shorter form, `DELETE ... LIMIT 3`, exists in SQLite only
# when it is compiled with `SQLITE_ENABLE_UPDATE_DELETE_LIMIT`
# ([SQLite's compile options](https://www.sqlite.org/compile.html#enable_update_delete_limit)). Debian's
# `sqlite3` has it; the SQLite used here does not:

# %%
print("SQLITE_ENABLE_UPDATE_DELETE_LIMIT" in compile_options())
try:
    shop.execute("DELETE FROM items WHERE stock > 0 LIMIT 3")
except StoreError as err:
    print("refused:", err)
print("recorded:", shop.history.ops[-1])
print(shop.table())

# %% [markdown]
# The client gets SQLite's own error, the failed write is in the record, and the cluster goes on: a
# statement the leader cannot run is never logged, so no follower sees it.
#
# ## 2. The whole day, shipped as statements
#
# `ship(statements, method)` runs the statements on a fresh cluster (primary, replica-1, replica-2) and
# returns it. One more detail: **replica-2 reads its rows in another order.** SQLite promises nothing
# about the order of rows a query returns without `ORDER BY`, and it has a switch,
# [`PRAGMA reverse_unordered_selects`](https://www.sqlite.org/pragma.html#pragma_reverse_unordered_selects),
# that reverses that order to catch programs that rely on it. It is on for replica-2, which also has an
# extra index on each table's key, newest first, that its planner uses when a query needs only the key.
# Together they stand for a replica whose rows sit or are indexed differently (another index, a table
# rebuilt, another version's query planner): common, and harmless for every statement that does not
# depend on the order the rows are visited in.
#
# > **Quick check.** Statement 11 retires "any 3 items" with a `LIMIT` and no `ORDER BY`. Shipped as a
# > statement, which items does replica-2 retire?
# >
# > - **a)** the same 3 as the leader: it runs the very same statement
# > - **b)** 3 others: the statement lets each database pick
# > - **c)** none: a follower refuses a statement whose result is not determined

# %%
my_choice = None  # put "a", "b" or "c" here, then run this cell and the next ones

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_choice(
    my_choice,
    "b",
    {
        "a": "The same text is not the same instruction here: 'the first 3 rows' depends on the order in"
        " which each database visits its rows, and replica-2 visits them in another order.",
        "b": "Each node picks the first 3 rows in its own order: the leader items 1-3, replica-2 items"
        " 998-1000. Nothing fails, and the copies now differ.",
        "c": "SQLite (like MySQL in STATEMENT format, which only warns) runs it without complaint: nothing"
        " on the follower knows the leader's choice was any different.",
    },
)

# %% jupyter={"outputs_hidden": true}
DAY = [sql for _, sql in SHOP_DAY]
print("The day shipped as statements, and every row that differs:")
naive = ship(DAY, "statement")
print(naive)
for key, values in naive.cluster.divergence().items():
    print(key, values)

# %% [markdown]
# `Cluster.divergence()` compares the nodes' real databases row by row (by table and primary key).
# Every order's `placed_at` differs (10 ms later on the followers), the coupon and the discount on
# item 42 were drawn three times, the prize went to a different order on each node, and replica-2 retired
# items 998-1000 where the leader retired items 1-3. No error anywhere: every node ran every statement
# successfully. That is what makes this kind of divergence dangerous.
#
# ## 3. Two real defences, and what each misses
#
# **MySQL** ships the statement's context: each statement in its binary log carries the leader's
# timestamp, so `NOW()` returns the leader's time on the replica, and the seed of `RAND()`. Yet MySQL still
# flags as *unsafe* for statement logging `RAND()` itself (the seed does not help if the replica visits
# rows in another order), `UUID()`, `UUID_SHORT()`, `RANDOM_BYTES()`, `SYSDATE()` (which reads the clock
# when it runs, not the statement's time), `USER()` and `CURRENT_USER()`, most system variables,
# `INSERT ... SELECT` into a table with an `AUTO_INCREMENT` column, and `LIMIT` unless an `ORDER BY`
# decides exactly which rows (ties leave the choice open); in `MIXED` format it logs those as rows instead
# ([safe and unsafe statements](https://dev.mysql.com/doc/refman/8.4/en/replication-rbr-safe-unsafe.html),
# [replication and system functions](https://dev.mysql.com/doc/refman/8.4/en/replication-features-functions.html)).
# `fix="context"` does the same here: every statement ships with the leader's virtual time and a seed for
# `random()` (16 bytes more per statement). Tried against a real MariaDB 10.11 primary and replica in
# `STATEMENT` format, the timestamp fix behaves as here, and so do the unsafe statements.
#
# **rqlite**, which replicates SQL statements over Raft on SQLite, rewrites a statement before logging it:
# `RANDOM()` becomes a random integer literal, `RANDOMBLOB(N)` a literal blob, and the `'now'` of a date and
# time function the current time as a number. It leaves `RANDOM()` alone when it is used in an
# `ORDER BY`, and does not rewrite `CURRENT_TIMESTAMP` and its siblings
# ([rqlite: non-deterministic functions](https://rqlite.io/docs/api/non-deterministic/)).
# `fix="rewrite"` applies the same rules.

# %%
context = ship(DAY, "statement", fix="context")
rewritten = ship(DAY, "statement", fix="rewrite")
for run in (naive, context, rewritten):
    c = run.cluster
    by_follower = {f: len(c.divergence(["primary", f])) for f in ("replica-1", "replica-2")}
    print(f"{run.name:20} rows differing from the primary: {by_follower}")

# %% [markdown]
# What the rewrite logged for statements 4, 8 and 12:

# %%
for i in (3, 7, 11):
    print(f"{i + 1:2}. {rewritten.entries[i].change.sql}")

# %% [markdown]
# Both defences fix the clock and the dice on replica-1 for statements 2 to 8: every node now runs
# exactly the same literals, or the same seed. What is left:
#
# - **The `LIMIT` without `ORDER BY`** (statement 11) still retires different items on replica-2 under
#   both: no timestamp, seed or literal says *which* rows the leader picked. MySQL flags it unsafe for
#   that reason.
# - **`ORDER BY random()`** (statement 12) is *not* fixed by the shipped seed where rows are read in
#   another order: the seed draws the same numbers in the same sequence, but replica-2 hands them out to
#   its rows newest first, so another order wins the prize (on replica-1, which reads rows as the primary
#   does, the seed works). That is why MySQL keeps `RAND()` on its unsafe list, and a real MariaDB replica
#   shows the same: with the same seed it picked another winner in most trials. rqlite does not rewrite
#   `random()` in an `ORDER BY` at all, so under the rewrite each node picks its own winner: that is the 2
#   rows on replica-1.
#
# The only complete fix is to stop shipping the instruction and ship its result.
#
# ## 4. Row shipping: ship the result
#
# With `"row"`, the leader runs the statement inside a session of SQLite's
# [session extension](https://www.sqlite.org/sessionintro.html), which records every row the statement
# changed, its primary key with the old and new values: a *changeset*. The log holds the changeset; followers
# apply it and run no SQL of their own.

# %%
rows = ship(DAY, "row")
print(rows)
price_rise = rows.entries[5].change
print("statement 6 touches every item:", price_rise, "- the first two:")
for change in price_rise.rows()[:2]:
    print("  ", change)
print("statement 7, one row:", rows.entries[6].change.rows())
print("statement 4, an insert:", rows.entries[3].change.rows())

# %% [markdown]
# No divergence, on either follower: the coupon, the discount, the timestamps and the three retired items
# travel as values. An `UPDATE` shows the primary key and the old value of each changed column (`None`
# for columns it did not change) and the new values; an `INSERT` shows the whole new row.
#
# The cost is in statements that touch many rows: statement 6 is 40 bytes of SQL, and 1,000 row changes
# (a changeset of 34,012 bytes). The same goes the other way: one row changed by a long statement ships smaller
# as a row. Row shipping also needs a way to find each row on the follower: a primary key (SQLite's
# session extension ignores tables without one; PostgreSQL's logical replication needs a *replica
# identity* for `UPDATE` and `DELETE`).
#
# The copies hold the same rows, but are they the same files?

# %%
for name in rows.cluster.names:
    store = rows.cluster.node(name).store
    print(f"{name:9}  rows: {store.digest()}   file bytes: {store.page_digest()}")

# %% [markdown]
# Same rows (the first fingerprint), different bytes (the second): each follower's SQLite placed the rows
# in its own pages, in the order the changeset gave them. For row shipping that does not matter.
#
# ## 5. Physical shipping: ship the bytes
#
# With `"physical"`, the leader compares its database file before and after each statement and ships every
# 4,096-byte page that changed, each with a 24-byte frame header, as SQLite's own write-ahead log does
# ([WAL format](https://www.sqlite.org/fileformat2.html#walformat)). Followers write the pages into their
# files. Each log entry also has the 24-byte record header every method pays.
#
# > **Think first.** Statement 7 changes one integer in one row: `stock` of item 17 goes from 20 to 18. How
# > many bytes does physical shipping send each follower for it? (Within 100 bytes counts as right.)

# %%
my_prediction = None  # replace None with your guess (a number of bytes), then run this cell and the next ones

# %% jupyter={"outputs_hidden": true}
print("What physical shipping logs for statement 7:")
physical = ship(DAY, "physical")
one_row = physical.entries[6]
print(one_row.change)

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
check_prediction(
    my_prediction,
    one_row.size,
    "physical shipping sends {} bytes for it",
    unit=" bytes",
    tolerance=100,
    explain="The unit of physical shipping is the page: one page (4,096 bytes) plus headers.",
)

# %% [markdown]
# <details>
# <summary><b>Answer</b> (open after you have guessed)</summary>
#
# **4,144 bytes**: the one page holding item 17 (4,096 bytes), its 24-byte frame header and the entry's
# 24-byte header. The change itself is one byte or so inside that page; physical shipping does not know
# about rows, only that page 4 is now different. (PostgreSQL is cleverer: its WAL usually records a small
# description of the change within a block, and a whole 8 kB block only for the first change of a block
# after each checkpoint.)
# </details>

# %%
print(physical)
for name in physical.cluster.names:
    store = physical.cluster.node(name).store
    print(f"{name:9}  rows: {store.digest()}   file bytes: {store.page_digest()}")

# %% [markdown]
# No divergence, and this time the followers are **byte-for-byte copies** of the leader: same rows, same
# file. That is the strength of physical shipping: nothing is re-executed or re-encoded, a follower is
# the leader's disk, slightly behind.
#
# ## 6. Side by side
#
# The same twelve statements, five ways. Bytes are what the leader ships each follower per statement
# (log scale), and divergent rows are counted from the nodes' real databases:

# %%
runs = [naive, context, rewritten, rows, physical]
print(f"{'method':20} {'bytes shipped':>14} {'divergent rows':>15}")
for run in runs:
    print(f"{run.name:20} {run.total:14,} {run.divergent_rows:15}")
fig = bytes_plot(runs, labels=[what for what, _ in SHOP_DAY])
plt.show()

# %% [markdown]
# Statements are small (about 1.2 kB for the day) but only as deterministic as the SQL in them. Rows are
# exact, and cost in proportion to the rows touched: the two statements touching 1,000 rows dominate. Pages
# are exact and byte-identical, and cost at least a page per change: here about 90 times the statements.
#
# Rows cost about 61 times the statements here. Checked against a real MariaDB 10.11, the same day's
# binary log in `ROW` format was about 24 times its `STATEMENT` format: every transaction in a real log
# also carries fixed events (a transaction id, begin and commit markers, a description of each table
# touched) that the model leaves out, and that overhead weighs most on the many small statements.
# Compression and batching shrink all three further; what stays is the order: statements smallest, pages
# largest.
#
# ## 7. What physical shipping ties a follower to
#
# A page is only meaningful to an engine that lays out pages the same way. Suppose replica-2 runs a newer
# engine version whose database files use 8,192-byte pages, a different on-disk format (`page_size` is a
# real SQLite setting, which only a rebuild of the whole database file changes). Physical shipping first,
# then rows:

# %%
upgrade_physical = ship(DAY, "physical", page_size={"replica-2": 8192})
print(upgrade_physical.cluster.table())
for e in upgrade_physical.cluster.history.events:
    if e.kind == "engine error":
        print(f"t = {e.time:.2f} s  {e.node}: {e.detail}")

# %%
upgrade_rows = ship(DAY, "row", page_size={"replica-2": 8192})
print(upgrade_rows.cluster.table())
print("divergent rows:", upgrade_rows.divergent_rows)

# %% [markdown]
# Physical shipping stopped replica-2 at its first entry, with an engine error, and it stays stopped
# while the others carry on. Row shipping to the same node works: a changeset names tables, keys and
# values, which any version can apply. This is a real constraint: PostgreSQL's physical replication
# needs the same major version (and platform) on both sides, while logical replication can run between
# major versions, and is how many upgrades avoid long downtime
# ([log-shipping standby servers](https://www.postgresql.org/docs/current/warm-standby.html),
# [logical replication](https://www.postgresql.org/docs/current/logical-replication.html)).

# %% [markdown]
# ## Your turn
#
# The panel drives a shop that ships **statements**, with its 1,000 items already stocked, and replica-2
# keeping its rows in the other order. Type SQL into the box and click **Run on leader**; **Advance** lets
# the followers apply it. The right-hand plot counts the rows of each follower that differ from the primary.
#
# **Task.**
# 1. Run the statement already in the box, then **Advance**. Which followers diverge, and by how many rows?
# 2. Run `UPDATE items SET stock = stock + 5 WHERE id < 100` and **Advance**. Does the divergence grow?
# 3. Run `DELETE FROM items WHERE id IN (SELECT id FROM items WHERE stock > 0 LIMIT 2)` and **Advance**.
#    Which follower diverges now, and why only that one?
# 4. Run `DELETE FROM items LIMIT 2`. What happens, and is anything logged?
# 5. In the cell below, change `"statement"` to `"row"`, run it again and repeat 1 to 3.

# %% tags=["nbval-ignore-output"]
stocked = ship(DAY[:1], "statement").cluster  # a shop with its items, shipping statements
panel = ControlPanel(
    stocked,
    actions=("sql", "crash", "recover", "advance"),
    plots=("cluster", "divergent rows"),
    title="The shop",
)
panel

# %% [markdown]
# <details>
# <summary><b>Solution</b></summary>
#
# 1. **Both**, by **1 row** each: item 7's new price was drawn by `random()` three times.
# 2. **No**: the statement is deterministic, so each node computes the same new stock for the same 99
#    items.
# 3. **replica-2**, by 4 more rows (5 in all): the primary removed items 1 and 2, replica-2 items 999 and
#    1000, so each lacks two rows the other has. Without an `ORDER BY` the subquery takes the first rows in
#    the order each node keeps them, and only replica-2 keeps them reversed. replica-1 agrees with the
#    primary by luck of layout, not by guarantee.
# 4. SQLite refuses it (`near "LIMIT": syntax error`, in this build): the panel shows the refusal, the
#    leader's lsn does not move, nothing is shipped.
# 5. With rows, the followers receive the values the leader produced, so steps 1 and 3 leave **0**
#    divergent rows.
# </details>


# %% [markdown]
# ## Key points
#
# - **Statement shipping** logs the SQL and re-runs it on every follower: compact, but any
#   non-determinism (`random()`, the clock, `LIMIT` without `ORDER BY`) leaves the copies different,
#   silently.
# - Shipping the statement's **context** (MySQL: timestamp, `RAND()` seed) or **rewriting** it into
#   literals (rqlite) fixes the clock, and the dice only where every node visits rows in the same order; it
#   never fixes row order. MySQL flags such statements unsafe (`RAND()` included), and logs rows by
#   default.
# - **Row shipping** logs each changed row's old and new values by primary key: no divergence, but a
#   statement touching 1,000 rows becomes 1,000 row changes.
# - **Physical shipping** logs changed pages: byte-identical followers, a whole page per change, and the
#   follower must use the **same engine version and page format**; row changes work across versions.
#
# **Next:** [Lesson 4, *Lag and reads*](04_lag_and_reads.ipynb), looks at what followers being behind does
# to the reads of an application. Back to the [map of the course](00_start_here.ipynb).
