"""Lesson 8's PgPanel, clicked against a real PostgreSQL primary and two standbys."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator

import pytest
from conftest import require

import replsim.lab.postgres as rpg
from replsim.ui import PgPanel

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def pg() -> Iterator[rpg.PgCluster]:
    reason = rpg.unavailable_reason()
    require(reason is None, reason or "")
    with rpg.PgCluster(standbys=2) as cluster:
        cluster.write("primary", range(1, 101))  # the lesson's own keys: the panel must not touch them
        yield cluster


def table(panel: PgPanel) -> dict[str, list[str]]:
    """The panel's table as {server: [role, rows in kv, replay lag]}."""
    rows = re.findall(r"<tr>(.*?)</tr>", panel.table.value)
    cells = [[html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)] for r in rows]
    assert cells[0] == ["server", "role", "rows in kv", "replay lag (bytes)"]
    return {c[0]: c[1:] for c in cells[1:]}


def message(panel: PgPanel) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", panel.message.value))


def refresh_until(panel: PgPanel, done, timeout: float = 15.0) -> dict[str, list[str]]:
    """Click Refresh until done(table) holds (a standby reports its replay position once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        panel.buttons["refresh"].click()
        assert panel.last_error is None and message(panel).startswith("Refreshed")
        if done(table(panel)) or time.monotonic() > deadline:
            return table(panel)
        time.sleep(0.1)


def test_making_a_panel_writes_nothing_and_shows_every_server(pg: rpg.PgCluster) -> None:
    before = {name: pg.read(name) for name in pg.servers}
    panel = PgPanel(pg)
    assert panel.last_error is None and message(panel).startswith("Ready")
    assert set(panel.buttons) == {"write", "refresh", "pause", "resume"}
    assert set(panel.inputs) == {"server", "rows"}
    assert list(panel.inputs["server"].options) == ["primary", "standby-1", "standby-2"]
    assert panel.inputs["rows"].value == 10
    assert (panel.inputs["rows"].min, panel.inputs["rows"].max) == (1, 1000)
    assert {name: pg.read(name) for name in pg.servers} == before
    shown = table(panel)
    assert list(shown) == ["primary", "standby-1", "standby-2"]
    assert shown["primary"][:2] == ["primary", str(len(before["primary"]))]
    assert shown["primary"][2] == "-" and [shown[s][0] for s in ("standby-1", "standby-2")] == ["standby"] * 2


def test_rows_written_on_the_primary_reach_the_standbys(pg: rpg.PgCluster) -> None:
    panel = PgPanel(pg)
    count = len(pg.read("primary"))
    panel.inputs["server"].value, panel.inputs["rows"].value = "primary", 25
    panel.buttons["write"].click()
    assert panel.last_error is None
    assert message(panel) == "primary acknowledged 25 new rows (keys 10000 to 10024)."
    assert table(panel)["primary"][1] == str(count + 25)
    for name in ("standby-1", "standby-2"):
        pg.wait_caught_up(name)
    shown = refresh_until(panel, lambda t: t["standby-1"][2] == t["standby-2"][2] == "0")
    assert [shown[s] for s in ("standby-1", "standby-2")] == [["standby", str(count + 25), "0"]] * 2
    assert set(pg.read("primary")) - set(range(1, 101)) == set(range(10_000, 10_025))
    panel.inputs["rows"].value = 2
    panel.buttons["write"].click()  # the next click takes the next keys
    assert message(panel) == "primary acknowledged 2 new rows (keys 10025 to 10026)."
    assert pg.read("primary")[1] == "v"  # the lesson's rows are untouched


def test_a_standby_refuses_and_the_panel_says_so(pg: rpg.PgCluster) -> None:
    panel = PgPanel(pg)
    before = pg.read("standby-1")
    panel.inputs["server"].value = "standby-1"
    panel.buttons["write"].click()  # must not raise
    text = message(panel)
    assert text == "Refused: cannot execute INSERT in a read-only transaction (SQLSTATE 25006)"
    assert "read-only" in panel.last_error and "25006" in panel.last_error
    assert "alert" in panel.message.value
    assert pg.read("standby-1") == before
    panel.buttons["refresh"].click()
    assert panel.last_error is None


def test_a_stopped_server_shows_an_error_instead_of_raising(pg: rpg.PgCluster) -> None:
    panel = PgPanel(pg)
    pg.stop("standby-2")
    try:
        panel.buttons["refresh"].click()
        assert "standby-2 is not running" in message(panel) and message(panel).startswith("Refused")
        assert panel.last_error and "recover('standby-2')" in panel.last_error
        shown = table(panel)
        assert shown["standby-2"] == ["down", "-", "-"] and shown["primary"][0] == "primary"
        panel.inputs["server"].value = "standby-2"
        panel.buttons["write"].click()
        assert message(panel).startswith("Refused: standby-2 is not running")
    finally:
        pg.recover("standby-2")
    pg.wait_caught_up("standby-2")
    panel.buttons["refresh"].click()
    assert panel.last_error is None and table(panel)["standby-2"][0] == "standby"


def test_an_unexpected_failure_is_shown_not_raised(
    pg: rpg.PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = PgPanel(pg)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the network cable is out")

    monkeypatch.setattr(pg, "write", broken)
    panel.buttons["write"].click()
    assert message(panel) == "Unexpected error: RuntimeError: the network cable is out"
    assert panel.last_error == "RuntimeError: the network cable is out"


def test_a_thousand_rows_show_their_progress_then_the_total(pg: rpg.PgCluster) -> None:
    panel = PgPanel(pg)
    shown: list[str] = []
    panel.message.observe(
        lambda change: shown.append(html.unescape(re.sub(r"<[^>]+>", "", change.new))), "value"
    )
    panel.inputs["server"].value, panel.inputs["rows"].value = "primary", 250
    panel.buttons["write"].click()
    assert panel.last_error is None
    progress = [t for t in shown if t.startswith("Writing rows on primary")]
    assert progress == [f"Writing rows on primary: {n} of 250 acknowledged so far..." for n in (0, 100, 200)]
    assert re.fullmatch(r"primary acknowledged 250 new rows \(keys \d+ to \d+\)\.", message(panel))


def test_pausing_replay_makes_the_lag_grow_and_resuming_makes_it_fall(pg: rpg.PgCluster) -> None:
    panel = PgPanel(pg)
    for name in ("standby-1", "standby-2"):
        pg.wait_caught_up(name)
    panel.inputs["server"].value = "standby-2"
    panel.buttons["pause"].click()
    try:
        assert panel.last_error is None and "replays none" in message(panel)
        assert pg.replay_paused("standby-2") and not pg.replay_paused("standby-1")
        behind = len(pg.read("standby-2"))
        panel.inputs["server"].value, panel.inputs["rows"].value = "primary", 50
        panel.buttons["write"].click()
        shown = refresh_until(
            panel, lambda t: t["standby-1"][2] == "0" and t["standby-2"][2] not in ("0", "-")
        )
        assert int(shown["standby-2"][2].replace(",", "")) > 0 and shown["standby-2"][1] == str(behind)
        assert shown["standby-1"][1] == shown["primary"][1]
    finally:
        panel.inputs["server"].value = "standby-2"
        panel.buttons["resume"].click()
    assert panel.last_error is None and "replays again" in message(panel)
    shown = refresh_until(panel, lambda t: t["standby-2"][2] == "0" and t["standby-2"][1] == t["primary"][1])
    assert shown["standby-2"][1] == shown["primary"][1]
    panel.inputs["server"].value = "primary"
    panel.buttons["pause"].click()
    assert message(panel) == "Refused: primary is a primary now: pick a standby to pause its replay"
    panel.buttons["resume"].click()  # a different refusal: a learner sees the click did something
    assert message(panel) == "Refused: primary is a primary now: pick a standby to resume its replay"


def test_stop_then_restart_the_lab_from_the_panel(pg: rpg.PgCluster) -> None:
    """Last in this file: it replaces the module's servers by fresh ones."""
    panel = PgPanel(pg, lab_controls=True)
    assert list(panel.buttons) == ["write", "refresh", "pause", "resume", "restart", "close"]
    panel.buttons["close"].click()
    assert panel.last_error is None and message(panel).startswith("Every server is stopped")
    assert "stopped" in panel.table.value and pg.running_processes() == [] and pg.listeners() == []
    panel.buttons["write"].click()
    assert "Restart lab" in message(panel) and message(panel).startswith("Refused")
    panel.buttons["restart"].click()
    assert panel.last_error is None and message(panel).startswith("A fresh lab")
    assert list(panel.inputs["server"].options) == ["primary", "standby-1", "standby-2"]
    assert pg.read("primary") == {} and table(panel)["primary"][1] == "0"
    panel.inputs["server"].value, panel.inputs["rows"].value = "primary", 3
    panel.buttons["write"].click()
    assert message(panel) == "primary acknowledged 3 new rows (keys 10000 to 10002)."
