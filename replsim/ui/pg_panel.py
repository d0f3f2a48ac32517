"""Lesson 8's panel: write rows on a real PostgreSQL server and watch them reach the others."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..errors import NodeStateError, ReplsimError
from .panel import ControlPanel, _button


# --- lesson 8: a panel for the real PostgreSQL lab ---------------------------
class PgPanel(widgets.VBox):
    """Write rows on a real PostgreSQL server and watch them reach the others (lesson 8's lab).

    ``pg`` is a started ``replsim.lab.postgres.PgCluster``. Besides writing and refreshing, the panel
    pauses and resumes a standby's replay (lag that moves). With ``lab_controls`` it can also stop the
    whole lab or restart a fresh one: the servers stay up until the learner stops them. Nothing is
    written until "Write rows" is clicked; its keys start at :attr:`FIRST_KEY`, far above the lesson's
    own. Like ControlPanel, an action never raises: a refusal shows as "Refused: ...", anything else
    as "Unexpected error: ...".
    """

    FIRST_KEY = 10_000
    CHUNK = 100  # rows written between two progress messages
    _show = ControlPanel._show  # the same message line

    def __init__(self, pg: Any, lab_controls: bool = False) -> None:
        super().__init__()
        self.pg = pg
        self.last_error: str | None = None
        names = list(pg.servers)
        look = {"layout": widgets.Layout(width="190px"), "style": {"description_width": "50px"}}
        self.inputs: dict[str, widgets.Widget] = {
            "server": widgets.Dropdown(options=names, value=names[0], description="server", **look),
            "rows": widgets.BoundedIntText(value=10, min=1, max=1000, description="rows", **look),
        }
        self.buttons = {
            "write": _button("Write rows", "Write that many new rows on the chosen server", "primary"),
            "refresh": _button("Refresh", "Count the rows on every server, and each standby's lag"),
            "pause": _button("Pause replay", "The chosen standby keeps receiving WAL but applies none"),
            "resume": _button("Resume replay", "The chosen standby applies what it received"),
        }
        if lab_controls:  # stopping and restarting the whole lab: a separate panel, at the end of the lab
            self.buttons["restart"] = _button("Restart lab", "Stop every server and start a fresh set")
            self.buttons["close"] = _button("Stop lab", "Stop every server and remove its files", "danger")
        actions = {
            "write": self._write,
            "refresh": lambda: "",
            "pause": self._pause,
            "resume": self._resume,
            "restart": self._restart,
            "close": self._close,
        }
        for name, button in self.buttons.items():
            button.on_click(lambda _b, act=actions[name]: self.run(act))
        self.message, self.table = widgets.HTML(), widgets.HTML()
        buttons = list(self.buttons.values())
        self.children = [
            widgets.HBox([*self.inputs.values(), *buttons[:2]]),
            widgets.HBox(buttons[2:]),
            self.message,
            self.table,
        ]
        self.run(lambda: "Ready: pick a server and write rows on it, or refresh.")

    def _progress(self, text: str) -> None:
        """Show a step of a long action at once (the browser draws it while the kernel keeps working)."""
        self._show(text, kind="")

    def _write(self) -> str:
        name, n = self.inputs["server"].value, int(self.inputs["rows"].value)
        start = max([self.FIRST_KEY - 1, *self.pg.read(name)]) + 1  # new keys, even after another panel
        keys: list[int] = []
        for first in range(start, start + n, self.CHUNK):
            if n > self.CHUNK:
                self._progress(f"Writing rows on {name}: {len(keys)} of {n} acknowledged so far...")
            keys += self.pg.write(name, range(first, min(first + self.CHUNK, start + n)), "panel")
        return f"{name} acknowledged {len(keys)} new rows (keys {keys[0]} to {keys[-1]})."

    def _standby(self, what: str) -> str:
        name = self.inputs["server"].value
        if not self.pg.in_recovery(name):
            raise NodeStateError(f"{name} is a primary now: pick a standby to {what} its replay")
        return name

    def _pause(self) -> str:
        name = self._standby("pause")
        self.pg.pause_replay(name)
        return (
            f"{name} still receives the primary's WAL but replays none of it: write rows on the primary, "
            "then Refresh, and watch its replay lag grow."
        )

    def _resume(self) -> str:
        name = self._standby("resume")
        self.pg.resume_replay(name)
        return f"{name} replays again: Refresh to see its lag fall back to 0 as it applies what it received."

    def _restart(self) -> str:
        self._progress("Restarting the lab: stopping every server...")
        self.pg.restart(progress=lambda step: self._progress(f"Restarting the lab: {step}..."))
        names = list(self.pg.servers)
        self.inputs["server"].options, self.inputs["server"].value = names, names[0]
        return f"A fresh lab: {', '.join(names)}, with an empty table kv (the lesson's rows are gone)."

    def _close(self) -> str:
        self.pg.close()
        return "Every server is stopped and its files removed. Restart lab starts a fresh one."

    def run(self, action: Callable[[], str]) -> bool:
        """Run one action, redraw the table, show the outcome in the message line. Never raises.

        Returns True if the action succeeded and every server answered.
        """
        problem: Exception | None = None
        try:
            text = action()
        except Exception as exc:
            text, problem = "", exc
        trouble = self._draw_table()
        problem = problem or trouble
        if problem is None:
            self.last_error = None
            self._show(text or "Refreshed: rows and lag as of now.", kind="ok")
            return True
        said = str(problem)
        if getattr(problem, "sqlstate", None):
            said += f" (SQLSTATE {problem.sqlstate})"
        self.last_error = said if isinstance(problem, ReplsimError) else f"{type(problem).__name__}: {said}"
        what = "Refused" if isinstance(problem, ReplsimError) else "Unexpected error"
        self._show(f"{text} {what}: {self.last_error}".strip(), kind="error")
        return False

    def _draw_table(self) -> Exception | None:
        """Role, rows in kv and replay lag of every server into ``self.table``; the first error, if any."""
        if getattr(self.pg, "closed", False):
            self.table.value = "<i>The lab is stopped: no server is running.</i>"
            return None
        cells, first = "padding:1px 12px 1px 0; text-align:left", None
        head = ("server", "role", "rows in kv", "replay lag (bytes)")
        rows, facts = ["".join(f"<th style='{cells}'>{h}</th>" for h in head)], {}
        for name in self.pg.servers:
            try:  # a stopped server raises the cluster's own NodeDownError, saying how to restart it
                facts[name] = (self.pg.in_recovery(name), len(self.pg.read(name)))
            except Exception as exc:
                first = first or exc
        lag: dict[str, str] = {}
        for name, (standby, _) in facts.items():
            if not standby:
                try:
                    lag |= {r.standby: f"{r.lag_bytes:,}" for r in self.pg.replication_status(name)}
                except Exception as exc:
                    first = first or exc
        for name in self.pg.servers:
            standby, count = facts.get(name, (None, None))
            role = "down" if standby is None else "standby" if standby else "primary"
            behind = lag.get(name, "not streaming") if standby else "-"
            values = (name, role, "-" if count is None else count, behind)
            rows.append("".join(f"<td style='{cells}'>{html.escape(str(v))}</td>" for v in values))
        self.table.value = (
            "<table style='border-collapse:collapse'><tr>" + "</tr><tr>".join(rows) + "</tr></table>"
        )
        return first
