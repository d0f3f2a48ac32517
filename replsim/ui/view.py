"""The live cluster view: an anywidget whose ES module (``view_data.js`` then ``view.js``, shipped beside
this file) draws the cluster as SVG in the browser, from data the kernel sends (``replsim.ui.scene``).

Nodes with role, health and epoch; clients joined to their node; links, with a partition or a cut
drawn broken; messages moving along their links, marked by kind and fate; each node's log. Play,
pause, speed, step to the next event and the scrub back through the experiment all run in the
browser over data already sent. A second picture, the message timeline, draws one lane per node
with an arrow per message, on the same time cursor.

Use on its own::

    ClusterView(cluster)                   # the cluster, from t = 0 to now
    view.update()                          # after the cluster moved on: send what is new

or inside a :class:`~replsim.ui.ControlPanel` (any panel whose ``plots`` name ``"cluster"``), which
updates it after every action and shows the moment the learner scrubs to in its status table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..errors import ConfigError
from .scene import KINDS, US, Recorder, layout

if TYPE_CHECKING:
    from ..cluster import Cluster

HERE = Path(__file__).parent
SPEEDS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
"""The speeds offered, in virtual seconds per real second."""
MODES = ("cluster", "timeline")


def default_speed(cluster: Cluster) -> float:
    """The speed at which a message on the slowest link between nodes takes about half a second."""
    net = cluster.network
    names = cluster.names
    delays = [net.link(a, b).delay for a in names for b in names if a != b] or [0.005]
    wanted = max(max(delays), 1e-4) / 0.5
    return min(SPEEDS, key=lambda s: abs(s / wanted - 1) if s <= wanted else s / wanted - 1 + 0.5)


class ViewError(ConfigError):
    """A bad setting for the view (a speed of 0, a moment after now, an unknown node)."""


class ClusterView(anywidget.AnyWidget):
    """The cluster drawn in the browser, with play, pause, speed, step and scrub (see the module).

    ``mode``: ``"cluster"`` (the picture) or ``"timeline"`` (one lane per node). ``window``: the
    timeline's (start, end) in seconds, fixed (default: it follows the time cursor). ``kinds``: only
    these message kinds (``scene.KINDS``). Set from the browser: ``cursor`` (the moment shown when
    the learner scrubs or pauses in the past; -1 when following now) and ``selected`` (a node
    clicked). Bad values are refused: ``on_error(text)`` is told why (else the view shows it); good
    ones are passed on to ``on_cursor(moment or None for now)`` and ``on_select(node)``.
    """

    _esm = (HERE / "view_data.js").read_text() + "\n" + (HERE / "view.js").read_text()  # one module
    _css = HERE / "view.css"
    places = traitlets.Dict().tag(sync=True)
    delta = traitlets.Dict().tag(sync=True)
    speed = traitlets.Float(0.1).tag(sync=True)
    cursor = traitlets.Float(-1.0).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    mode = traitlets.Unicode("cluster").tag(sync=True)
    window = traitlets.List([]).tag(sync=True)
    kinds = traitlets.List([]).tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        cluster: Cluster,
        *,
        mode: str = "cluster",
        window: Sequence[float] | None = None,
        kinds: Sequence[str] | None = None,
        speed: float | None = None,
        on_error: Callable[[str], None] | None = None,
        on_cursor: Callable[[float | None], None] | None = None,
        on_select: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if kinds is not None:
            bad = [k for k in kinds if k not in KINDS]
            if bad:
                raise ConfigError(f"unknown message kinds {bad}; the kinds are {', '.join(KINDS)}")
        if window is not None:
            if len(window) != 2 or not 0 <= window[0] < window[1] <= cluster.now:
                raise ConfigError(
                    f"window must be (start, end) with 0 <= start < end <= now ({cluster.now:g} s), "
                    f"got {window!r}"
                )
        super().__init__(
            mode=mode,
            window=[float(w) for w in window] if window else [],
            kinds=list(kinds or []),
            speed=default_speed(cluster) if speed is None else self._checked_speed(speed),
            **kwargs,
        )
        self.on_error, self.on_cursor, self.on_select = on_error, on_cursor, on_select
        self.layout.max_width = "720px"  # about 1.4 px a unit of its drawing: text at 14 px at most
        self._good_speed = self.speed
        self.cluster = cluster
        self.bytes_sent = 0  # the JSON size of the data sent so far (the layout and every delta)
        self.last_sent = 0  # ... and by the last update
        self._recorder = self._new_recorder()
        self.on_msg(self._on_browser_msg)
        self.observe(self._on_speed, names="speed")
        self.observe(self._on_selected, names="selected")
        self.observe(self._on_cursor, names="cursor")
        self.update()

    def __repr__(self) -> str:
        return "Cluster view: run this cell to draw it"  # shown where the widget cannot be drawn

    # --- sending --------------------------------------------------------------------
    def use(self, cluster: Cluster) -> None:
        """Draw another cluster from now on (its whole past is sent)."""
        self.cluster = cluster
        self._recorder = self._new_recorder()
        self.speed = default_speed(cluster)
        self.update()

    def _new_recorder(self) -> Recorder:
        return Recorder(self.cluster, tuple(self.window) if self.window else None)

    def update(self) -> int:
        """Send the browser what happened since the last update (and the layout if it changed).

        Returns the size of what was sent, in bytes of JSON.
        """
        import json

        sent = 0
        places = layout(self.cluster)
        if places != self.places:
            self.places = places
            sent += len(json.dumps(places))
        delta = self._recorder.delta()
        if delta is not None:
            self.delta = delta
            sent += len(json.dumps(delta))
        self.last_sent = sent
        self.bytes_sent += sent
        return sent

    def _on_browser_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "resync":  # the browser lost the past
            self._recorder = self._new_recorder()
            self.update()

    # --- what the browser (or a learner's cell) sets ----------------------------------
    @staticmethod
    def _checked_speed(speed: Any) -> float:
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0 < speed <= 1000:
            raise ViewError(
                f"speed must be a number of virtual seconds per real second, above 0 and at most 1000; "
                f"got {speed!r}"
            )
        return float(speed)

    def _refuse(self, text: str) -> None:
        if self.on_error is not None:
            self.on_error(text)
        else:
            self.note = text

    def _on_speed(self, change: dict) -> None:
        try:
            self._good_speed = self._checked_speed(change["new"])
        except ViewError as exc:
            self.speed = self._good_speed
            self._refuse(str(exc))

    def _on_selected(self, change: dict) -> None:
        name = change["new"]
        if not name:
            return
        if name not in self.cluster.nodes:
            known = ", ".join(self.cluster.names)
            self.selected = ""
            self._refuse(f"there is no node called {name}; the nodes are {known}")
        elif self.on_select is not None:
            self.on_select(name)

    def _on_cursor(self, change: dict) -> None:
        t = change["new"]
        if t != -1.0 and not 0 <= t <= self.cluster.now + 1 / US:
            with self.hold_trait_notifications():
                self.unobserve(self._on_cursor, names="cursor")
                self.cursor = -1.0
                self.observe(self._on_cursor, names="cursor")
            self._refuse(f"cannot show t = {t:g} s: pick a moment from 0 to now (t = {self.cluster.now:g} s)")
        elif self.on_cursor is not None:
            self.on_cursor(self.looking_at())

    def looking_at(self) -> float | None:
        """The past moment the learner chose in the browser, or None when it follows now."""
        return None if self.cursor < 0 or self.cursor >= self.cluster.now else self.cursor


__all__ = ["ClusterView", "ViewError", "SPEEDS", "default_speed"]
