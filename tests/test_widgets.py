"""The control panel, driven from Python as a learner's clicks would drive it."""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

from replsim import Cluster
from replsim.errors import ConfigError, NodeStateError
from replsim.ui.panel import ACTIONS, ControlPanel, register_action

CHANNELS = ["Channel A", "Channel B", "Channel C"]


def anchor(**kw) -> Cluster:
    kw.setdefault("delay", 0.05)
    kw.setdefault("seed", 1)
    return Cluster(leader="Anchor", followers=CHANNELS, **kw)


@pytest.fixture
def panel() -> ControlPanel:
    return ControlPanel(anchor(), title="The news anchor")


def shown(widget) -> str:
    """The text a learner reads in an HTML widget: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", widget.value))


def descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from descendants(child)


# --- what the panel shows ----------------------------------------------------------
def test_default_panel_has_the_four_actions_with_clear_words_and_tooltips(panel):
    assert list(panel.buttons) == ["write", "crash", "recover", "advance"]
    assert [b.description for b in panel.buttons.values()] == ["Write", "Crash", "Recover", "Advance"]
    assert all(len(b.tooltip) > 15 for b in panel.buttons.values())
    # the look back is the view's scrub, in the browser: no slider of the panel's own
    assert set(panel.inputs) == {"write_key", "write_value", "write_node", "node", "seconds"}
    assert panel.inputs["write_node"].value == "Anchor"  # writes go to the leader unless changed
    assert panel.inputs["node"].value == "Channel A"
    assert isinstance(panel, widgets.VBox)


def test_panel_shows_status_message_the_live_view_and_a_png(panel):
    assert bytes(panel.image.value).startswith(b"\x89PNG")  # the lag plot
    assert [n["name"] for n in panel.view.places["nodes"]] == ["Anchor", *CHANNELS]
    assert panel.view.delta["seq"] == 0 and panel.view.delta["since"] == -1  # the whole past, once
    assert "t = 0.0 s" in shown(panel.status) and all(n in shown(panel.status) for n in ["Anchor", *CHANNELS])
    assert "Ready" in shown(panel.message)
    assert panel.last_error is None
    assert "The news anchor" in panel.children[0].value


def test_panel_uses_no_output_widget_and_leaks_no_pyplot_figure():
    before = plt.get_fignums()
    p = ControlPanel(anchor(), plots=("cluster", "lag", "availability"))
    p.buttons["write"].click()
    assert not any(isinstance(w, widgets.Output) for w in descendants(p))
    assert plt.get_fignums() == before


# --- actions -----------------------------------------------------------------------------
def test_write_on_the_leader_succeeds_and_redraws(panel):
    c = panel.cluster
    seq = panel.view.delta["seq"]
    panel.inputs["write_key"].value = "headline"
    panel.inputs["write_value"].value = "Thursday"
    panel.buttons["write"].click()
    assert c.nodes["Anchor"].lsn == 1 and c.read("headline") == "Thursday"
    assert "accepted headline = 'Thursday' at lsn 1" in shown(panel.message)
    assert "Refused" not in shown(panel.message) and panel.last_error is None
    delta = panel.view.delta
    assert delta["seq"] == seq + 1 and delta["since"] == 0 and delta["now"] == 0
    assert delta["ops"] == [[0, 0, 0, 0, 0, 0, 1, 1]]  # at t = 0, done at once, by the client at Anchor: ok
    assert delta["nodes"] == {"Anchor": {"pos": [[0, 1]], "epochs": [[0, 1, 1]]}}
    assert [cl["name"] for cl in panel.view.places["clients"]] == ["client at Anchor"]


def test_write_to_a_follower_is_refused_like_postgresql(panel):
    c = panel.cluster
    panel.inputs["write_node"].value = "Channel B"
    panel.buttons["write"].click()  # must not raise
    assert "Refused:" in shown(panel.message) and "read-only" in shown(panel.message)
    assert "cannot execute INSERT in a read-only transaction" in panel.last_error
    assert c.nodes["Anchor"].lsn == 0 and c.nodes["Channel B"].lsn == 0


def test_an_empty_key_is_refused(panel):
    panel.inputs["write_key"].value = "  "
    panel.buttons["write"].click()
    assert "Refused: type a key" in shown(panel.message)
    assert panel.cluster.nodes["Anchor"].lsn == 0


def test_crash_then_crash_again_is_refused(panel):
    panel.inputs["node"].value = "Channel B"
    panel.buttons["crash"].click()
    assert not panel.cluster.nodes["Channel B"].up
    assert "Channel B crashed" in shown(panel.message) and panel.last_error is None
    assert "DOWN" in shown(panel.status)
    panel.buttons["crash"].click()
    assert "Refused:" in shown(panel.message) and "already down" in panel.last_error


def test_crashing_the_leader_warns_that_writes_stop(panel):
    panel.inputs["node"].value = "Anchor"
    panel.buttons["crash"].click()
    assert "no new writes" in shown(panel.message)
    panel.buttons["write"].click()
    assert "Refused:" in shown(panel.message) and "down" in panel.last_error


def test_advance_moves_virtual_time_by_the_slider_value(panel):
    panel.inputs["seconds"].value = 2.5
    panel.buttons["advance"].click()
    assert panel.cluster.now == pytest.approx(2.5)
    panel.buttons["advance"].click()
    assert panel.cluster.now == pytest.approx(5.0)
    assert "t = 5.0 s" in shown(panel.status) and "t = 5.0 s" in shown(panel.message)


def test_recover_then_advance_catches_the_follower_up():
    c = anchor()
    c.start_writes(rate=5, keys=["headline"])
    p = ControlPanel(c)
    p.inputs["node"].value = "Channel C"
    p.buttons["crash"].click()
    p.inputs["seconds"].value = 4.0
    p.buttons["advance"].click()
    assert c.lag()["Channel C"] == 20
    p.buttons["recover"].click()
    assert "Channel C restarted as follower" in shown(p.message) and "20 entries behind" in shown(p.message)
    p.inputs["seconds"].value = 0.2
    p.buttons["advance"].click()
    assert c.lag()["Channel C"] <= 1
    p.buttons["recover"].click()
    assert "Refused:" in shown(p.message) and "not down" in p.last_error


def test_a_success_clears_the_last_error(panel):
    panel.buttons["recover"].click()
    assert panel.last_error is not None
    panel.buttons["advance"].click()
    assert panel.last_error is None and "Refused" not in shown(panel.message)


# --- never raising -----------------------------------------------------------------------------
def test_an_unexpected_error_is_shown_not_raised(panel, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(panel.cluster, "write", broken)
    panel.buttons["write"].click()
    assert "Unexpected error: RuntimeError: disk on fire" in shown(panel.message)
    assert panel.last_error == "RuntimeError: disk on fire"


def test_a_failing_plot_is_reported_not_raised():
    def bad_plot(cluster, ax):
        raise ValueError("cannot draw")

    p = ControlPanel(anchor(), plots=("cluster", bad_plot))
    assert "Unexpected error while drawing: ValueError: cannot draw" in shown(p.message)
    p.buttons["advance"].click()  # still no exception
    assert p.cluster.now == pytest.approx(1.0)
    assert "cannot draw" in p.last_error


def test_errors_are_styled_and_escaped(panel):
    panel.inputs["write_node"].value = "Channel A"
    panel.inputs["write_key"].value = "<b>"
    panel.buttons["write"].click()
    assert "role='alert'" in panel.message.value and "Channel A is a follower" in shown(panel.message)
    panel.inputs["write_node"].value = "Anchor"
    panel.buttons["write"].click()
    assert "accepted &lt;b&gt; = " in panel.message.value  # what the learner typed is HTML-escaped


# --- more actions and extending -------------------------------------------------------------------
def test_failover_actions_promote_partition_and_heal():
    c = anchor()
    p = ControlPanel(c, actions=("write", "crash", "recover", "promote", "partition", "heal", "advance"))
    assert ["crash", "recover", "promote", "partition", "heal"] == [
        k for k in p.buttons if k in ("crash", "recover", "promote", "partition", "heal")
    ]
    p.inputs["node"].value = "Anchor"
    p.buttons["crash"].click()
    p.inputs["node"].value = "Channel A"
    p.buttons["promote"].click()
    assert c.leader == "Channel A" and "now leads epoch 2" in shown(p.message)
    assert p.inputs["write_node"].value == "Channel A"  # the write box follows the new leader
    p.buttons["write"].click()
    assert p.last_error is None and c.nodes["Channel A"].lsn == 1
    p.inputs["node"].value = "Channel C"
    p.buttons["partition"].click()
    assert c.network.faulty and "Channel C cannot reach" in shown(p.message)
    assert "network: partition: {Channel C} | {Anchor, Channel A, Channel B}" in shown(p.status)
    p.buttons["partition"].click()
    assert "Refused:" in shown(p.message) and "already partitioned" in p.last_error
    p.buttons["heal"].click()
    assert not c.network.faulty and p.last_error is None


def test_the_fault_buttons_share_one_node_dropdown():
    p = ControlPanel(anchor(), actions=("crash", "recover", "promote"), timeline=False)
    (row,) = [w for w in p.children if isinstance(w, widgets.VBox)][0].children
    assert sum(isinstance(w, widgets.Dropdown) for w in row.children) == 1
    assert [w.description for w in row.children if isinstance(w, widgets.Button)] == [
        "Crash",
        "Recover",
        "Promote",
    ]


def test_the_write_rate_slider_starts_and_stops_a_client():
    c = anchor()
    p = ControlPanel(c, actions=("rate", "advance"))
    p.inputs["rate"].value = 5.0
    assert "5 times a second" in shown(p.message)
    p.inputs["seconds"].value = 2.0
    p.buttons["advance"].click()
    assert c.nodes["Anchor"].lsn == 11  # at t = 0, 0.2, ..., 2.0
    p.inputs["rate"].value = 0.0
    assert "stopped" in shown(p.message)
    p.buttons["advance"].click()
    assert c.nodes["Anchor"].lsn == 11


def test_add_action_adds_a_button_that_runs_safely(panel):
    delay = widgets.FloatText(value=0.5, description="delay")

    def slow_links() -> str:
        for n in CHANNELS:
            panel.cluster.set_link("Anchor", n, delay=delay.value)
        return f"links now take {delay.value} s"

    panel.add_action("slow", slow_links, inputs={"delay": delay}, button=widgets.Button(description="Slow"))
    panel.buttons["slow"].click()
    assert shown(panel.message).count("links now take 0.5 s") == 1
    assert panel.cluster.network.link("Anchor", "Channel A").delay == 0.5
    delay.value = -1.0
    panel.buttons["slow"].click()
    assert "Refused:" in shown(panel.message) and "delay" in panel.last_error
    with pytest.raises(ConfigError, match="already has an action"):
        panel.add_action("slow", slow_links)


def test_a_registered_builder_is_available_by_name():
    @register_action("noop-test")
    def _build(panel: ControlPanel) -> None:
        panel.add_action(
            "noop-test", lambda: "nothing happened", button=widgets.Button(description="Nothing")
        )

    try:
        p = ControlPanel(anchor(), actions=("advance", "noop-test"))
        p.buttons["noop-test"].click()
        assert "nothing happened" in shown(p.message)
    finally:
        del ACTIONS["noop-test"]


def test_a_subclass_can_bring_its_own_actions():
    def build_stepdown(panel: ControlPanel) -> None:
        def refuse() -> str:
            raise NodeStateError("no elections in this lesson")

        panel.add_action("elect", refuse, button=widgets.Button(description="Elect"))

    class LessonPanel(ControlPanel):
        action_builders = {**ACTIONS, "elect": build_stepdown}

    p = LessonPanel(anchor(), actions=("write", "elect"))
    p.buttons["elect"].click()
    assert "Refused: no elections in this lesson" in shown(p.message)


def test_unknown_action_or_plot_names_are_explained():
    with pytest.raises(ConfigError, match="unknown action 'explode'.*advance"):
        ControlPanel(anchor(), actions=("explode",))
    with pytest.raises(ConfigError, match="unknown plot 'pie'.*cluster"):
        ControlPanel(anchor(), plots=("pie",))


def test_panel_images_are_deterministic():
    def session() -> bytes:
        p = ControlPanel(anchor())
        p.buttons["write"].click()
        p.buttons["crash"].click()
        p.buttons["advance"].click()
        return bytes(p.image.value)

    assert session() == session()


def test_repr_is_a_hint_where_the_panel_cannot_be_drawn(panel):
    # what a notebook shows instead of the widget (before the cell runs): a hint, not a Python repr
    assert repr(panel) == "Control panel: run this cell to start the panel"
    assert panel._repr_mimebundle_()["text/plain"] == repr(panel)


def test_an_action_name_can_be_used_once_even_without_a_button():
    p = ControlPanel(anchor(), actions=("rate",), timeline=False)
    assert p.actions == ["rate"] and p.buttons == {}
    with pytest.raises(ConfigError, match="already has an action called 'rate'"):
        p.add_action("rate", lambda: None)


def test_scrubbing_the_view_shows_a_past_moment_from_the_record_and_actions_return_to_now():
    c = Cluster(leader="Anchor", followers=CHANNELS, delay=0.05, seed=1)
    p = ControlPanel(c)
    c.start_writes(rate=10)
    c.advance(2)
    p.buttons["crash"].click()  # Channel A by default
    c.advance(2)
    p.refresh()
    assert p.view.delta["now"] == 4_000_000 and p.at is None
    now_png = p.image.value
    p.view.cursor = 1.0  # what the browser sets when the learner scrubs to t = 1 s and lets go
    assert p.at == 1.0 and "looking back" in shown(p.status) and "t = 1.0 s" in shown(p.status)
    assert "DOWN" not in shown(p.status)  # Channel A was still up at t = 1
    assert p.image.value != now_png and "Looking back at t = 1.0 s" in shown(p.message)
    assert c.now == 4.0  # nothing ran
    p.view.cursor = -1.0  # "Now"
    assert p.at is None and "DOWN" in shown(p.status) and "Showing now: t = 4.0 s" in shown(p.message)
    p.view.cursor = 2.5
    p.buttons["advance"].click()  # an action shows now again
    assert p.at is None and p.view.cursor == -1.0 and p.last_error is None and "t = 5.0 s" in shown(p.status)


def test_without_a_view_the_look_back_is_a_slider():
    c = Cluster(leader="Anchor", followers=CHANNELS, delay=0.05, seed=1)
    p = ControlPanel(c, plots=("lag",))
    assert p.view is None
    c.advance(4)
    p.refresh()
    slider = p.inputs["look back"]
    assert slider.max == 4.0 and slider.value == 4.0
    slider.value = 1.0
    assert p.at == 1.0 and "t = 1.0 s (looking back)" in shown(p.status)
    p.buttons["now"].click()
    assert p.at is None and slider.value == 4.0


def test_bad_settings_of_the_view_are_said_in_the_message_line_and_undone(panel):
    panel.buttons["advance"].click()
    speed = panel.view.speed
    panel.view.speed = 0
    assert "Refused: speed must be" in shown(panel.message) and "above 0" in shown(panel.message)
    assert panel.view.speed == speed
    panel.view.speed = -2.0
    assert "got -2.0" in shown(panel.message) and panel.view.speed == speed
    panel.view.cursor = 7.0  # after now (t = 1 s)
    assert "Refused: cannot show t = 7 s: pick a moment from 0 to now (t = 1 s)" in shown(panel.message)
    assert panel.view.cursor == -1.0 and panel.at is None
    panel.view.selected = "Channel Z"
    assert "there is no node called Channel Z; the nodes are Anchor, Channel A" in shown(panel.message)
    assert panel.view.selected == ""
    panel.view.selected = "Channel C"  # a node clicked in the picture: the node chooser follows
    assert panel.inputs["node"].value == "Channel C" and panel.last_error is None


def test_the_status_is_drawn_before_the_message_line_changes(panel):
    """A browser waiting for the message line must find the status already updated (issue 16)."""
    seen = []
    panel.message.observe(lambda change: seen.append(shown(panel.status)), names="value")
    panel.buttons["advance"].click()
    assert seen and "t = 1.0 s" in seen[-1]
    panel.view.cursor = 0.5
    panel.view.cursor = -1.0
    assert "looking back" not in seen[-1] and "t = 1.0 s" in seen[-1]


def test_an_action_name_is_registered_once():
    with pytest.raises(
        ConfigError,
        match="the panel action .crash. is already replsim.ui.actions._build_crash",
    ):

        @register_action("crash")
        def _another_crash(panel):
            pass

    assert ACTIONS["crash"].__name__ == "_build_crash"


def test_refusals_say_what_to_click_not_what_to_call(panel):
    panel.inputs["node"].value = "Channel B"
    panel.buttons["crash"].click()
    panel.buttons["crash"].click()
    assert "Recover Channel B to bring it back" in shown(panel.message)
    assert "recover(" in panel.last_error  # the simulator's own words stay, for Python users
    p = ControlPanel(anchor(), actions=("partition", "heal"))
    p.buttons["partition"].click()
    p.buttons["partition"].click()
    assert "click Heal first" in shown(p.message) and "heal()" not in shown(p.message)


def test_counts_and_times_read_well():
    from replsim.ui.words import plural, seconds

    assert [plural(n, "entry", "entries") for n in (0, 1, 2)] == ["0 entries", "1 entry", "2 entries"]
    assert [seconds(t) for t in (0.0, 3.0, 0.15, 0.005, 12.25)] == [
        "0.0 s",
        "3.0 s",
        "0.15 s",
        "0.005 s",
        "12.25 s",
    ]
    c = anchor()
    c.start_writes(rate=5, keys=["headline"])
    p = ControlPanel(c)
    p.inputs["node"].value = "Channel C"
    p.buttons["crash"].click()
    p.inputs["seconds"].value = 0.1  # one write, at t = 0
    p.buttons["advance"].click()
    p.buttons["recover"].click()
    assert "1 entry behind; it asks its leader for it" in shown(p.message)
