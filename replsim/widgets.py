"""A control panel for a cluster: buttons and sliders that act on it and redraw its figures in place.

Use in a notebook::

    panel = ControlPanel(cluster, actions=("write", "crash", "recover", "advance"))
    panel                                   # last expression of the cell: shows it

Every action runs through :meth:`ControlPanel.run`, which never raises: a refusal
by the simulator (a write to a follower, crashing a crashed node) is shown in the
message line as "Refused: ...", anything else as "Unexpected error: ...". After
each action the status line and the figure (a PNG in an ``ipywidgets.Image``,
drawn on one reused Agg figure, so nothing leaks into the cell's output) update.

Adding an action, two ways:

* for one panel: ``panel.add_action("delay", handler, inputs={"delay": slider}, live=True)``;
  ``handler()`` reads the inputs, acts on ``panel.cluster`` and returns the
  message to show.
* for every panel: register a builder, then name it in ``actions``::

      @register_action("delay")
      def _build_delay(panel: ControlPanel) -> None:
          slider = FloatSlider(description="delay (s)", min=0, max=1, value=0.05)
          panel.add_action("delay", lambda: ..., inputs={"delay": slider}, live=True)

  (a subclass may instead set its own ``action_builders`` mapping).

Notes: lines under the status table that say what happened so far, by name
(``notes=("lost", "discarded", "split brain")``; see ``NOTES``). ``panel.use(cluster)``
makes the panel drive another cluster (the actions are built again for it).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from .cluster import Cluster, status_table
from .errors import ConfigError, ReplsimError
from .node import LEADER
from .plots import availability_plot, cluster_picture, divergence_plot, lag_plot, load_plot, network_faults

if TYPE_CHECKING:
    from .clients import Writer

ActionBuilder = Callable[["ControlPanel"], None]
PlotMaker = Callable[..., Any]

ACTIONS: dict[str, ActionBuilder] = {}
"""Action builders by name: each adds its widgets to a panel with ``panel.add_action``."""


class PlotSpec(NamedTuple):
    """How a panel lays out one plot: the function, its share of the width, margins in inches, and
    the name of its argument for a past moment (``"at"`` or ``"until"``; None: it always shows now)."""

    draw: PlotMaker
    width: float = 1.0
    left: float = 0.7  # room for the y tick labels and the y label
    right: float = 0.25  # room for a legend placed outside the axes
    time_arg: str | None = None


PLOTS: dict[str, PlotSpec] = {
    "cluster": PlotSpec(partial(cluster_picture, legend=False), 1.15, 0.1, 0.1, "at"),
    "lag": PlotSpec(lag_plot, 1.25, 0.75, 1.2, "until"),
    "lag seconds": PlotSpec(partial(lag_plot, unit="seconds"), 1.25, 0.75, 1.2, "until"),
    "availability": PlotSpec(availability_plot, 1.25, 0.75, 1.0, "until"),
}
"""Plots a panel can show, by name (a plot function drawing into ``ax=``, and its layout)."""

_OWN_PLOTS = {spec.draw for spec in PLOTS.values()}
_FAST_TEXT = {"text.hinting": "no_hinting"}  # glyphs render about 40% faster, and look the same at 80 dpi
_TOP, _BOTTOM = 0.5, 0.45  # inches above the axes (title, partition line) and below (x label)

DEFAULT_ACTIONS = ("write", "crash", "recover", "advance")

NOTES: dict[str, Callable[[Cluster, float], str]] = {}
"""Notes a panel can show under its status table, by name: ``note(cluster, at)`` says something about
the cluster as it was at time ``at`` (now, or the moment the panel looks back at)."""

_OK_COLOUR = "#00573F"  # dark bluish green: readable text on white
_ERROR_COLOUR = "#A51D00"  # dark vermillion


def register_action(name: str) -> Callable[[ActionBuilder], ActionBuilder]:
    """Decorator: make ``builder(panel)`` available to every panel as the action ``name``.

    A name is taken once: registering another builder under it is refused (the same
    builder again, as when its module is reloaded, replaces it).
    """

    def deco(builder: ActionBuilder) -> ActionBuilder:
        old = ACTIONS.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (
            builder.__module__,
            builder.__qualname__,
        ):
            raise ConfigError(
                f"the panel action {name!r} is already {old.__module__}.{old.__qualname__}; pick another name"
            )
        ACTIONS[name] = builder
        return builder

    return deco


class ControlPanel(widgets.VBox):
    """Buttons and inputs that drive a Cluster, a status line, a message line and live figures.

    ``actions``: names in ``action_builders`` (or builder callables), one row each
    (crash/recover/promote/partition/heal share one row and one node dropdown).
    Built in: write, crash, recover, advance (the default), promote, partition,
    heal, and rate (a writes-per-second slider driving a client of the panel's own).
    ``plots``: names in ``PLOTS`` (or functions taking ``(cluster, ax=...)``, or ``PlotSpec``s), side by side.
    ``timeline``: a "look back" slider over the experiment so far; the status and the plots then show
    the moment chosen, rebuilt from the record (nothing is re-run); any action, or "Now", returns to now.
    """

    action_builders: Mapping[str, ActionBuilder] = ACTIONS

    def __init__(
        self,
        cluster: Cluster,
        actions: Sequence[str | ActionBuilder] = DEFAULT_ACTIONS,
        plots: Sequence[str | PlotMaker | PlotSpec] = ("cluster", "lag"),
        title: str | None = None,
        *,
        figsize: tuple[float, float] = (9.5, 3.8),
        dpi: float = 80.0,
        timeline: bool = True,
        notes: Sequence[str] = (),
    ) -> None:
        super().__init__()
        if isinstance(notes, str):
            notes = (notes,)
        for note in notes:
            if note not in NOTES:
                known = ", ".join(sorted(NOTES))
                raise ConfigError(f"unknown note {note!r}; the notes are {known}")
        self.notes = tuple(notes)
        self._action_specs = list(actions) if isinstance(actions, (list, tuple)) else actions
        if not isinstance(cluster, Cluster):
            raise ConfigError(f"ControlPanel needs a Cluster to drive, got {cluster!r}")
        if isinstance(actions, str):
            actions = (actions,)
        if isinstance(plots, str):
            plots = (plots,)
        for name, value in (("actions", actions), ("plots", plots)):
            if not isinstance(value, (list, tuple)):
                raise ConfigError(f"{name} must be a list of names, got {value!r}")
        if (
            not isinstance(figsize, (list, tuple))
            or len(figsize) != 2
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 1 <= v <= 40 for v in figsize
            )
        ):
            raise ConfigError(
                f"figsize must be (width, height) in inches, each between 1 and 40, got {figsize!r}"
            )
        if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 20 <= dpi <= 400:
            raise ConfigError(f"dpi must be a number between 20 and 400, got {dpi!r}")
        self.cluster = cluster
        self.buttons: dict[str, widgets.Button] = {}
        self.inputs: dict[str, widgets.Widget] = {}
        self.last_error: str | None = None
        self.actions: list[str] = []  # names of the actions added, in order
        self.writer: Writer | None = None  # the client the "rate" action runs, if any
        self._rows: dict[str, widgets.HBox] = {}
        self._plots = [self._plot_spec(p) for p in plots]
        self.status = widgets.HTML()
        self.message = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self._axes: list[Axes] | None = None
        self._controls = widgets.VBox()
        self.at: float | None = None  # the past moment shown, or None for now
        self._syncing = False
        for action in actions:
            self._build(action)
        if timeline:
            self._build_timeline()
        head = [widgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>")] if title else []
        self.children = [*head, self._controls, self.message, self.status, self.image]
        self._show("Ready: pick an action.", kind="info")
        self.refresh()

    def __repr__(self) -> str:
        return f"ControlPanel({self.cluster!r}, actions: {', '.join(self.actions)})"

    def use(self, cluster: Cluster) -> None:
        """Drive ``cluster`` from now on: the actions are built again for it, and the figure redrawn."""
        if not isinstance(cluster, Cluster):
            raise ConfigError(f"ControlPanel needs a Cluster to drive, got {cluster!r}")
        if self.writer is not None:
            self.writer.stop()
            self.writer = None
        timeline = "look back" in self.inputs
        self.cluster = cluster
        self.buttons, self.inputs, self.actions, self._rows = {}, {}, [], {}
        self._controls.children = []
        self.figure.clear()
        self._axes = None
        self.at = None
        for action in self._action_specs:
            self._build(action)
        if timeline:
            self._build_timeline()
        self.refresh()

    # --- building ---------------------------------------------------------
    def _build(self, action: str | ActionBuilder) -> None:
        if callable(action):
            action(self)
            return
        try:
            builder = self.action_builders[action]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self.action_builders))
            raise ConfigError(f"unknown action {action!r}; the actions are {known}") from None
        builder(self)

    @staticmethod
    def _plot_spec(plot: str | PlotMaker | PlotSpec) -> PlotSpec:
        if isinstance(plot, PlotSpec):
            return plot
        if callable(plot):
            return PlotSpec(plot)
        try:
            return PLOTS[plot]
        except (KeyError, TypeError):
            known = ", ".join(sorted(PLOTS))
            raise ConfigError(f"unknown plot {plot!r}; the plots are {known}") from None

    def add_action(
        self,
        name: str,
        handler: Callable[[], str | None],
        *,
        button: widgets.Button | None = None,
        inputs: Mapping[str, widgets.Widget] | None = None,
        row: str | None = None,
        live: bool = False,
    ) -> None:
        """Add an action: ``inputs`` then ``button`` in row ``row`` (default: a new row named ``name``).

        Clicking the button (and, if ``live``, changing any of the inputs) runs
        ``handler()`` through :meth:`run`. The button goes in ``self.buttons[name]``,
        the inputs in ``self.inputs`` under their keys; an input already in the
        panel under the same key is shared, not shown twice.
        """
        if name in self.actions:
            raise ConfigError(f"the panel already has an action called {name!r}")
        self.actions.append(name)
        row_key = name if row is None else row
        box = self._rows.get(row_key)
        if box is None:
            box = self._rows[row_key] = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
            self._controls.children = [*self._controls.children, box]
        shown = list(box.children)
        for key, widget in (inputs or {}).items():
            if self.inputs.get(key) is widget:
                continue
            if key in self.inputs:
                raise ConfigError(f"the panel already has an input called {key!r}")
            self.inputs[key] = widget
            shown.append(widget)
            if live:
                widget.observe(lambda _change: self.run(handler), names="value")
        if button is not None:
            self.buttons[name] = button
            button.on_click(lambda _button: self.run(handler))
            shown.append(button)
        box.children = shown

    def node_dropdown(self, key: str = "node", default: str | None = None) -> widgets.Dropdown:
        """The panel's node chooser under ``inputs[key]`` (made on first use; shared by actions)."""
        existing = self.inputs.get(key)
        if isinstance(existing, widgets.Dropdown):
            return existing
        names = self.cluster.names
        if default is None:  # the first follower: the natural thing to crash in lesson 1
            default = next((n for n in names if n != self.cluster.leader), names[0])
        return widgets.Dropdown(
            options=names,
            value=default,
            description="node",
            layout=widgets.Layout(width="210px"),
            style={"description_width": "40px"},
        )

    def _build_timeline(self) -> None:
        slider = widgets.FloatSlider(
            value=0.0,
            min=0.0,
            max=0.0,
            step=0.1,
            description="look back",
            readout_format=".1f",
            continuous_update=False,
            style={"description_width": "70px"},
            layout=widgets.Layout(width="420px"),
        )
        self.inputs["look back"] = slider
        slider.observe(lambda change: None if self._syncing else self.run(self._look_back), names="value")
        now = _button("Now", "Show the present again")
        self.buttons["now"] = now
        now.on_click(lambda _b: self.run(self._back_to_now))
        self._controls.children = [*self._controls.children, widgets.HBox([slider, now])]

    def _look_back(self) -> str:
        t = float(self.inputs["look back"].value)
        if t >= self.cluster.now - 1e-9:
            return self._back_to_now()
        self.at = t
        return (
            f"Looking back at t = {t:.1f} s (from the record); any action, or Now, "
            f"returns to t = {self.cluster.now:.1f} s."
        )

    def _back_to_now(self) -> str:
        self.at = None
        return f"Showing now: t = {self.cluster.now:.1f} s."

    def _sync_timeline(self) -> None:
        """Keep the slider's range at the experiment so far, and on "now" unless looking back."""
        slider = self.inputs.get("look back")
        if slider is None:
            return
        self._syncing = True
        try:
            now = round(self.cluster.now, 1)
            slider.max = max(now, 0.1)
            slider.value = now if self.at is None else min(self.at, now)
        finally:
            self._syncing = False

    # --- running ----------------------------------------------------------
    def run(self, handler: Callable[[], str | None]) -> bool:
        """Run one action: show its message (or why it failed), then redraw. Never raises.

        Returns True if the action succeeded. An action (other than looking back) shows now again.
        """
        if handler not in (self._look_back, self._back_to_now):
            self.at = None
        try:
            text = handler()
        except ReplsimError as exc:
            self.last_error = str(exc)
            self._show(f"Refused: {exc}", kind="error")
            ok = False
        except Exception as exc:  # a widget callback must never raise into the kernel
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._show(f"Unexpected error: {self.last_error}", kind="error")
            ok = False
        else:
            self.last_error = None
            self._show(text or "Done.", kind="ok")
            ok = True
        self.refresh()
        return ok

    def refresh(self) -> None:
        """Redraw the status line and the figure from the cluster's current state (never raises)."""
        try:
            self._sync_timeline()
            self.status.value = self._status_html()
            self.image.value = self._render()
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._show(f"Unexpected error while drawing: {self.last_error}", kind="error")

    def _render(self) -> bytes:
        fig = self.figure
        if not self._plots:
            return b""
        if self._axes is None:
            self._axes = self._make_axes()
        for spec, ax in zip(self._plots, self._axes, strict=True):
            if spec.draw in _OWN_PLOTS:
                _clear_artists(ax)  # keeps the axes and their ticks: much faster than ax.cla()
            else:
                ax.cla()
            when = {spec.time_arg: self.at} if spec.time_arg and self.at is not None else {}
            spec.draw(self.cluster, ax=ax, **when)
        with matplotlib.rc_context(_FAST_TEXT):  # only for this figure; the learner's own plots keep theirs
            fig.canvas.draw()
        return _png(fig.canvas)

    def _make_axes(self) -> list[Axes]:
        """One axes per plot, side by side, with fixed margins (faster than a layout engine)."""
        fig = self.figure
        width, height = fig.get_size_inches()
        crowd = max(1.0, len(self.cluster.nodes) / 4.5)  # a picture of many nodes needs more room
        widths = [s.width * (crowd if s.draw is PLOTS["cluster"].draw else 1.0) for s in self._plots]
        pads = sum(spec.left + spec.right for spec in self._plots)
        share = max(width - pads, 1.0) / sum(widths)
        bottom, top = _BOTTOM / height, 1 - _TOP / height
        axes, x = [], 0.0
        for spec, w in zip(self._plots, widths, strict=True):
            x += spec.left
            axes.append(fig.add_axes((x / width, bottom, w * share / width, top - bottom)))
            x += w * share + spec.right
        return axes

    def _show(self, text: str, kind: str) -> None:
        colour = {"ok": _OK_COLOUR, "error": _ERROR_COLOUR}.get(kind, "#333333")
        role = "alert" if kind == "error" else "status"
        self.message.value = (
            f"<div role='{role}' style='color:{colour}; font-weight:600; margin:4px 0; line-height:1.35'>"
            f"{html.escape(text)}</div>"
        )

    def _status_html(self) -> str:
        c = self.cluster
        v = c.view(self.at)
        leaders = v.leaders()
        lead = v.nodes[v.leader]
        head = f"t = {v.time:.1f} s" + (" (looking back)" if self.at is not None else "")
        head += f" &nbsp;·&nbsp; leader: <b>{html.escape(v.leader)}</b>"
        head += f" (epoch {lead.epoch}{'' if lead.up else ', down'})"
        if len(leaders) > 1:
            head += f" &nbsp;·&nbsp; <b>split brain</b>: {html.escape(', '.join(leaders))} all lead"
        if v.faulty:
            head += f" &nbsp;·&nbsp; network: {html.escape(network_faults(c, self.at))}"
        cells = "padding:1px 10px 1px 0; text-align:left"
        header, table = status_table(c.status(self.at))  # the same cells as Cluster.table()
        rows = ["<tr>" + "".join(f"<th style='{cells}'>{html.escape(h)}</th>" for h in header) + "</tr>"]
        for row in table:
            rows.append("<tr>" + "".join(f"<td style='{cells}'>{html.escape(v)}</td>" for v in row) + "</tr>")
        notes = "".join(f"<div>{html.escape(NOTES[n](c, v.time))}</div>" for n in self.notes)
        return (
            f"<div style='font-size:90%; line-height:1.35'><div>{head}</div>"
            f"<table style='border-collapse:collapse'>{''.join(rows)}</table>{notes}</div>"
        )


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The drawn canvas as PNG bytes: a palette PNG (256 colours at most) if the figure is opaque.

    A panel's figure has a few flat colours plus their anti-aliased edges (300-700 colours in
    all). Pillow's fast octree brings them to 256 without dithering, in a third of the bytes of
    an RGBA PNG and in half the time: a smaller message to the browser on every click (it
    matters most on Binder, over the internet). Measured on lesson 1's panel: the commonest
    colours move by at most 5 of 255, edge shades by at most 15; the background is set back to
    exact (the octree's average made white 254: a faint box on a white page). A see-through
    figure is written as an RGBA PNG.
    """
    rgba = np.asarray(canvas.buffer_rgba())
    image = PILImage.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    if rgba[..., 3].min() < 255:
        image.save(buf, format="png", compress_level=1)
        return buf.getvalue()
    palette = image.convert("RGB").quantize(
        256, method=PILImage.Quantize.FASTOCTREE, dither=PILImage.Dither.NONE
    )
    colours = palette.getpalette()
    bg = palette.getpixel((0, 0))  # a corner is always the figure's background
    colours[3 * bg : 3 * bg + 3] = rgba[0, 0, :3].tolist()
    palette.putpalette(colours)
    palette.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _clear_artists(ax: Axes) -> None:
    """Remove what a plot function drew, keeping the axes (the plot function resets limits and labels)."""
    for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches, *ax.images, *ax.artists]:
        artist.remove()
    ax.containers.clear()
    if ax.legend_ is not None:
        ax.legend_.remove()


# --- the standard actions ----------------------------------------------------
def _button(description: str, tooltip: str, style: str = "") -> widgets.Button:
    return widgets.Button(
        description=description, tooltip=tooltip, button_style=style, layout=widgets.Layout(width="auto")
    )


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


def node_action(
    panel: ControlPanel, name: str, act: Callable[[str], str], label: str, tooltip: str, style: str = ""
) -> None:
    """Add an action on the panel's shared node chooser: a button that runs ``act(node name)``."""
    node = panel.node_dropdown()
    panel.add_action(
        name,
        lambda: act(node.value),
        inputs={"node": node},
        row="node",
        button=_button(label, tooltip, style),
    )


@register_action("crash")
def _build_crash(panel: ControlPanel) -> None:
    c = panel.cluster

    def crash(name: str) -> str:
        was_leader = c.node(name).role == LEADER
        c.crash(name)
        if was_leader:
            return f"{name} crashed. It was a leader: no new writes until recover or promote."
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
            text += (
                f", {behind} entries behind; it asks its leader for them (advance time to see it catch up)"
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
        return f"{s:g} s of virtual time passed: t = {c.now:.1f} s."

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
        return f"A client now writes {key} {r:g} times a second to the leader (advance time to see it)."

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
            f"from {c.leader} (advance time to see it)."
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
    from .failover import DESIGN_NAMES, design_of, rebuild

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
    from .history.checks import leaders_at_once, leaders_by_term

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


# --- lesson 8: a panel for the real PostgreSQL lab ---------------------------
class PgPanel(widgets.VBox):
    """Write rows on a real PostgreSQL server and watch them reach the others (lesson 8's lab).

    ``pg`` is a started ``replsim.postgres.PgCluster`` (used through ``servers``, ``write``, ``read``,
    ``in_recovery`` and ``replication_status`` only). Nothing is written until "Write rows" is clicked;
    its keys start at :attr:`FIRST_KEY`, far above the lesson's own. Like ControlPanel, an action never
    raises: a refusal shows as "Refused: ...", anything else as "Unexpected error: ...".
    """

    FIRST_KEY = 10_000
    _show = ControlPanel._show  # the same message line

    def __init__(self, pg: Any) -> None:
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
        }
        self.buttons["write"].on_click(lambda _b: self.run(self._write))
        self.buttons["refresh"].on_click(lambda _b: self.run(lambda: ""))
        self.message, self.table = widgets.HTML(), widgets.HTML()
        controls = widgets.HBox([*self.inputs.values(), *self.buttons.values()])
        self.children = [controls, self.message, self.table]
        self.run(lambda: "Ready: pick a server and write rows on it, or refresh.")

    def _write(self) -> str:
        name, n = self.inputs["server"].value, int(self.inputs["rows"].value)
        start = max([self.FIRST_KEY - 1, *self.pg.read(name)]) + 1  # new keys, even after another panel
        keys = self.pg.write(name, range(start, start + n), "panel")
        return f"{name} acknowledged {len(keys)} new rows (keys {keys[0]} to {keys[-1]})."

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
    from .clients.readers import Readers

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
        return (
            f"{c.leader} ran it (lsn {op.lsn}) and logged {type(entry.change).__name__} "
            f"of {entry.size:,} bytes for each follower. Advance, then compare the rows."
        )

    panel.add_action(
        "sql",
        run,
        inputs={"sql": text},
        button=_button(
            "Run on leader", "Run this SQL on the leader; it ships it the cluster's way", "primary"
        ),
    )
