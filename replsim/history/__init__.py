"""What happened (the record), what it adds up to (measures), and what went wrong (checks)."""

from .record import FAIL, INFO, OK, PENDING, Event, History, NodeTrack, Op, RecordError, State

__all__ = ["History", "Op", "Event", "State", "NodeTrack", "RecordError", "OK", "FAIL", "INFO", "PENDING"]
