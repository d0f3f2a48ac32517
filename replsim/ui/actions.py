"""The standard panel actions (write, crash, recover, promote, partition, heal, advance, rate, ...) and the
notes a panel can show under its status table. Importing this module registers them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ..cluster import Cluster
from ..errors import ConfigError
from ..node import LEADER
from .panel import _OWN_PLOTS, NOTES, PLOTS, ControlPanel, PlotSpec, _button, node_action, register_action
from .plots import divergence_plot, load_plot
from .words import plural
from .words import seconds as seconds_words


def _last_key(cluster: Cluster) -> str:
    writes = cluster.history.writes()
    return str(writes[-1].key) if writes else "x"


@register_action("write")
def _build_write(panel: ControlPanel) -> None:
    c = panel.cluster
    key = widgets.Text(value=_last_key(c), description="key", layout=widgets.Layout(width="180px"))
    value = widgets.Text(value="Thursday", description="value", layout=widgets.Layout(width="200px"))
    node = panel.node_dropdown("write_node", default=c.leader)
    node.description = "on"
    for w in (key, value):
        w.style.description_width = "40px"

    def write() -> str:
        k = key.value.strip()
        if not k:
            raise ConfigError("type a key to write (for example: headline)")
        op = c.write(k, value.value, node=node.value)
        text = f"{node.value} accepted {k} = {value.value!r} at lsn {op.lsn} (epoch {op.epoch})"
        if op.outcome == "pending":
            return text + "; the client waits until enough followers confirm it."
        return text + "; the followers copy it once it crosses the network."

    panel.add_action(
        "write",
        write,
        inputs={"write_key": key, "write_value": value, "write_node": node},
        button=_button("Write", "Send a client's write (key = value) to the chosen node", "primary"),
    )


@register_action("crash")
def _build_crash(panel: ControlPanel) -> None:
    c = panel.cluster

    def crash(name: str) -> str:
        was_leader = c.node(name).role == LEADER
        c.crash(name)
        if was_leader:
            return (
                f"{name} crashed. It was a leader: no new writes until you Recover it or Promote a follower."
            )
        return f"{name} crashed: it stops copying; its log survives on disk, and the others carry on."

    node_action(
        panel, "crash", crash, "Crash", "Stop the chosen node at once (its log survives on disk)", "danger"
    )


@register_action("recover")
def _build_recover(panel: ControlPanel) -> None:
    c = panel.cluster

    def recover(name: str) -> str:
        c.recover(name)
        n = c.node(name)
        behind = c.lag().get(name, 0)
        text = f"{name} restarted as {n.role} at lsn {n.lsn}"
        if n.role != LEADER and behind:
            them = "it" if behind == 1 else "them"
            text += (
                f", {plural(behind, 'entry', 'entries')} behind; it asks its leader for {them} "
                "(Advance to see it catch up)"
            )
        return text + "."

    node_action(
        panel, "recover", recover, "Recover", "Restart the chosen crashed node from its log", "success"
    )


@register_action("promote")
def _build_promote(panel: ControlPanel) -> None:
    c = panel.cluster

    def promote(name: str) -> str:
        old = c.leader
        c.promote(name)
        writes_to = panel.inputs.get("write_node")
        if writes_to is not None and writes_to.value == old:  # clients follow the new leader
            writes_to.value = name
        n = c.node(name)
        return f"{name} now leads epoch {n.epoch} from lsn {n.lsn}; writes go to it."

    tooltip = "Make the chosen follower the leader of a new epoch (a failover)"
    node_action(panel, "promote", promote, "Promote", tooltip, "warning")


@register_action("partition")
def _build_partition(panel: ControlPanel) -> None:
    c = panel.cluster

    def partition(name: str) -> str:
        c.partition([name])
        return f"The network is split: {name} cannot reach the other nodes, nor they it."

    tooltip = "Cut the chosen node off from all the others (it keeps running)"
    node_action(panel, "partition", partition, "Partition", tooltip)


@register_action("heal")
def _build_heal(panel: ControlPanel) -> None:
    c = panel.cluster

    def heal() -> str:
        c.heal()
        return "The network is whole again: every node can reach every other."

    panel.add_action(
        "heal", heal, row="node", button=_button("Heal", "Remove every partition and cut in the network")
    )


@register_action("advance")
def _build_advance(panel: ControlPanel) -> None:
    c = panel.cluster
    seconds = widgets.FloatSlider(
        value=1.0,
        min=0.1,
        max=30.0,
        step=0.1,
        description="seconds",
        readout_format=".1f",
        continuous_update=False,
        style={"description_width": "60px"},
    )

    def advance() -> str:
        s = float(seconds.value)
        c.advance(s)
        return f"{s:g} s of virtual time passed: t = {seconds_words(c.now)}."

    panel.add_action(
        "advance",
        advance,
        inputs={"seconds": seconds},
        button=_button("Advance", "Let the chosen number of seconds of virtual time pass"),
    )


@register_action("rate")
def _build_rate(panel: ControlPanel) -> None:
    c = panel.cluster
    rate = widgets.FloatSlider(
        value=0.0,
        min=0.0,
        max=20.0,
        step=0.5,
        description="writes/s",
        readout_format=".1f",
        continuous_update=False,
        style={"description_width": "60px"},
    )

    def set_rate() -> str:
        if panel.writer is not None:
            panel.writer.stop()
            panel.writer = None
        r = float(rate.value)
        if r <= 0:
            return "The panel's client stopped writing."
        key = getattr(panel.inputs.get("write_key"), "value", "").strip() or _last_key(c)
        panel.writer = c.start_writes(rate=r, keys=[key])
        return f"A client now writes {key} {r:g} times a second to the leader (Advance to see it)."

    panel.add_action("rate", set_rate, inputs={"rate": rate}, live=True)


@register_action("promote running")
def _build_promote_running(panel: ControlPanel) -> None:
    c = panel.cluster

    def failover(name: str) -> str:
        running = [n for n in c.names if n != name and c.node(n).up]
        c.promote(name, followers=running)
        left = [n for n in c.names if n != name and n not in running]
        text = f"{name} now leads epoch {c.node(name).epoch} from lsn {c.node(name).lsn}; writes go to it."
        if left:
            text += f" {', '.join(left)} could not be reached: it keeps its old settings."
        return text

    tooltip = "Make the chosen follower the leader of a new epoch; only running nodes are repointed to it"
    node_action(panel, "promote running", failover, "Promote", tooltip, "warning")


@register_action("rejoin")
def _build_rejoin(panel: ControlPanel) -> None:
    c = panel.cluster

    def rejoin(name: str) -> str:
        c.rejoin(name)
        return (
            f"{name} follows {c.leader} again. Entries only {name} holds are discarded as soon as it hears "
            f"from {c.leader} (Advance to see it)."
        )

    tooltip = "Make the chosen node follow the current leader again (like pg_rewind)"
    node_action(panel, "rejoin", rejoin, "Rejoin", tooltip)


@register_action("split")
def _build_split(panel: ControlPanel) -> None:
    c = panel.cluster
    side = widgets.SelectMultiple(
        options=c.names,
        value=[c.leader],
        description="one side",
        rows=min(len(c.names), 5),
        layout=widgets.Layout(width="240px"),
        style={"description_width": "60px"},
    )

    def split() -> str:
        chosen = [n for n in c.names if n in side.value]
        if not chosen:
            raise ConfigError("pick the nodes on one side of the partition (hold Ctrl or Shift for several)")
        rest = [n for n in c.names if n not in chosen]
        if not rest:
            raise ConfigError("leave at least one node on the other side")
        near = {name: getattr(client, "near", None) for name, client in c.clients.items()}
        one = chosen + [cl for cl, n in near.items() if n in chosen]  # a client is on its node's side
        other = rest + [cl for cl, n in near.items() if n in rest]
        c.partition(one, other)
        return (
            f"The network is split: {', '.join(one)} | {', '.join(other)}. Nothing crosses between the sides."
        )

    panel.add_action(
        "split",
        split,
        inputs={"side": side},
        button=_button("Partition", "Cut the chosen nodes off from the others (each side keeps running)"),
    )


@register_action("design")
def _build_design(panel: ControlPanel) -> None:
    from ..course.split_brain import rebuild
    from ..failover import DESIGN_NAMES, design_of

    choices = [(DESIGN_NAMES[d], d) for d in ("naive", "fencing", "quorum")]
    design = widgets.Dropdown(
        options=choices,
        value=design_of(panel.cluster),
        description="failover",
        layout=widgets.Layout(width="420px"),
        style={"description_width": "60px"},
    )

    def switch() -> str:
        panel.use(rebuild(panel.cluster, design.value))
        return f"A fresh cluster with {DESIGN_NAMES[design.value]}, from t = 0."

    panel.add_action("design", switch, inputs={"design": design}, live=True)


# --- notes: what happened so far, under the status table ----------------------
def _by_client(ops: Sequence[Any]) -> str:
    counts: dict[str, int] = {}
    for o in ops:
        who = o.client or f"a client at {o.node}"
        counts[who] = counts.get(who, 0) + 1
    return ", ".join(f"{who}: {n}" for who, n in sorted(counts.items()))


def _note_lost(c: Cluster, at: float) -> str:
    lost = c.lost_writes(at=at)
    text = f"Acknowledged writes the leader ({c.history.leader_at(at)}) does not hold: {len(lost)}"
    return text + (f" ({_by_client(lost)})" if lost else "")


def _note_discarded(c: Cluster, at: float) -> str:
    thrown: dict[str, int] = {}
    for name, track in c.history.tracks.items():
        for i, _, history, _ in track.jumps:  # a jump without an epoch history is a rollback
            if history is None and track.t[i] <= at:
                thrown[name] = thrown.get(name, 0) + track.lsn[i - 1] - track.lsn[i]
    text = f"Entries discarded by rollbacks: {sum(thrown.values())}"
    return text + (" (" + ", ".join(f"{n}: {k}" for n, k in thrown.items()) + ")" if thrown else "")


def _note_split_brain(c: Cluster, at: float) -> str:
    from ..history.checks import leaders_at_once, leaders_by_term

    same = {e: who for e, who in leaders_by_term(c.history, at).items() if len(who) > 1}
    if same:
        return "TWO LEADERS IN ONE TERM: " + "; ".join(f"epoch {e}: {', '.join(w)}" for e, w in same.items())
    stretches = leaders_at_once(c.history, at)
    total = sum(b - a for a, b, _ in stretches)
    if stretches and stretches[-1][1] >= at:
        who = ", ".join(f"{n} (epoch {c.history.state_at(n, at).epoch})" for n in stretches[-1][2])
        return f"SPLIT BRAIN: two leaders at once, in different epochs: {who}; {total:.1f} s so far"
    if stretches:
        return f"No split brain now; two leaders at once for {total:.2f} s so far, never two in one epoch"
    return "One leader at a time so far, never two in one epoch"


NOTES.update({"lost": _note_lost, "discarded": _note_discarded, "split brain": _note_split_brain})


# --- lessons 2 and 3: a new follower, spreading reads, running SQL ---------------------
PLOTS["load"] = PlotSpec(load_plot, 1.0, 0.75, 0.2)
PLOTS["divergent rows"] = PlotSpec(divergence_plot, 1.0, 0.75, 0.2)
_OWN_PLOTS.update({load_plot, divergence_plot})


def _next_name(cluster: Cluster) -> str:
    """A name for a new follower: the followers' common stem with the next letter or number."""
    others = [n for n in cluster.names if n != cluster.leader]
    last = others[-1] if others else "follower-0"
    stem, tail = last[:-1], last[-1]
    for _ in range(100):
        if tail.isdigit():
            tail = str(int(tail) + 1)
        elif tail.isalpha() and tail < "Z":
            tail = chr(ord(tail) + 1)
        else:
            stem, tail = last + "-", "1"
        if stem + tail not in cluster.names:
            return stem + tail
    return f"follower-{len(cluster.names)}"


@register_action("add follower")
def _build_add_follower(panel: ControlPanel) -> None:
    c = panel.cluster
    name = widgets.Text(value=_next_name(c), description="name", layout=widgets.Layout(width="200px"))
    name.style.description_width = "40px"

    def add() -> str:
        new = name.value.strip()
        c.add_follower(new)
        for key in ("node", "write_node"):  # the node choosers offer it from now on
            chooser = panel.inputs.get(key)
            if isinstance(chooser, widgets.Dropdown):
                chosen = chooser.value
                chooser.options = c.names  # this resets the choice: keep the learner's
                chooser.value = chosen
        name.value = _next_name(c)
        lead = c.node(c.leader)
        if not lead.up:
            return f"{new} joins, but the leader is down: it gets its copy once the leader is back."
        return (
            f"{new} joins: the leader sends a copy of its data at lsn {lead.lsn} (a snapshot), "
            "then the entries after it. Advance to see it arrive."
        )

    panel.add_action(
        "add follower",
        add,
        inputs={"new_name": name},
        button=_button("Add follower", "Add a new follower: a snapshot of the leader, then the log", "info"),
    )


@register_action("spread reads")
def _build_spread_reads(panel: ControlPanel) -> None:
    from ..course.readers import Readers

    c = panel.cluster
    count = widgets.BoundedIntText(
        value=1, min=0, max=10, description="followers", layout=widgets.Layout(width="150px")
    )
    count.style.description_width = "65px"
    rate = 200.0

    def spread() -> str:
        followers = [n for n in c.names if n != c.leader and c.node(n).up]
        k = min(int(count.value), len(followers))
        nodes = [c.leader, *followers[:k]]
        readers = getattr(panel, "readers", None)
        if readers is None:
            key = _last_key(c)
            if key not in c._written:  # a read needs a key some write created
                c.write(key, "first")
            panel.readers = Readers(c, rate, nodes, key=key, name="panel-readers")
        else:
            readers.spread(nodes)
        share = 100 / len(nodes)
        return (
            f"Clients now send {rate:g} reads/s in turn to {', '.join(nodes)}: about {share:.0f}% each. "
            "Advance to see the load."
        )

    panel.add_action(
        "spread reads",
        spread,
        inputs={"read_followers": count},
        button=_button("Spread reads", "Send the clients' reads to the leader and this many followers"),
    )


_SHIPPED = {
    "Statement": "the statement",
    "RowChanges": "the rows it changed",
    "Pages": "the pages it changed",
}
"""What the leader logged for a SQL statement, in words, by the change's type
(``replsim.stores.shipping``)."""


@register_action("sql")
def _build_sql(panel: ControlPanel) -> None:
    c = panel.cluster
    text = widgets.Text(
        value="UPDATE items SET price = price + abs(random() % 100) WHERE id = 7",
        description="SQL",
        layout=widgets.Layout(width="560px"),
    )
    text.style.description_width = "40px"

    def run() -> str:
        sql = text.value.strip()
        if not sql:
            raise ConfigError("type a statement that changes data (for example: UPDATE items SET ...)")
        op = c.execute(sql)
        entry = c.node(c.leader).log[op.lsn]
        what = _SHIPPED.get(type(entry.change).__name__, "the change")
        return (
            f"{c.leader} ran it (lsn {op.lsn}) and logged {what}, {entry.size:,} bytes to ship to each "
            "follower. Advance, then compare the rows."
        )

    panel.add_action(
        "sql",
        run,
        inputs={"sql": text},
        button=_button(
            "Run on leader", "Run this SQL on the leader; it ships it the cluster's way", "primary"
        ),
    )
