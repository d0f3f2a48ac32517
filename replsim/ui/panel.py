"""A control panel for a cluster: buttons and sliders that act on it and redraw its figures in place.

Use in a notebook::

    panel = ControlPanel(cluster, actions=("write", "crash", "recover", "advance"))
    panel                                   # last expression of the cell: shows it

Every action runs through :meth:`ControlPanel.run`, which never raises: a refusal
by the simulator (a write to a follower, crashing a crashed node) is shown in the
message line as "Refused: ...", anything else as "Unexpected error: ...". After
each action the status table, the live cluster view (``plots`` naming ``"cluster"``: a
:class:`~replsim.ui.view.ClusterView` drawn in the browser, which plays the new interval) and
the other figures (a PNG in an ``ipywidgets.Image``, drawn on one reused Agg figure, so
nothing leaks into the cell's output) update. Scrubbing or pausing the view in the past
shows that moment in the status table and the figures too (rebuilt from the record).

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

from ..cluster import Cluster, status_table
from ..errors import ConfigError, ReplsimError
from .plots import availability_plot, cluster_picture, lag_plot, network_faults
from .view import ClusterView
from .words import panel_words, seconds

if TYPE_CHECKING:
    from ..clients import Writer

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
    ``plots``: names in ``PLOTS`` (or functions taking ``(cluster, ax=...)``, or ``PlotSpec``s), side by side;
    ``"cluster"`` is the live view (``self.view``), drawn in the browser beside the other plots.
    ``timeline``: the look back over the experiment so far (the view's scrub, or without a view a
    "look back" slider); the status and the plots then show the moment chosen, rebuilt from the
    record (nothing is re-run); any action, or "Now", returns to now.
    """

    action_builders: Mapping[str, ActionBuilder] = ACTIONS

    def __init__(
        self,
        cluster: Cluster,
        actions: Sequence[str | ActionBuilder] = DEFAULT_ACTIONS,
        plots: Sequence[str | PlotMaker | PlotSpec] = ("cluster", "lag"),
        title: str | None = None,
        *,
        figsize: tuple[float, float] | None = None,
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
        shows_view = "cluster" in plots
        if figsize is None:  # beside the view: the plots share the other half of the width
            figsize = (5.4, 3.2) if shows_view else (9.5, 3.8)
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
        self._plots = [self._plot_spec(p) for p in plots if p != "cluster"]
        self.status = widgets.HTML()
        self.message = widgets.HTML()
        self.image = widgets.Image(
            format="png",
            layout=widgets.Layout(max_width="100%", height="auto", flex="0 1 auto", min_width="0"),
        )
        if not self._plots:
            self.image.layout.display = "none"
        self.view: ClusterView | None = None
        if shows_view:
            self.view = ClusterView(
                cluster, on_error=self._refused, on_cursor=self._scrubbed, on_select=self._picked
            )
            self.view.layout = widgets.Layout(flex="1 1 460px", min_width="380px", max_width="700px")
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self._axes: list[Axes] | None = None
        self._widened = False  # the margins were widened for the legends
        self._moved = True  # something may have happened since the view's last update
        self._controls = widgets.VBox()
        self.at: float | None = None  # the past moment shown, or None for now
        self._syncing = False
        for action in actions:
            self._build(action)
        if timeline and self.view is None:
            self._build_timeline()
        head = [widgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>")] if title else []
        if self.view is None:
            self.children = [*head, self._controls, self.message, self.status, self.image]
        else:  # the view on the left; the status (its text alternative) and the plots beside it
            side = widgets.VBox(
                [self.image, self.status], layout=widgets.Layout(flex="1 1 420px", min_width="0")
            )
            pictures = widgets.HBox(
                [self.view, side], layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start")
            )
            self.children = [*head, self._controls, self.message, pictures]
        self._show("Ready: pick an action.", kind="info")
        self.refresh()

    def __repr__(self) -> str:
        # what a notebook shows in place of the panel where widgets cannot be drawn (before the cell runs)
        return "Control panel: run this cell to start the panel"

    def use(self, cluster: Cluster) -> None:
        """Drive ``cluster`` from now on: the actions are built again for it, and the figure redrawn."""
        if not isinstance(cluster, Cluster):
            raise ConfigError(f"ControlPanel needs a Cluster to drive, got {cluster!r}")
        if self.writer is not None:
            self.writer.stop()
            self.writer = None
        timeline = "look back" in self.inputs
        self.cluster = cluster
        if self.view is not None:
            self.view.use(cluster)
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

    def _refused(self, text: str) -> None:
        """A bad value set on the view (from the browser or a cell): said in the message line."""
        self.last_error = text
        self._show(f"Refused: {text}", kind="error")

    def _scrubbed(self, t: float | None) -> None:
        """The learner scrubbed or paused the view: show that moment (or now) in the status and plots."""
        if not self._syncing:
            self.run(self._back_to_now if t is None else partial(self._look_back, t))

    def _picked(self, name: str) -> None:
        """A node clicked in the view becomes the choice of the panel's node chooser."""
        chooser = self.inputs.get("node")
        if isinstance(chooser, widgets.Dropdown) and name in chooser.options:
            chooser.value = name
            self.last_error = None
            self._show(f"{name} chosen: the buttons beside the node chooser act on it.", kind="info")

    def _look_back(self, t: float | None = None) -> str:
        if t is None:
            t = float(self.inputs["look back"].value)
        if t >= self.cluster.now - 1e-9:
            return self._back_to_now()
        self.at = t
        return (
            f"Looking back at t = {seconds(t)} (from the record); any action, or Now, "
            f"returns to t = {seconds(self.cluster.now)}."
        )

    def _back_to_now(self) -> str:
        self.at = None
        return f"Showing now: t = {seconds(self.cluster.now)}."

    def _sync_timeline(self) -> None:
        """Keep the slider's range at the experiment so far, and on "now" unless looking back; send the
        view what is new (an action returns it to now)."""
        slider = self.inputs.get("look back")
        self._syncing = True
        try:
            if self.view is not None:
                if self.at is None:
                    self.view.cursor = -1.0
                if self._moved:
                    self.view.update()
            if slider is None:
                return
            now = round(self.cluster.now, 1)
            slider.max = max(now, 0.1)
            slider.value = now if self.at is None else min(self.at, now)
        finally:
            self._syncing = False

    # --- running ----------------------------------------------------------
    def run(self, handler: Callable[[], str | None]) -> bool:
        """Run one action: show its message (or why it failed), then redraw. Never raises.

        Returns True if the action succeeded. An action (other than looking back) shows now again.
        The status and the view are redrawn before the message line changes, so that whoever
        reads the message (a learner, a test) finds the status already saying the same moment.
        """
        looking = handler in (self._look_back, self._back_to_now) or (
            isinstance(handler, partial) and handler.func == self._look_back
        )
        if not looking:
            self.at = None
        self._moved = not looking  # looking back: nothing new for the view to send
        try:
            text, kind, ok = handler() or "Done.", "ok", True
            self.last_error = None
        except ReplsimError as exc:
            self.last_error = str(exc)
            text, kind, ok = f"Refused: {panel_words(str(exc))}", "error", False
        except Exception as exc:  # a widget callback must never raise into the kernel
            self.last_error = f"{type(exc).__name__}: {exc}"
            text, kind, ok = f"Unexpected error: {self.last_error}", "error", False
        self.refresh()
        self._moved = True
        if self.last_error is None or not ok:  # refresh() reports its own failure in the message line
            self._show(text, kind=kind)
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
            if not self._widened and self._widen_for_legends():  # once: then the margins fit
                self._widened = True
                fig.clear()
                self._axes = None
                return self._render()
        return _png(fig.canvas)

    def _widen_for_legends(self) -> bool:
        """Give a plot whose legend spills past its right margin (over the next plot, or off the figure)
        the room it needs; True if a margin changed."""
        fig = self.figure
        assert self._axes is not None
        renderer = fig.canvas.get_renderer()
        changed = False
        for i, ax in enumerate(self._axes):
            legend = ax.get_legend()
            if legend is None:
                continue
            edge = self._axes[i + 1].get_window_extent().x0 if i + 1 < len(self._axes) else fig.bbox.x1
            over = (legend.get_window_extent(renderer).x1 - edge) / fig.dpi
            if over > 0.01:
                spec = self._plots[i]
                self._plots[i] = spec._replace(right=spec.right + float(over) + 0.08)
                changed = True
        return changed

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
        head = f"t = {seconds(v.time)}" + (" (looking back)" if self.at is not None else "")
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
            f"<div class='replsim-status' style='font-size:90%; line-height:1.35'><div>{head}</div>"
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


# --- shared by the action builders -------------------------------------------
def _button(description: str, tooltip: str, style: str = "") -> widgets.Button:
    return widgets.Button(
        description=description, tooltip=tooltip, button_style=style, layout=widgets.Layout(width="auto")
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
