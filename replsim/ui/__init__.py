"""The course's user interface: control panels, their actions, and the plots (the only part of replsim
that imports matplotlib or ipywidgets). Importing it registers every panel action."""

from . import actions, course_actions  # noqa: F401  (registers the actions)
from .panel import ControlPanel, PlotSpec, register_action
from .pg_panel import PgPanel
from .view import ClusterView

__all__ = ["ClusterView", "ControlPanel", "PgPanel", "PlotSpec", "register_action"]
