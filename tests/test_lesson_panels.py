"""The panels of lessons 2 and 3, driven from Python as a learner's clicks would drive them."""

import html
import re

import pytest

from replsim import Cluster
from replsim.course.methods import ship
from replsim.course.shop import SHOP_DAY
from replsim.ui import ControlPanel

CHEFS = ["Sous chef A", "Sous chef B"]
LESSON2 = ("add follower", "crash", "recover", "spread reads", "advance")
LESSON3 = ("sql", "crash", "recover", "advance")


def shown(widget) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", widget.value))


@pytest.fixture
def kitchen_panel():
    c = Cluster("Head chef", CHEFS, delay=0.010, read_time=0.004, seed=2)
    c.start_writes(rate=5, keys=["soup", "bread"])
    return ControlPanel(c, actions=LESSON2, plots=("cluster", "load"))


@pytest.fixture
def shop_panel():
    return ControlPanel(
        ship([SHOP_DAY[0][1]], "statement").cluster, actions=LESSON3, plots=("cluster", "divergent rows")
    )


def test_every_button_of_both_panels_works_clicked_in_order(kitchen_panel, shop_panel):
    """What the browser test does: each click changes the message line, and never to an unexpected error."""
    for panel in (kitchen_panel, shop_panel):
        before = shown(panel.message)
        for name, button in panel.buttons.items():
            button.click()
            after = shown(panel.message)
            assert after != before, name
            assert "Unexpected error" not in after, (name, after)
            before = after


def test_add_follower_offers_it_in_the_node_chooser_and_it_catches_up(kitchen_panel):
    p, c = kitchen_panel, kitchen_panel.cluster
    assert p.inputs["new_name"].value == "Sous chef C"
    p.inputs["node"].value = "Sous chef B"
    p.buttons["advance"].click()
    p.buttons["add follower"].click()
    assert "Sous chef C joins" in shown(p.message) and "snapshot" in shown(p.message)
    assert "Sous chef C" in p.inputs["node"].options and p.inputs["node"].value == "Sous chef B"
    assert p.inputs["new_name"].value == "Sous chef D"
    p.buttons["advance"].click()
    assert c.node("Sous chef C").log.base > 0 and c.lag()["Sous chef C"] <= 1
    p.inputs["new_name"].value = "Head chef"
    p.buttons["add follower"].click()
    assert "Refused:" in shown(p.message) and "taken" in p.last_error


def test_spread_reads_shares_the_load_and_skips_followers_that_are_down(kitchen_panel):
    p, c = kitchen_panel, kitchen_panel.cluster
    p.inputs["read_followers"].value = 0
    p.buttons["spread reads"].click()
    p.buttons["advance"].click()
    assert busy(c, "Head chef") == pytest.approx(0.8, abs=0.1)
    p.inputs["read_followers"].value = 2
    p.buttons["spread reads"].click()
    assert "Head chef, Sous chef A, Sous chef B" in shown(p.message)
    p.buttons["advance"].click()
    assert all(busy(c, n) == pytest.approx(0.27, abs=0.07) for n in c.names)
    p.inputs["node"].value = "Sous chef A"
    p.buttons["crash"].click()
    p.buttons["spread reads"].click()
    assert "Head chef, Sous chef B:" in shown(p.message)


def busy(c, node):
    from replsim.course.readers import busy_share

    return busy_share(c.history, node, c.now - 1.0, c.now)


def test_run_sql_ships_it_and_the_plot_counts_divergent_rows(shop_panel):
    p, c = shop_panel, shop_panel.cluster
    p.buttons["sql"].click()
    assert "logged the statement, 89 bytes to ship" in shown(p.message) and p.last_error is None
    p.buttons["advance"].click()
    assert {f: len(c.divergence(["primary", f])) for f in ("replica-1", "replica-2")} == {
        "replica-1": 1,
        "replica-2": 1,
    }
    lsn = c.node("primary").lsn
    p.inputs["sql"].value = "DELETE FROM items LIMIT 2"
    p.buttons["sql"].click()
    assert "Refused:" in shown(p.message) and "syntax error" in p.last_error
    assert c.node("primary").lsn == lsn
    p.inputs["sql"].value = "  "
    p.buttons["sql"].click()
    assert "type a statement" in p.last_error


def test_the_panels_draw_deterministically():
    def session():
        c = Cluster("Head chef", CHEFS, delay=0.010, read_time=0.004, seed=2)
        p = ControlPanel(c, actions=LESSON2, plots=("cluster", "load"))
        p.buttons["spread reads"].click()
        p.buttons["advance"].click()
        return bytes(p.image.value)

    assert session() == session()
