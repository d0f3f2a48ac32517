"""The views lessons 5 and 6 use: the message timeline, a key's value per node, and panels with notes."""

from __future__ import annotations

import html
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from replsim import Cluster  # noqa: E402
from replsim.course.split_brain import EAST, WEST, split_brain  # noqa: E402
from replsim.errors import ConfigError  # noqa: E402
from replsim.node.sender import send_in_batches  # noqa: E402
from replsim.ui import ControlPanel  # noqa: E402
from replsim.ui.plots import swimlane_plot, value_plot  # noqa: E402


def shown(widget) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", widget.value))


@pytest.fixture
def election():
    c = split_brain("quorum")
    c.run(until=5.0)
    c.partition(EAST, WEST)
    c.run(until=5.4)
    return c


# --- the message timeline -------------------------------------------------------------------
def test_a_swimlane_has_a_lane_per_node_and_an_arrow_per_message(election):
    fig = swimlane_plot(election, 5.18, 5.22, kinds=("vote", "voted"))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["east", "west-1", "west-2"]
    msgs = [m for m in election.network.messages if 5.18 <= m.sent <= 5.22 and m.kind in ("vote", "voted")]
    assert len(ax.texts) >= len(msgs) == 3  # two vote requests (one lost), one answer
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(msgs)
    labels = {t.get_text() for t in ax.texts}
    assert {"vote t2", "voted t2 yes", "vote t2 (partitioned)"} <= labels
    crosses = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(crosses) == sum(m.lost for m in msgs) == 1  # the vote request to east never arrived
    assert "leader t2" in labels and "candidate t2" in labels  # the lanes mark the election
    plt.close(fig)


def test_a_swimlane_checks_its_window_and_lanes(election):
    with pytest.raises(ConfigError, match="start must be a time before end"):
        swimlane_plot(election, 5.3, 5.2)
    with pytest.raises(ConfigError, match="unknown lane 'nobody'"):
        swimlane_plot(election, 5.0, 5.2, lanes=["east", "nobody"])
    fig = swimlane_plot(election, 5.0, 5.4, lanes=["west-2", "app-west"])  # a client can have a lane
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["west-2", "app-west"]
    plt.close(fig)


# --- a key's value on each node -----------------------------------------------------------
def test_value_plot_shows_the_two_values_of_a_split_brain():
    c = split_brain("naive")
    c.run(until=5.0)
    c.partition(EAST, WEST)
    c.run(until=8.0)
    c.write("seat", "Alice", node="east")
    c.run(until=9.0)
    c.write("seat", "Bob", node="west-1")
    c.run(until=10.0)
    fig = value_plot(c, "seat")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["(none)", "Alice", "Bob"]
    lines = {ln.get_label(): ln for ln in ax.lines if ln.get_label() in c.names}
    assert round(lines["east"].get_ydata()[-1]) == 1 and round(lines["west-1"].get_ydata()[-1]) == 2
    plt.close(fig)
    fig = value_plot(c, "east-orders")  # numbers: a numeric axis
    assert np.nanmax(fig.axes[0].lines[0].get_ydata()) > 40
    plt.close(fig)


# --- panels ---------------------------------------------------------------------------------
def test_lesson_5s_panel_counts_lost_and_discarded_writes_as_they_happen():
    c = Cluster(leader="Anchor", followers=["Channel A", "Channel B"], delay=0.05, seed=5)
    send_in_batches(c)
    c.start_writes(rate=4, keys=["score"], name="sports desk")
    panel = ControlPanel(
        c, actions=("crash", "promote running", "rejoin", "recover", "advance"), notes=("lost", "discarded")
    )
    assert "leader (Anchor) does not hold: 0" in shown(panel.status)
    panel.inputs["seconds"].value = 5.0
    panel.buttons["advance"].click()
    panel.inputs["node"].value = "Anchor"
    panel.buttons["crash"].click()
    panel.inputs["node"].value = "Channel A"
    panel.buttons["promote running"].click()
    assert panel.last_error is None and "Anchor could not be reached" in shown(panel.message)
    assert "leader (Channel A) does not hold: 1 (sports desk: 1)" in shown(panel.status)
    panel.inputs["node"].value = "Anchor"
    panel.buttons["recover"].click()
    panel.buttons["advance"].click()
    assert panel.cluster.node("Anchor").role == "follower" and panel.cluster.node("Anchor").leader is None
    assert "discarded by rollbacks: 0" in shown(panel.status)  # fenced, but it still holds its entries
    panel.buttons["rejoin"].click()
    assert "follows Channel A again" in shown(panel.message)
    panel.buttons["advance"].click()
    assert "discarded by rollbacks: 1 (Anchor: 1)" in shown(panel.status)


def test_lesson_6s_panel_partitions_groups_flags_a_split_brain_and_switches_design():
    panel = ControlPanel(
        split_brain("naive"),
        actions=("split", "heal", "design", "advance"),
        plots=("cluster",),
        notes=("split brain",),
    )
    assert "One leader at a time" in shown(panel.status)
    panel.inputs["side"].value = ("east",)
    panel.buttons["split"].click()
    assert "east, app-east | west-1, west-2, app-west" in shown(panel.message)  # clients go with their node
    panel.inputs["seconds"].value = 3.0
    panel.buttons["advance"].click()
    assert "SPLIT BRAIN: two leaders at once, in different epochs: east (epoch 1), west-1 (epoch 2)" in shown(
        panel.status
    )
    panel.inputs["design"].value = "quorum"
    assert panel.last_error is None and panel.cluster.failover.design == "quorum" and panel.cluster.now == 0
    assert panel.inputs["design"].value == "quorum"
    assert set(panel.buttons) == {"split", "heal", "advance"}
    panel.inputs["side"].value = ("east",)
    panel.buttons["split"].click()
    panel.inputs["seconds"].value = 3.0
    panel.buttons["advance"].click()
    assert "never two in one epoch" in shown(panel.status) and panel.cluster.leader == "west-2"
    panel.inputs["side"].value = ()
    panel.buttons["split"].click()
    assert "Refused" in shown(panel.message) and "pick the nodes" in panel.last_error


def test_panels_refuse_unknown_notes():
    with pytest.raises(ConfigError, match="unknown note 'weather'"):
        ControlPanel(Cluster(), notes=("weather",))
