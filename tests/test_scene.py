"""The live view's data (replsim.ui.scene), built from the record of seeded scenarios, against values
worked out by hand from the scenario (link delay 50 ms, so a message sent at t is drawn until t + 0.05)."""

from __future__ import annotations

import json

import pytest

from replsim import Cluster
from replsim.ui.scene import (
    DROPPED_AT,
    FADE,
    KINDS,
    Flight,
    Recorder,
    frame,
    in_flight,
    layout,
    scene,
    strips,
)


def three(**kw) -> Cluster:
    return Cluster(leader="A", followers=["B", "C"], delay=0.05, seed=1, **kw)


def test_a_write_travels_to_both_followers_and_their_acks_come_back():
    c = three()
    c.write("k", "v")  # at t = 0: lsn 1 on A, shipped at once
    c.advance(1.0)
    # half-way there at t = 0.025: one append of one entry to each follower
    assert in_flight(c, 0.025) == [
        Flight("A", "B", "append", "delivered", "+1", 0.5, False),
        Flight("A", "C", "append", "delivered", "+1", 0.5, False),
    ]
    # arrived at 0.05; each follower's ack is a tenth of the way back at 0.055
    assert [(m.src, m.dst, m.kind, round(m.along, 6)) for m in in_flight(c, 0.055)] == [
        ("B", "A", "ack", 0.1),
        ("C", "A", "ack", 0.1),
    ]
    assert in_flight(c, 0.2) == []  # nothing between the ack (back at 0.1) and the heartbeat at 0.5
    # heartbeats (appends without entries) every 0.5 s: 80% of the way at 0.54
    assert [(m.kind, m.label, round(m.along, 6)) for m in in_flight(c, 0.54)] == [("heartbeat", "", 0.8)] * 2


def test_each_log_has_its_entries_epochs_and_marks():
    c = three()
    c.write("k", "v")
    c.advance(1.0)
    logs = frame(c, 0.025).logs  # the entry is on A only, acknowledged at once (asynchronous)
    assert logs["A"].cells == ((1, True, False),) and logs["A"].applied == 1
    assert logs["B"].cells == ((None, False, False),) and logs["B"].applied == 0
    assert logs["A"].acknowledged == 1 and logs["A"].first == 1
    assert all(s.cells == ((1, True, False),) for s in frame(c, 0.06).logs.values())  # all hold it


def test_a_message_lost_to_a_partition_stops_half_way_and_fades():
    c = three()
    c.partition(["C"])
    c.advance(0.1)
    c.write("k", "v")  # at t = 0.1: the append to C is dropped by the partition
    c.advance(0.2)
    to_c = [m for m in in_flight(c, 0.12) if m.dst == "C"]
    assert to_c == [Flight("A", "C", "append", "partitioned", "+1", pytest.approx(0.4), False)]
    stop = 0.1 + DROPPED_AT * 0.05  # 0.125: drawn still from here, fading for FADE * 0.05 s
    (still,) = [m for m in in_flight(c, stop + 0.005) if m.dst == "C"]
    assert still.stopped and still.along == DROPPED_AT and still.fate == "partitioned"
    assert not [m for m in in_flight(c, stop + FADE * 0.05 + 1e-6) if m.dst == "C"]
    to_b = [m for m in in_flight(c, 0.13) if m.dst == "B"]
    assert to_b == [Flight("A", "B", "append", "delivered", "+1", pytest.approx(0.6), False)]


def test_entries_a_node_will_discard_are_marked_and_the_lost_write_is_acknowledged():
    c = three()
    c.partition(["A"])
    c.write("x", 1)  # t = 0: acknowledged by A (asynchronous), which nobody can reach
    c.advance(0.1)
    c.promote("B")  # epoch 2
    c.advance(0.1)
    c.write("y", 2, node="B")  # t = 0.2: lsn 1 again, in epoch 2
    c.advance(0.2)
    logs = frame(c, 0.3).logs
    assert logs["A"].cells == ((1, True, True),)  # acknowledged, and to be discarded: a lost write
    assert logs["B"].cells == ((2, True, False),) and logs["C"].cells == ((2, True, False),)
    c.heal()
    c.advance(1.0)  # A hears from B, rolls back lsn 1 and takes B's
    assert frame(c).logs["A"].cells == ((2, True, False),)


def test_the_strip_shows_the_last_positions_of_the_longest_log():
    c = three()
    c.crash("C")
    for i in range(30):
        c.write("k", i)
    c.advance(0.2)
    logs = strips(c, c.now, width=24)
    assert logs["A"].first == 7 and [e for e, _, _ in logs["A"].cells] == [1] * 24
    assert logs["C"].applied == 0 and all(e is None for e, _, _ in logs["C"].cells)


def _decode_epoch(records: list, lsn: int, t: int) -> int:
    """What the browser does (view.js, epochOf): the latest run record at or before t covering lsn."""
    best = None
    for r in records:
        if r[0] <= t and r[1] <= lsn and (best is None or r[0] >= best[0]):
            best = r
    return best[2] if best else 0


def test_the_epoch_records_sent_give_the_same_logs_as_the_record_at_every_moment():
    c = three()
    c.partition(["A"])
    for i in range(3):
        c.write("x", i)
    c.advance(0.1)
    c.promote("B")
    c.write("y", 1, node="B")
    c.advance(0.3)
    c.heal()
    c.advance(1.0)  # A rolls back 3 entries and copies B's one
    c.write("z", 2, node="B")
    c.advance(0.5)
    nodes = Recorder(c).delta()["nodes"]
    for t in [0.0, 0.05, 0.1, 0.2, 0.45, 0.6, 0.65, 0.7, 0.76, 1.2, c.now]:
        for name, strip in strips(c, t, width=6).items():
            for k, (epoch, _, _) in enumerate(strip.cells):
                if epoch is not None:
                    got = _decode_epoch(nodes[name]["epochs"], strip.first + k, round(t * 1e6))
                    assert got == epoch, (name, t, strip.first + k)


def test_deltas_send_only_what_is_new_and_add_up_to_the_whole():
    c = three()
    r = Recorder(c)
    first = r.delta()
    assert first["since"] == -1 and first["now"] == 0 and first["seq"] == 0
    assert r.delta() is None  # nothing happened: nothing to send
    c.write("k", "v")
    c.advance(1.0)
    second = r.delta()
    assert second["seq"] == 1 and second["since"] == 0 and second["now"] == 1_000_000
    # the append and ack of the write, and two heartbeats and their acks; the last heartbeats in flight
    kinds = [KINDS[m[4]] for m in second["messages"]]
    assert kinds == ["append"] * 2 + ["ack"] * 2 + ["heartbeat"] * 2 + ["ack"] * 2 + ["heartbeat"] * 2
    assert second["messages"][-1][5] == 1  # in flight: resent next time, with its fate then
    c.advance(0.2)
    third = r.delta()
    assert [m[5] for m in third["messages"]] == [0, 0, 0, 0]  # those two delivered, and their acks
    whole = scene(c)["delta"]
    sent = sum(m[0] for m in whole["messages"])
    assert sent == 1_050_000 and len(whole["messages"]) == 12  # the last: acks of the 1.0 s heartbeats
    assert len(json.dumps(second)) < 2_000  # a click sends a few hundred bytes here


def test_the_layout_places_nodes_clients_and_cities():
    c = three()
    c.write("k", "v")
    c.client("app", near="B")
    places = layout(c)
    assert [n["name"] for n in places["nodes"]] == ["A", "B", "C"] and not places["geo"]
    assert places["nodes"][0]["x"] == 0.5 and places["nodes"][0]["y"] < places["nodes"][1]["y"]
    assert [(cl["name"], cl["near"], cl["local"]) for cl in places["clients"]] == [
        ("app", "B", False),
        ("client at A", "A", True),
    ]
    from replsim.course.geo import geo_cluster

    world = geo_cluster(seed=1)
    places = layout(world)
    x = {n["name"]: n["x"] for n in places["nodes"]}
    assert (
        places["geo"] and x["Tokyo"] < x["San Francisco"] < x["New York"] < x["London"]
    )  # Pacific in the middle
