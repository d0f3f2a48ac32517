"""The course's scenarios and measures: tested mechanics the lessons call (no widgets, no plots).

- :mod:`.shop`: the small shop's tables and SQL workload (lesson 3);
- :mod:`.methods`: one workload shipped by statement, row or page (lesson 3);
- :mod:`.readers`: reads spread over nodes, stale reads, read scaling (lesson 2);
- :mod:`.sessions`: clients under a read policy, compared (lesson 4);
- :mod:`.geo`: a cluster across cities, with measured round trips (lesson 4);
- :mod:`.split_brain`: lesson 6's partition between east and west;
- :mod:`.elections`: how long an election takes (lesson 6);
- :mod:`.sweep`: each commit mode over many seeded failovers (lesson 7).
"""

from .elections import Outcome, time_to_elect
from .geo import CITIES, RTT_MS, SOURCES, city_clients, geo_cluster, one_way
from .methods import Shipped, ship, sql_store
from .readers import Readers, busy_share, read_scaling, stale_reads
from .sessions import Sessions, compare, one_key, read_stats
from .shop import SHOP_DAY, SHOP_SCHEMA, run_statements
from .split_brain import EAST, WEST, rebuild, split_brain
from .sweep import STANDBYS, commit_sweep, scenario, summary, table

__all__ = [
    "Outcome",
    "time_to_elect",
    "CITIES",
    "RTT_MS",
    "SOURCES",
    "city_clients",
    "geo_cluster",
    "one_way",
    "Shipped",
    "ship",
    "sql_store",
    "Readers",
    "busy_share",
    "read_scaling",
    "stale_reads",
    "Sessions",
    "compare",
    "one_key",
    "read_stats",
    "SHOP_DAY",
    "SHOP_SCHEMA",
    "run_statements",
    "EAST",
    "WEST",
    "rebuild",
    "split_brain",
    "STANDBYS",
    "commit_sweep",
    "scenario",
    "summary",
    "table",
]
