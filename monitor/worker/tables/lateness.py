"""The ``city-lateness`` table: deliveries per city and event hour, in RocksDB, recovered from its changelog."""

from __future__ import annotations

from monitor.domain.lateness import CityLatenessState
from monitor.worker.app import app, settings
from monitor.worker.faust_adapter import on_partitions_assigned
from monitor.worker.tables.cache import CachedTable

__all__ = ["city_lateness"]

# co-partitioned with <app>-deliveries-by-city (key city)
city_lateness: CachedTable[CityLatenessState] = CachedTable(
    app.Table("city-lateness", key_type=bytes, value_type=bytes, partitions=settings.partitions,
              options=settings.rocksdb_options(),
              help="per city: deliveries and courier-late deliveries per event hour, lateness alert state"),
    CityLatenessState.from_bytes, CityLatenessState.to_bytes,
)


@on_partitions_assigned(app)
async def _drop_cache(sender: object, assigned: object = None, **kwargs: object) -> None:
    city_lateness.clear()
