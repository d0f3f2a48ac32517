"""The simulation engine: virtual time and timers, seeded random streams, the network and its journal."""

from .journal import FATES, Journal, Message
from .network import Link, Network
from .sim import MAX_EVENTS_PER_RUN, MAX_TIME, Simulator, Timer, stream

__all__ = [
    "Simulator",
    "Timer",
    "stream",
    "MAX_TIME",
    "MAX_EVENTS_PER_RUN",
    "Network",
    "Link",
    "Journal",
    "Message",
    "FATES",
]
