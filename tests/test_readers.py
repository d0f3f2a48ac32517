"""Lesson 2's scenarios: positions and catching up, a snapshot join, the missing log, slots, read scaling."""

import pytest

from replsim import Cluster, ConfigError
from replsim.course.readers import Readers, busy_share, read_scaling, stale_reads
from replsim.lesson import sample

CHEFS = ["Sous chef A", "Sous chef B"]


def kitchen(**kw):
    return Cluster("Head chef", CHEFS, delay=0.010, seed=2, **kw)


def test_a_returning_follower_asks_from_its_own_position_and_gets_only_what_follows():
    k = kitchen()
    k.start_writes(rate=5, keys=[f"recipe {i}" for i in range(40)])
    k.run(until=2.0)
    k.crash("Sous chef B")  # write 11, sent at this instant, is still on the wire: B holds 1..10
    k.run(until=8.2)
    assert k.node("Sous chef B").lsn == 10 and k.lag()["Sous chef B"] == 31
    k.recover("Sous chef B")
    k.advance(0.05)
    mine = [m for m in k.network.messages if m.sent >= 8.2 and "Sous chef B" in (m.src, m.dst)]
    ask = mine[0]
    assert (ask.kind, ask.src, ask.fields["lsn"], ask.fields["ok"]) == ("ack", "Sous chef B", 10, False)
    resent = [m.fields["lsns"] for m in mine if m.kind == "append" and m.fields["lsns"]]
    assert (11, 42) in resent and not [r for r in resent if r[0] <= 10]  # nothing it already held
    assert k.lag()["Sous chef B"] == 0


def test_a_new_follower_starts_after_the_snapshots_position():
    k = kitchen()
    k.start_writes(rate=5, keys=[f"recipe {i}" for i in range(40)])
    k.run(until=8.25)
    chef = k.node("Head chef").store
    copy_bytes = chef.snapshot_size(chef.snapshot())  # all 40 recipes as they are now
    k.add_follower("Sous chef C")
    k.run(until=10.05)
    c = k.node("Sous chef C")
    snap = [m for m in k.network.messages if m.kind == "snapshot"][0]
    assert c.log.base == snap.fields["lsn"] == 42 and c.log.last_lsn == k.node("Head chef").lsn == 51
    assert c.log.after(42)[0].lsn == 43  # it holds the entries after the copy, not before
    assert snap.size == 32 + copy_bytes


def test_without_a_slot_the_follower_must_be_rebuilt_and_with_one_the_leader_keeps_the_log():
    def run(slots):
        k = kitchen(keep_log=50, slots=slots)
        k.start_writes(rate=20, keys=["soup"])
        kept = lambda c: len(c.node("Head chef").log)  # noqa: E731
        _, before = sample(k, 5.0, 0.1, kept)
        k.crash("Sous chef B")
        _, away = sample(k, 25.0, 0.1, kept)
        k.recover("Sous chef B")
        _, after = sample(k, 26.0, 0.1, kept)
        return k, before + away + after

    no_slot, kept = run(False)
    assert no_slot.node("Sous chef B").needs_rebuild is not None and max(kept) == 164
    no_slot.rebuild("Sous chef B")
    no_slot.advance(1)
    assert no_slot.lag()["Sous chef B"] == 0
    slot, kept = run(True)
    assert slot.node("Sous chef B").needs_rebuild is None and slot.lag()["Sous chef B"] == 0
    assert max(kept) == 400 and kept[-1] < 100  # all 400 entries it missed, then let go


def test_read_scaling_figures():
    rows = read_scaling((0, 1, 2, 4))
    busy = [round(100 * r.leader_busy) for r in rows]
    assert busy == [81, 41, 27, 16]
    assert [r.stale for r in rows][0] == 0 and all(r.stale > 0 for r in rows[1:])
    assert rows[0].p95_ms > 30 > 10 > rows[1].p95_ms and rows[-1].median_ms == pytest.approx(6.0)
    assert all(r.writes == r.writes_on_leader == 200 for r in rows)  # writes never spread
    assert rows[-1].busy["follower-4"] == pytest.approx(rows[-1].leader_busy, abs=0.01)
    assert rows[1].busy["follower-2"] == 0.0


def test_stale_reads_are_reads_that_missed_an_acknowledged_write():
    c = Cluster("L", ["F"], delay=0.05, read_time=0.001, seed=1)
    c.write("k", 1)
    c.advance(1)
    readers = Readers(c, 50, ["F"], key="k")
    c.run(until=1.1)
    c.write("k", 2)  # F gets it 50 ms later
    c.run(until=2.0)
    readers.stop()
    c.advance(1)
    stale = readers.stale()
    assert stale and all(1.1 <= r.invoke < 1.15 and r.value == 1 for r in stale)
    assert stale_reads(c.history, readers.answered()) == stale
    assert 0 < busy_share(c.history, "F", 1.0, 2.0) < 0.1 and busy_share(c.history, "L", 1.0, 2.0) == 0


def test_readers_reach_a_follower_added_later_as_fast_as_the_others():
    c = Cluster("L", ["F"], delay=0.05, read_time=0.001, seed=1)
    c.write("k", 1)
    readers = Readers(c, 100, ["L"], key="k")
    c.add_follower("G")
    c.advance(0.5)
    readers.spread(["G"])
    c.advance(0.5)
    readers.stop()
    c.advance(0.1)
    on_g = [o for o in readers.ops if o.node == "G" and o.outcome == "ok"]
    fastest = min(o.complete - o.invoke for o in on_g)
    assert fastest == pytest.approx(0.003)  # 1 ms there, 1 ms of work, 1 ms back: not 50 ms links


def test_bad_read_settings_are_explained():
    c = Cluster("L", ["F"])
    with pytest.raises(ConfigError, match="rate must be"):
        Readers(c, 0, ["L"])
    with pytest.raises(ConfigError, match="at least one node"):
        Readers(c, 10, [])
    with pytest.raises(ConfigError, match="followers must be whole numbers"):
        read_scaling((5,))
    with pytest.raises(ConfigError, match="every must be"):
        sample(c, 1.0, 0, len)
