"""The figures: what they show must match the cluster, stay readable without colour, and not vary."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgb

from replsim import Cluster
from replsim.errors import ConfigError, UnknownNodeError
from replsim.ui.plots import (
    availability_plot,
    cluster_graph,
    cluster_picture,
    lag_plot,
    network_faults,
)

CHANNELS = ["Channel A", "Channel B", "Channel C"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def anchor(**kw) -> Cluster:
    kw.setdefault("delay", 0.05)
    kw.setdefault("seed", 1)
    return Cluster(leader="Anchor", followers=CHANNELS, **kw)


def crash_and_recover() -> Cluster:
    """Channel B is down from t=2 to t=6 while a client writes 10 times a second."""
    c = anchor()
    c.start_writes(rate=10, keys=["headline"])
    c.advance(2)
    c.crash("Channel B")
    c.advance(4)
    c.recover("Channel B")
    c.advance(2)
    return c


def node_artist(ax, name):
    return next(a for a in ax.collections if a.get_gid() == f"node:{name}")


def text_by_gid(ax, gid):
    return next(t for t in ax.texts if t.get_gid() == gid).get_text()


def luminance(colour) -> float:
    r, g, b = to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    return buf.getvalue()


# --- the cluster picture -------------------------------------------------------
def test_graph_has_an_edge_from_the_leader_to_each_follower_with_its_lag():
    c = anchor()
    c.crash("Channel B")
    for i in range(3):
        c.write("headline", i)
    c.advance(1)
    g = cluster_graph(c)
    assert sorted(g.edges) == [("Anchor", n) for n in CHANNELS]
    assert {n: g.edges["Anchor", n]["behind"] for n in CHANNELS} == {
        "Channel A": 0,
        "Channel B": 3,
        "Channel C": 0,
    }
    assert g.nodes["Anchor"]["kind"] == "leader" and g.nodes["Channel A"]["kind"] == "follower"
    assert g.nodes["Channel B"]["up"] is False


def test_leader_follower_and_down_nodes_differ_in_shape_colour_and_hatch():
    c = anchor()
    c.crash("Channel B")
    ax = cluster_picture(c).axes[0]
    leader, follower, down = (node_artist(ax, n) for n in ("Anchor", "Channel A", "Channel B"))
    # shape: a square marker path has 5 vertices, a circle many more
    assert len(leader.get_paths()[0].vertices) == 5
    assert len(follower.get_paths()[0].vertices) > 8
    faces = [to_hex(a.get_facecolor()[0]) for a in (leader, follower, down)]
    assert len(set(faces)) == 3
    assert down.get_hatch() and not follower.get_hatch() and not leader.get_hatch()
    # readable in greyscale: the three fills differ clearly in lightness too
    lum = sorted(luminance(f) for f in faces)
    assert min(b - a for a, b in zip(lum, lum[1:])) > 0.1
    assert "down" in text_by_gid(ax, "label:Channel B")
    assert "down" not in text_by_gid(ax, "label:Channel A")


def test_node_labels_show_name_role_and_lsn():
    c = anchor()
    c.write("headline", "Thursday")
    ax = cluster_picture(c).axes[0]
    assert text_by_gid(ax, "label:Anchor").split("\n") == ["Anchor", "leader", "lsn 1"]
    assert text_by_gid(ax, "label:Channel C").split("\n") == ["Channel C", "follower", "lsn 0"]


def test_edge_label_shows_how_many_entries_the_follower_is_behind():
    c = anchor()
    c.crash("Channel A")
    for i in range(3):
        c.write("headline", i)
    c.advance(1)
    ax = cluster_picture(c).axes[0]
    assert text_by_gid(ax, "edge:Anchor->Channel A") == "3 behind"
    assert text_by_gid(ax, "edge:Anchor->Channel B") == "0 behind"


def test_title_gives_the_virtual_time():
    c = anchor()
    c.advance(12)
    ax = cluster_picture(c).axes[0]
    assert ax.get_title(loc="left") == "t = 12.0 s"


def test_leaders_sit_above_followers_and_the_layout_is_fixed():
    c = anchor()
    ax = cluster_picture(c).axes[0]
    (lx, ly), *_ = node_artist(ax, "Anchor").get_offsets()
    ys = {n: node_artist(ax, n).get_offsets()[0][1] for n in CHANNELS}
    xs = [node_artist(ax, n).get_offsets()[0][0] for n in CHANNELS]
    assert all(ly > y for y in ys.values()) and xs == sorted(xs) and lx == pytest.approx(np.mean(xs))


def test_a_partitioned_link_is_dashed_and_says_so():
    c = anchor()
    c.write("headline", "Tuesday")
    c.partition(["Channel C"])
    c.write("headline", "Thursday")
    c.advance(1)
    g = cluster_graph(c)
    assert g.edges["Anchor", "Channel C"]["link"] == "partitioned"
    assert g.edges["Anchor", "Channel A"]["link"] == "ok"
    assert network_faults(c) == "partition: {Channel C} | {Anchor, Channel A, Channel B}"
    ax = cluster_picture(c).axes[0]
    assert text_by_gid(ax, "edge:Anchor->Channel C") == "partitioned\n1 behind"
    styles = {a.xy: a.arrow_patch.get_linestyle() for a in ax.texts if hasattr(a, "arrow_patch")}
    pos = {n: tuple(node_artist(ax, n).get_offsets()[0]) for n in CHANNELS}
    assert styles[pos["Channel C"]] == "--" and styles[pos["Channel A"]] == "-"


def test_a_one_way_cut_is_named():
    c = anchor()
    c.cut("Anchor", "Channel A")
    c.cut("Channel B", "Anchor")
    g = cluster_graph(c)
    assert g.edges["Anchor", "Channel A"]["link"] == "cut"
    assert g.edges["Anchor", "Channel B"]["link"] == "acks cut"
    assert network_faults(c) == "cut Anchor → Channel A; cut Channel B → Anchor"


def test_split_brain_shows_a_second_leader():
    c = Cluster(leader="leader", followers=["follower-1", "follower-2", "follower-3"], delay=0.05, seed=1)
    c.partition(["leader", "follower-1"])
    c.promote("follower-2", followers=["follower-3"])
    c.advance(1)
    g = cluster_graph(c)
    assert g.nodes["leader"]["kind"] == "other leader" and g.nodes["follower-2"]["kind"] == "leader"
    assert sorted(g.edges) == [("follower-2", "follower-3"), ("leader", "follower-1")]
    ax = cluster_picture(c).axes[0]
    assert "SPLIT BRAIN: 2 leaders" in ax.get_title(loc="left")
    old, new = node_artist(ax, "leader"), node_artist(ax, "follower-2")
    assert len(old.get_paths()[0].vertices) == 5  # both squares: both act as leaders
    assert to_hex(old.get_facecolor()[0]) != to_hex(new.get_facecolor()[0])
    assert old.get_hatch() and not new.get_hatch()
    assert "2nd leader" in text_by_gid(ax, "label:leader")
    assert "epoch 1" in text_by_gid(ax, "label:leader") and "epoch 2" in text_by_gid(ax, "label:follower-2")


def test_picture_draws_into_a_given_axes_and_returns_its_figure():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    before = plt.get_fignums()
    assert cluster_picture(anchor(), ax=ax2) is fig
    assert plt.get_fignums() == before
    assert ax2.collections and not ax1.collections


def test_the_picture_has_a_legend_unless_asked_not_to():
    c = anchor()
    labels = [t.get_text() for t in cluster_picture(c).axes[0].get_legend().get_texts()]
    assert labels == ["leader", "follower", "down (crashed)"]
    assert cluster_picture(c, legend=False).axes[0].get_legend() is None


# --- lag over time ---------------------------------------------------------------
def test_lag_of_a_crashed_then_recovered_follower_rises_then_returns_to_zero():
    c = crash_and_recover()
    ax = lag_plot(c).axes[0]
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "Channel B")
    t, y = line.get_xdata(), line.get_ydata()
    assert y[(t > 0.5) & (t < 1.9)].max() <= 1  # keeping up
    assert y[(t > 5.5) & (t < 6.0)].min() >= 35  # 4 s down at 10 writes/s
    assert np.all(np.diff(y[(t > 2.2) & (t < 5.95)]) >= 0)  # only rises while down
    assert y[t > 6.5].max() <= 1  # caught up after recovering
    other = next(ln for ln in ax.get_lines() if ln.get_label() == "Channel A")
    assert other.get_ydata().max() <= 1


def test_a_steady_stream_of_writes_draws_a_flat_line_not_a_comb():
    c = anchor()
    c.start_writes(rate=5)  # each write leaves the followers 1 behind for 50 ms of every 200 ms
    c.advance(20)
    ax = lag_plot(c).axes[0]
    y = next(ln for ln in ax.get_lines() if ln.get_label() == "Channel A").get_ydata()
    assert set(y[:-1]) == {1}  # the peak in every step
    sampled = lag_plot(c, peak=False).axes[0]
    line = next(ln for ln in sampled.get_lines() if ln.get_label() == "Channel A")
    assert set(line.get_ydata()) == {0, 1} and len(line.get_xdata()) == 400
    np.testing.assert_array_equal(line.get_ydata(), c.history.lag("Channel A", line.get_xdata())[0])


def test_peak_lag_never_misses_a_short_lag():
    c = anchor()
    c.advance(10.01)
    c.write("headline", "Thursday")  # followers are 1 behind from 10.01 s to 10.06 s only
    c.advance(9.99)
    ax = lag_plot(c, nodes=["Channel B"]).axes[0]
    (line,) = ax.get_lines()
    t, y = line.get_xdata(), line.get_ydata()
    assert y.max() == 1 and np.all((t[y == 1] >= 9.8) & (t[y == 1] <= 10.06))


def test_lag_plot_has_labels_legend_and_event_marks():
    c = crash_and_recover()
    ax = lag_plot(c).axes[0]
    assert ax.get_xlabel() == "virtual time (s)"
    assert ax.get_ylabel() == "peak lag in each 0.2 s step\n(log entries behind the leader)"  # 8 s in 40
    assert lag_plot(c, peak=False).axes[0].get_ylabel() == "lag (log entries behind the leader)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == CHANNELS
    labels = " ".join(t.get_text() for t in ax.texts)
    assert "crash Channel B" in labels and "recover Channel B" in labels
    assert ax.get_xlim() == (0.0, c.now)


def test_each_follower_gets_its_own_colour_and_line_style():
    ax = lag_plot(crash_and_recover()).axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_label() in CHANNELS]
    assert len({to_hex(ln.get_color()) for ln in lines}) == 3
    assert len({str(ln.get_linestyle()) for ln in lines}) == 3


def test_lag_in_seconds():
    c = crash_and_recover()
    ax = lag_plot(c, nodes=["Channel B"], unit="seconds").axes[0]
    assert ax.get_ylabel() == "lag (seconds behind the leader)"
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "Channel B"]
    t, y = line.get_xdata(), line.get_ydata()
    assert 3.5 <= y[(t > 5.5) & (t < 6.0)].max() <= 4.1  # the oldest missing write is about 4 s old


def test_after_a_failover_the_old_leader_is_plotted_too():
    c = crash_and_recover()
    c.crash("Anchor")
    c.promote("Channel C")
    ax = lag_plot(c).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Anchor", *CHANNELS]


def test_lag_plot_rejects_bad_arguments():
    c = anchor()
    with pytest.raises(ConfigError, match="unit"):
        lag_plot(c, unit="bytes")
    with pytest.raises(ConfigError, match="samples"):
        lag_plot(c, samples=1)
    with pytest.raises(UnknownNodeError):
        lag_plot(c, nodes=["Channel Z"])


def test_lag_plot_at_time_zero_does_not_fail():
    ax = lag_plot(anchor()).axes[0]
    assert ax.get_xlim() == (0.0, 1.0)


# --- availability ----------------------------------------------------------------
def test_availability_drops_to_zero_while_there_is_no_leader():
    c = anchor()
    c.start_writes(rate=10)
    c.advance(3)
    c.crash("Anchor")
    c.advance(2)
    c.promote("Channel A")
    c.advance(3)
    ax = availability_plot(c).axes[0]
    heights = {round(p.get_x()): p.get_height() for p in ax.containers[0]}
    refused = {round(p.get_x()): p.get_height() for p in ax.containers[1]}
    assert heights[1] == 100 and heights[3] == 0 and heights[4] == 0 and heights[6] == 100
    assert refused[3] == 100 and refused[1] == 0
    assert ax.get_xlabel() == "virtual time (s)" and "%" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "acknowledged",
        "refused or unanswered",
        "none tried",
    ]


def test_availability_rejects_a_bad_bin():
    with pytest.raises(ConfigError):
        availability_plot(anchor(), bin_seconds=0)


# --- determinism -------------------------------------------------------------------
def test_figures_are_identical_for_the_same_seed():
    def draw():
        c = crash_and_recover()
        return png(cluster_picture(c)), png(lag_plot(c)), png(availability_plot(c))

    assert draw() == draw()


def test_standby_lag_plot_draws_one_line_per_standby_in_bytes_and_time():
    from types import SimpleNamespace as NS

    from replsim.ui.plots import standby_lag_plot

    samples = [
        NS(t=i / 10, row=NS(standby=name, lag_bytes=1024 * i * k, replay_lag=None if i == 0 else 0.001 * i))
        for i in range(5)
        for k, name in ((1, "standby-1"), (2, "standby-2"))
    ]
    fig = standby_lag_plot(samples)
    by_bytes, by_time = fig.axes
    assert [ln.get_label() for ln in by_bytes.get_lines()] == ["standby-1", "standby-2"]
    assert list(by_bytes.get_lines()[1].get_ydata()) == [0, 2, 4, 6, 8]  # kB
    assert np.isnan(by_time.get_lines()[0].get_ydata()[0])  # no replay_lag reported yet
    assert by_time.get_lines()[0].get_ydata()[4] == pytest.approx(4.0)  # ms
    assert by_bytes.get_lines()[0].get_color() != by_bytes.get_lines()[1].get_color()
    assert by_bytes.get_lines()[0].get_linestyle() != by_bytes.get_lines()[1].get_linestyle()
    assert by_bytes.get_ylabel() and by_time.get_xlabel() == "time since the burst began (s)"


def test_the_picture_and_the_table_of_a_past_moment_come_from_the_record():
    c = anchor()
    c.start_writes(rate=10)
    c.advance(2)
    c.partition(["Channel C"])
    c.crash("Channel B")
    c.advance(2)
    then = c.table(at=3.0)
    past = cluster_graph(c, at=3.0)
    c.heal()
    c.recover("Channel B")
    c.crash("Anchor")
    c.promote("Channel A")
    c.advance(3)
    assert c.table(at=3.0) == then  # asking later gives the same answer
    again = cluster_graph(c, at=3.0)
    assert dict(again.nodes(data=True)) == dict(past.nodes(data=True))
    assert again.nodes["Channel B"]["up"] is False and again.nodes["Anchor"]["role"] == "leader"
    assert again.edges["Anchor", "Channel C"]["link"] == "partitioned"
    assert network_faults(c, at=3.0) == "partition: {Channel C} | {Anchor, Channel A, Channel B}"
    assert network_faults(c) == ""
    assert "DOWN" in then.splitlines()[4] and then.startswith("t = 3.000 s")
    fig = cluster_picture(c, at=3.0)
    assert fig.axes[0].get_title(loc="left").startswith("t = 3.0 s")
    line = lag_plot(c, until=3.0).axes[0].get_lines()[0]
    assert line.get_xdata()[-1] == 3.0
    plt.close("all")


def test_availability_draws_acknowledged_writes_later_lost_apart():
    c = anchor()
    c.start_writes(rate=20, keys=["headline"])
    c.advance(2)
    for n in CHANNELS:
        c.cut("Anchor", n)  # nothing reaches the channels from t = 2 s
    c.advance(1)
    c.crash("Anchor")
    c.promote("Channel A")
    c.advance(1)
    ax = availability_plot(c).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["acknowledged", "acknowledged, then lost", "refused or unanswered", "none tried"]
    lost = [p for p in ax.patches if p.get_label() == "acknowledged, then lost" or p.get_hatch() == "xx"]
    heights = [round(p.get_height()) for p in lost]
    assert heights[2] == 100 and heights[0] == heights[1] == heights[3] == 0  # every write of 2-3 s lost
    c2 = anchor()
    c2.advance(1)
    assert "acknowledged, then lost" not in [
        t.get_text() for t in availability_plot(c2).axes[0].get_legend().get_texts()
    ]
