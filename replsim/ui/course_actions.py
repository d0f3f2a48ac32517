"""The panel actions of lessons 4 and 7, for :class:`~replsim.ui.ControlPanel`.

Importing this module registers them (``register_action``):

- ``"reads"`` (lesson 4): users in every city of the cluster (``replsim.course.geo``); pick one and
  a read policy, then **Write** (a new value, to the leader) or **Read** (where the policy
  says). A box under the buttons shows the latest answers and names each anomaly the
  checkers find in the users' histories. ``"advance ms"``: let a few milliseconds pass.
- ``"commit"`` (lesson 7): choose what a commit waits for (``COMMIT_MODES``); a box counts the
  writes acknowledged, waiting, of unknown outcome, and lost. ``"failover"``: crash the
  leader and promote the most up-to-date standby.

Use::

    ControlPanel(reads_world(), actions=("reads", "advance ms", "rate"), plots=("cluster", "lag seconds"))
    ControlPanel(commit_world(), actions=("commit", "write", "failover", "advance"),
                 plots=("cluster", ACK_PLOT))
"""

from __future__ import annotations

import html
from functools import partial
from typing import Any

import ipywidgets as widgets

from ..clients.policies import POLICIES, ReadPolicy
from ..cluster import Cluster
from ..course.geo import city_clients, geo_cluster
from ..course.sweep import MODES, STANDBYS, best_standby, scenario
from ..errors import ConfigError, NodeStateError, ReplsimError
from ..history.anomalies import count, find_anomalies
from ..node.commit import First
from .figures import acknowledged_plot
from .panel import ControlPanel, PlotSpec, _button, register_action
from .words import seconds

_BOX = "font-size:90%; line-height:1.35; margin:4px 0; padding:4px 8px; border-left:3px solid #999999"


def _slider(value: float, low: float, high: float, step: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description="seconds",
        readout_format=".3f",
        continuous_update=False,
        style={"description_width": "60px"},
    )


def _advance(panel: ControlPanel, name: str, slider: widgets.FloatSlider, tip: str) -> None:
    c = panel.cluster

    def advance() -> str:
        s = float(slider.value)
        c.advance(s)
        return f"{s * 1000:g} ms of virtual time passed: t = {seconds(c.now)}."

    panel.add_action(name, advance, inputs={"seconds": slider}, button=_button("Advance", tip))


def reads_world(seed: int = 4) -> Cluster:
    """Lesson 4's panel cluster: the cities of ``replsim.course.geo``, links wobbling by 2 ms."""
    return geo_cluster(seed=seed, jitter=0.002)


def anomalies(panel: ControlPanel) -> list:
    """Every anomaly the checkers find in the histories of a panel's users (and of its steady writer)."""
    names = {u.name for u in panel.users.values()}  # type: ignore[attr-defined]
    return find_anomalies(o for o in panel.cluster.history.ops if o.client in names or o.client is None)


def _reads_html(panel: ControlPanel) -> str:
    try:
        found = anomalies(panel)
    except ReplsimError as exc:
        return f"<div style='{_BOX}'>The checkers cannot judge these reads: {html.escape(str(exc))}</div>"
    users = panel.users.values()  # type: ignore[attr-defined]
    reads = sorted(
        (o for u in users for o in u.ops if o.kind == "read" and o.outcome == "ok"), key=lambda o: o.complete
    )
    lines = [
        f"{html.escape(o.client)} read {html.escape(str(o.key))} = {html.escape(repr(o.value))} "
        f"from {html.escape(o.node)} in {(o.complete - o.invoke) * 1000:.0f} ms"
        for o in reads[-3:]
    ]
    n = count(found)
    summary = ", ".join(f"{v} {k}{'s' if v != 1 else ''}" for k, v in n.items() if v) or "none"
    lines.append(f"<b>Anomalies found in the users' histories:</b> {html.escape(summary)}")
    for a in found[-4:]:
        lines.append(
            f"&bull; <b>{html.escape(a.kind)}</b> ({html.escape(str(a.client))}): {html.escape(a.detail)}"
        )
    return f"<div style='{_BOX}'>" + "<br>".join(lines) + "</div>"


def _findings(panel: ControlPanel, draw: Any) -> widgets.HTML:
    """A box under the panel's buttons, redrawn by ``draw(panel)`` after every action."""
    box = widgets.HTML()
    panel._controls.children = [*panel._controls.children, box]
    redraw = panel.refresh

    def refresh() -> None:
        redraw()
        try:
            box.value = draw(panel)
        except Exception as exc:  # like the figure: never raise into the kernel
            why = html.escape(f"{type(exc).__name__}: {exc}")
            box.value = f"<div style='{_BOX}'>Unexpected error: {why}</div>"

    panel.refresh = refresh  # type: ignore[method-assign]
    panel.findings = box  # type: ignore[attr-defined]
    return box


@register_action("reads")
def _build_reads(panel: ControlPanel) -> None:
    c = panel.cluster
    panel.users = city_clients(c)  # type: ignore[attr-defined]
    panel.policies = {name: make() for name, make in POLICIES.items()}  # type: ignore[attr-defined]
    panel.sent = dict.fromkeys(panel.users, 0)  # type: ignore[attr-defined]
    narrow = {"layout": widgets.Layout(width="230px"), "style": {"description_width": "55px"}}
    city = widgets.Dropdown(
        options=list(panel.users), value=list(panel.users)[-1], description="user in", **narrow
    )
    policy = widgets.Dropdown(options=list(POLICIES), value="nearest replica", description="reads", **narrow)
    key = widgets.Text(value="x", description="key", layout=widgets.Layout(width="140px"))
    key.style.description_width = "30px"

    def user():
        return panel.users[city.value]  # type: ignore[attr-defined]

    def which_key() -> str:
        k = key.value.strip()
        if not k:
            raise ConfigError("type a key (for example: x)")
        return k

    def write() -> str:
        u, k = user(), which_key()
        panel.sent[city.value] += 1  # type: ignore[attr-defined]
        value = f"{city.value}#{panel.sent[city.value]}"  # type: ignore[attr-defined]
        u.write(k, value)
        d = c.network.link(u.name, c.leader).delay * 1000
        return (
            f"{u.name} sent {k} = {value!r} to the leader, {c.leader}: {d:.1f} ms each way "
            "(Advance to see the answer)."
        )

    def read() -> str:
        u, k = user(), which_key()
        chosen: ReadPolicy = panel.policies[policy.value]  # type: ignore[attr-defined]
        node, after = chosen.choose(u)
        u.read(k, node=node, after=after)
        wait = f", once it holds lsn {after}" if after else ""
        d = c.network.link(u.name, node).delay * 1000
        return f"{u.name} asked {node} for {k}{wait} ({d:.1f} ms away; Advance to see the answer)."

    panel.add_action(
        "write",
        write,
        inputs={"user": city, "policy": policy, "write_key": key},
        row="reads",
        button=_button("Write", "The chosen user writes the key (a new value) to the leader", "primary"),
    )
    panel.add_action(
        "read", read, row="reads", button=_button("Read", "The chosen user reads the key as the policy says")
    )
    _findings(panel, _reads_html)


@register_action("advance ms")
def _build_step(panel: ControlPanel) -> None:
    _advance(
        panel, "advance", _slider(0.05, 0.005, 2.0, 0.005), "Let the chosen time pass (a few ms is enough)"
    )


COMMIT_MODES = {**MODES, "FIRST 1 (standby-1) alone": lambda: First(1, ["standby-1"], timeout=2.0)}
"""Lesson 7's panel choices: the sweep's commit modes, and a synchronous standby with no stand-in."""


def commit_world(seed: int = 7) -> Cluster:
    """Lesson 7's panel cluster: the sweep's primary and three standbys
    (``replsim.course.sweep.scenario``), with a message journal for the live view."""
    return scenario(seed, keep_messages=10_000)


ACK_PLOT = PlotSpec(partial(acknowledged_plot, waiting=False, bin_seconds=0.5), 1.25, 0.75, 1.6)
"""The acknowledged-writes plot, laid out for a panel."""


def _commit_html(panel: ControlPanel) -> str:
    c = panel.cluster
    writes = c.history.writes()
    acked = sum(o.outcome == "ok" for o in writes)
    waiting = sum(o.outcome == "pending" for o in writes)
    unknown = sum(o.outcome == "info" for o in writes)
    lost = c.lost_writes()
    policy = c.node(c.leader).commit
    lines = [
        f"Commit: <b>{html.escape(policy.describe() if policy else 'asynchronous')}</b> &nbsp;·&nbsp; "
        f"writes acknowledged: {acked} &nbsp;·&nbsp; waiting for confirmations: {waiting} &nbsp;·&nbsp; "
        f"outcome unknown (their leader crashed first): {unknown} &nbsp;·&nbsp; "
        f"<b>acknowledged writes lost: {len(lost)}</b>"
    ]
    if lost:
        shown = ", ".join(f"{o.key}={o.value!r} (lsn {o.lsn})" for o in lost[-5:])
        lines.append(f"lost, the newest: {html.escape(shown)}")
    return f"<div style='{_BOX}'>" + "<br>".join(lines) + "</div>"


@register_action("commit")
def _build_commit(panel: ControlPanel) -> None:
    c = panel.cluster
    modes = COMMIT_MODES
    mode = widgets.Dropdown(
        options=list(modes),
        value="async",
        description="commit",
        layout=widgets.Layout(width="300px"),
        style={"description_width": "55px"},
    )

    def choose() -> str:
        c.set_commit(modes[mode.value]())
        return f"Commits now wait for: {c.node(c.leader).commit.describe()}."

    panel.add_action("commit", choose, inputs={"commit": mode}, live=True)
    _findings(panel, _commit_html)
    c.set_commit(modes[mode.value]())


@register_action("failover")
def _build_failover(panel: ControlPanel) -> None:
    c = panel.cluster

    def failover() -> str:
        old = c.leader
        if not c.node(old).up:
            raise NodeStateError(f"{old} is already down: click Promote to make a standby the leader instead")
        before = len(c.lost_writes())
        c.crash(old)
        best = best_standby(c)
        c.promote(best)
        writes_to = panel.inputs.get("write_node")
        if writes_to is not None:
            writes_to.value = best
        lost = len(c.lost_writes()) - before
        what = (
            "1 acknowledged write it never had is"
            if lost == 1
            else f"{lost} acknowledged writes it never had are"
        )
        return f"{old} crashed; {best}, the standby that had received the most, now leads. {what} lost."

    panel.add_action(
        "failover",
        failover,
        row="node",
        button=_button("Fail over", "Crash the leader and promote the most up-to-date standby", "danger"),
    )


__all__ = ["reads_world", "commit_world", "anomalies", "COMMIT_MODES", "ACK_PLOT", "STANDBYS"]
