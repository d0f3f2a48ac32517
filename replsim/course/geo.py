"""Replicas around the world: a leader in one city, followers in others, clients in each.

Round-trip times between the cities, in milliseconds, from published measurements
(each pair's source is in :data:`SOURCES`); a one-way delay is half the round trip.
Real round trips vary with the route and the hour: WonderNetwork's city-to-city ping
tables (https://wondernetwork.com/pings) give current figures, and :func:`geo_cluster`
takes your own ``rtt_ms`` table to try them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..clients.client import LOCAL_DELAY, Client
from ..cluster import Cluster
from ..errors import ConfigError

CITIES = ("San Francisco", "New York", "London", "Tokyo")

RTT_MS: dict[frozenset[str], float] = {
    frozenset({"San Francisco", "New York"}): 78.0,
    frozenset({"San Francisco", "London"}): 130.0,
    frozenset({"San Francisco", "Tokyo"}): 105.0,
    frozenset({"New York", "London"}): 75.0,
    frozenset({"New York", "Tokyo"}): 180.0,
    frozenset({"London", "Tokyo"}): 230.0,
}
"""Round-trip times between the cities, in milliseconds."""

SOURCES: dict[frozenset[str], str] = {
    frozenset({"San Francisco", "New York"}): (
        "WonderProxy, 'Miles per Millisecond' (P. Reinheimer, 2011), server pings Fremont - New York: "
        "77.5-78.4 ms (the measurements that became WonderNetwork's ping tables)"
    ),
    frozenset({"San Francisco", "London"}): (
        "C. Paterson, 'Where's the fastest place to put my server?' (2021), from public latency data: "
        "a user in London to a server in California, about 130 ms"
    ),
    frozenset({"San Francisco", "Tokyo"}): (
        "GeoCables, 'Why is the internet slower than light?': Los Angeles - Tokyo, typically 100-115 ms "
        "(Los Angeles standing in for San Francisco)"
    ),
    frozenset({"New York", "London"}): ("GeoCables, same page: London - New York, typically 70-80 ms"),
    frozenset({"New York", "Tokyo"}): (
        "no direct figure: the route crosses the United States, so San Francisco - New York plus "
        "San Francisco - Tokyo (78 + 105 = 183 ms), rounded down"
    ),
    frozenset({"London", "Tokyo"}): (
        "ExtremeTech (2012), on the Arctic cables: London - Tokyo took about 230 ms in 2012"
    ),
}
"""Where each round-trip time comes from."""


def one_way(a: str, b: str, rtt_ms: Mapping[frozenset[str], float] | None = None) -> float:
    """The one-way delay between cities ``a`` and ``b`` in seconds (half the round trip)."""
    if a == b:
        return LOCAL_DELAY
    table = RTT_MS if rtt_ms is None else rtt_ms
    try:
        return table[frozenset({a, b})] / 2000.0
    except KeyError:
        raise ConfigError(
            f"no round-trip time between {a!r} and {b!r}; the cities are {', '.join(CITIES)}"
        ) from None


def geo_cluster(
    leader: str = "San Francisco",
    followers: Sequence[str] = ("Tokyo", "London", "New York"),
    *,
    rtt_ms: Mapping[frozenset[str], float] | None = None,
    **settings: Any,
) -> Cluster:
    """A cluster with one node per city, named after it, and links as long as the cities are apart.

    ``settings`` go to :class:`Cluster` (``seed``, ``jitter``, ``heartbeat``, ...).
    """
    if "delay" in settings:
        raise ConfigError("geo_cluster() sets each link's delay from the cities; give rtt_ms to change them")
    if isinstance(followers, str) or not isinstance(followers, (list, tuple)) or not followers:
        raise ConfigError(
            f"followers must be a non-empty list of cities ({', '.join(CITIES)}), got {followers!r}"
        )
    names = [leader, *followers]
    c = Cluster(
        leader=leader, followers=list(followers), delay=one_way(names[0], names[1], rtt_ms), **settings
    )
    jitter = settings.get("jitter", 0.0)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            d = one_way(a, b, rtt_ms)
            c.set_link(a, b, delay=d, jitter=min(jitter, d))
    return c


def city_clients(
    cluster: Cluster,
    cities: Sequence[str] | None = None,
    *,
    suffix: str = " user",
    timeout: float = 2.0,
    rtt_ms: Mapping[frozenset[str], float] | None = None,
) -> dict[str, Client]:
    """One client per city (default: each node's city), named ``"<city> user"``, with delays to every node."""
    cities = list(cluster.names if cities is None else cities)
    out = {}
    for city in cities:
        delays = {n: one_way(city, n, rtt_ms) for n in cluster.names}
        out[city] = cluster.client(f"{city}{suffix}", delays=delays, timeout=timeout)
    return out


__all__ = ["CITIES", "RTT_MS", "SOURCES", "one_way", "geo_cluster", "city_clients"]
