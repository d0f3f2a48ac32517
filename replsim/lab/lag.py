"""Watching real standbys fall behind: sample pg_stat_replication while a burst of writes runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ConfigError, NodeStateError

PRIMARY = "primary"


@dataclass(frozen=True)
class ReplicationRow:
    """One row of pg_stat_replication: a standby as its upstream sees it (lags in seconds)."""

    standby: str
    state: str
    sent_lsn: str
    write_lsn: str
    flush_lsn: str
    replay_lsn: str
    write_lag: float | None
    flush_lag: float | None
    replay_lag: float | None
    sync_state: str
    lag_bytes: int  # WAL the upstream has that the standby has not replayed yet


class Servers(Protocol):
    """What sampling needs of a cluster of PostgreSQL servers (``postgres.PgCluster``)."""

    def sql(self, name: str, query: str, params: Iterable[Any] | None = None) -> list[tuple]: ...
    def replication_status(self, name: str = PRIMARY) -> list[ReplicationRow]: ...
    def wait_caught_up(self, name: str, timeout: float = 15.0) -> None: ...
    def pause_replay(self, name: str) -> None: ...
    def resume_replay(self, name: str) -> None: ...


@dataclass(frozen=True)
class LagSample:
    """One pg_stat_replication row taken ``t`` seconds after a write burst began."""

    t: float
    row: ReplicationRow


def sample_lag(
    pg: Servers,
    primary: str = PRIMARY,
    transactions: int = 40,
    rows: int = 2000,
    interval: float = 0.01,
    pause: tuple[str, float] | None = None,
) -> list[LagSample]:
    """Write a burst on primary (``transactions`` inserts of ``rows`` rows each, in a thread) and sample
    pg_stat_replication every ``interval`` seconds until every standby has caught up again.

    ``pause``: ``(standby, seconds)``: that standby's replay is paused from the burst's start for that
    long (``pg_wal_replay_pause()``), so its lag grows, then falls as it catches up; on one machine an
    unpaused standby's lag is over in milliseconds.
    """
    pg.sql(primary, "CREATE TABLE IF NOT EXISTS burst (id bigserial PRIMARY KEY, pad text NOT NULL)")
    standbys = [r.standby for r in pg.replication_status(primary)]
    if pause is not None:
        held, seconds = pause
        if held not in standbys:
            raise ConfigError(
                f"pause: {held!r} is not a streaming standby of {primary!r}; they are {standbys}"
            )
        if not 0 < seconds <= 60:
            raise ConfigError(f"pause: the seconds must be more than 0 and at most 60, got {seconds!r}")
    for name in standbys:
        pg.wait_caught_up(name)
    failed: list[BaseException] = []

    def burst() -> None:
        try:
            for _ in range(transactions):
                pg.sql(
                    primary,
                    "INSERT INTO burst (pad) SELECT repeat('x', 200) FROM generate_series(1, %s)",
                    (rows,),
                )
        except BaseException as err:  # reported by the caller's thread
            failed.append(err)

    writer = threading.Thread(target=burst, name="replsim-burst")
    samples: list[LagSample] = []
    if pause is not None:
        pg.pause_replay(pause[0])
    paused = pause is not None
    began = time.monotonic()
    writer.start()
    try:
        while True:
            now = time.monotonic() - began
            if paused and now >= pause[1]:
                pg.resume_replay(pause[0])
                paused = False
            rows_now = pg.replication_status(primary)
            samples += [LagSample(now, r) for r in rows_now]
            if not writer.is_alive() and all(r.lag_bytes == 0 for r in rows_now):
                break
            if now > 120:
                raise NodeStateError("the standbys did not catch up within 120 s of the burst")
            time.sleep(interval)
    finally:  # a standby is never left paused, however this ends
        if paused:
            pg.resume_replay(pause[0])
    writer.join()
    if failed:
        raise failed[0]
    return samples
