"""Seeded random fault schedules, and the checks of what each replication mode promises.

The public name of :mod:`replsim.dst` (deterministic simulation testing), where the
code lives: :mod:`replsim.dst.schedule` makes a schedule from a seed,
:mod:`replsim.dst.run` runs and checks it and shrinks a failure to a short replay,
:mod:`replsim.dst.compare` runs many against each failover design.

    >>> report = explore(Config(mode="all"), seeds=range(100))
    >>> report.failures
    []
"""

from .dst import *  # noqa: F403
from .dst import __all__  # noqa: F401
