"""The panels of lessons 4 and 7 driven from Python, their figures, and lesson 7's failover sweep."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from replsim.course.sweep import MODES, best_standby, commit_sweep, failover, scenario, summary, table
from replsim.errors import ConfigError
from replsim.history.anomalies import KINDS
from replsim.ui import ControlPanel
from replsim.ui.course_actions import ACK_PLOT, anomalies, commit_world, reads_world
from replsim.ui.figures import acknowledged_plot, geo_read_plot, policy_plot, stage_timeline, tradeoff_plot

COMMIT_ACTIONS = ("commit", "write", "crash", "recover", "partition", "heal", "failover", "rate", "advance")


def reads_panel():
    world = reads_world()
    world.set_stages("Tokyo", apply=0.030)
    return ControlPanel(world, actions=("reads", "advance ms", "rate"), plots=("cluster", "lag seconds"))


def advance(panel, seconds):
    panel.inputs["seconds"].value = seconds
    panel.buttons["advance"].click()


def test_reads_panel_names_the_anomaly_a_user_meets_and_a_policy_that_removes_it():
    p = reads_panel()
    assert p.last_error is None and anomalies(p) == [] and "none" in p.findings.value
    p.inputs["user"].value, p.inputs["policy"].value = "Tokyo", "nearest replica"
    p.buttons["write"].click()
    assert (
        "Tokyo user sent x = 'Tokyo#1' to the leader, San Francisco: 52.5 ms each way"
        in p.message.value.replace("&#x27;", "'")
    )
    advance(p, 0.110)
    p.buttons["read"].click()
    advance(p, 0.05)
    assert [a.kind for a in anomalies(p)] == ["stale read", "read-your-writes violation"]
    assert (
        "read-your-writes violation" in p.findings.value
        and "Tokyo user read x = None from Tokyo" in p.findings.value
    )
    p.inputs["policy"].value = "wait for position"
    p.buttons["write"].click()
    advance(p, 0.110)
    p.buttons["read"].click()
    assert "once it holds lsn 2" in p.message.value
    advance(p, 0.2)
    last = p.users["Tokyo"].ops[-1]
    assert last.value == "Tokyo#2" and 0.02 < last.complete - last.invoke < 0.04
    assert len(anomalies(p)) == 2 and p.last_error is None


def test_reads_panel_refuses_an_empty_key_and_never_raises():
    p = reads_panel()
    p.inputs["write_key"].value = " "
    p.buttons["read"].click()
    assert p.last_error == "type a key (for example: x)" and "Refused" in p.message.value


def test_commit_panel_shows_writes_lost_after_a_failover_and_waiting_under_sync():
    lost = {}
    for mode in ("async", "FIRST 1, on"):
        p = ControlPanel(commit_world(), actions=COMMIT_ACTIONS, plots=("cluster", ACK_PLOT))
        p.inputs["commit"].value = mode
        p.inputs["rate"].value = 20
        advance(p, 1.0)
        p.inputs["node"].value = "primary"
        p.buttons["partition"].click()
        advance(p, 1.0)
        p.buttons["failover"].click()
        assert (
            p.last_error is None
            and "standby-1, the standby that had received the most, now leads" in p.message.value
        )
        lost[mode] = len(p.cluster.lost_writes())
        assert f"acknowledged writes lost: {lost[mode]}" in p.findings.value
    assert lost == {"async": 20, "FIRST 1, on": 0}
    assert "outcome unknown (their leader crashed first): 20" in p.findings.value
    p.buttons["failover"].click()  # the new leader fails too: fine, another standby takes over
    p.inputs["node"].value = p.cluster.leader
    p.buttons["crash"].click()
    p.buttons["failover"].click()
    assert "already down" in p.last_error


def test_commit_panel_refuses_a_mode_change_while_writes_wait():
    p = ControlPanel(commit_world(), actions=COMMIT_ACTIONS, plots=("cluster", ACK_PLOT))
    p.inputs["commit"].value = "FIRST 1 (standby-1) alone"
    p.inputs["node"].value = "standby-1"
    p.buttons["crash"].click()
    p.buttons["write"].click()
    assert "waits until enough followers confirm" in p.message.value
    p.inputs["commit"].value = "async"
    assert "writes are waiting" in p.last_error


def test_the_figures_draw_into_given_axes_and_check_their_input():
    fig, axes = plt.subplots(1, 2)
    rows = {"A": {"nearest ms": 1.0, "leader ms": 80.0, "stale %": 10.0, "stale by ms": 20.0}}
    assert geo_read_plot(rows, axes=axes) is fig
    counts = dict.fromkeys(KINDS, 1)
    assert policy_plot([{"policy": "leader", "counts": counts, "mean ms": 1.0, "p99 ms": 2.0}])
    assert stage_timeline({"on": {"received": 1, "flushed": 2, "applied": 3, "acknowledged": 4}})
    c = commit_world()
    c.start_writes(rate=10)
    c.advance(1.0)
    assert acknowledged_plot(c, waiting=False) and acknowledged_plot(c)
    with pytest.raises(ConfigError, match="bin_seconds must be > 0"):
        acknowledged_plot(c, bin_seconds=0)
    with pytest.raises(ConfigError, match="two axes side by side"):
        geo_read_plot(rows, axes=[axes[0]])
    plt.close("all")


def test_one_failover_is_the_same_from_its_seed_and_counts_what_it_loses():
    a, b = failover("async", 5), failover("async", 5)
    assert (a.lost, a.waiting, a.promoted, a.crash_at) == (b.lost, b.waiting, b.promoted, b.crash_at)
    assert np.array_equal(a.latencies, b.latencies)
    with pytest.raises(ConfigError, match="unknown mode 'sync'"):
        failover("sync", 1)


def test_the_sweep_shows_where_each_mode_loses_writes():
    runs = commit_sweep(seeds=range(40))
    rows = {r["mode"]: r for r in summary(runs)}
    assert list(rows) == list(MODES) and all(r["failovers"] == 40 for r in rows.values())
    assert rows["async"]["writes lost"] > 0 and rows["async"]["median ms"] < rows["ANY 2, on"]["median ms"]
    assert rows["ANY 2, on"]["writes lost"] == 0
    for r in runs:
        if r.mode.startswith("FIRST") and r.lost:
            assert (
                r.zone_failure and r.promoted != "standby-1"
            )  # lost only when the confirmer was not promoted
        if r.mode == "semi-sync" and r.lost_unconfirmed:
            assert r.fell_back  # unconfirmed only after its timeout fired
        if r.mode != "async" and r.mode != "semi-sync":
            assert r.lost_unconfirmed == 0
    assert "FIRST 1, on" in table(summary(runs))
    left, right = tradeoff_plot(runs).axes[:2]
    assert [t.get_text() for t in right.get_xticklabels()][0] == "async"
    assert (
        right.texts[0].get_text() == f"{rows['async']['writes lost']}\n{rows['async']['failovers losing']}/40"
    )
    plt.close("all")


def test_the_best_standby_is_the_one_that_received_most():
    c = scenario(1)
    c.start_writes(rate=100)
    c.advance(0.5)
    c.crash("primary")
    assert best_standby(c) == "standby-1"
    c.crash("standby-1")
    assert best_standby(c) == "standby-2"
    c.crash("standby-2")
    c.crash("standby-3")
    with pytest.raises(ConfigError, match="no standby is up"):
        best_standby(c)


def test_the_read_policy_cost_says_what_share_of_reads_the_leader_served():
    counts = dict.fromkeys(KINDS, 0)
    rows = [
        {"policy": "leader", "counts": counts, "mean ms": 9.0, "p99 ms": 20.0, "on leader %": 100.0},
        {"policy": "any replica", "counts": counts, "mean ms": 1.0, "p99 ms": 2.0, "on leader %": 0.0},
    ]
    cost = policy_plot(rows).axes[1]
    assert [t.get_text().splitlines()[-1] for t in cost.get_xticklabels()] == ["leader: 100%", "leader: 0%"]
