"""Review negativity tables: day buckets per (store, city) and per city, in RocksDB, recovered from changelogs."""

from __future__ import annotations

from monitor.domain.negativity import NegativityState
from monitor.worker.app import app, settings
from monitor.worker.faust_adapter import on_partitions_assigned
from monitor.worker.tables.cache import CachedTable

__all__ = ["store_reviews", "city_reviews"]

# co-partitioned with <app>-reviews-by-store (key store_key(store, city))
store_reviews: CachedTable[NegativityState] = CachedTable(
    app.Table("store-reviews", key_type=bytes, value_type=bytes, partitions=settings.partitions,
              options=settings.rocksdb_options(),
              help="per (store, city): review day buckets, seen review ids, negativity alert state"),
    NegativityState.from_bytes, NegativityState.to_bytes,
)
# co-partitioned with <app>-reviews-by-city (key city)
city_reviews: CachedTable[NegativityState] = CachedTable(
    app.Table("city-reviews", key_type=bytes, value_type=bytes, partitions=settings.partitions,
              options=settings.rocksdb_options(),
              help="per city: review day buckets and negativity alert state"),
    NegativityState.from_bytes, NegativityState.to_bytes,
)


@on_partitions_assigned(app)
async def _drop_caches(sender: object, assigned: object = None, **kwargs: object) -> None:
    store_reviews.clear()
    city_reviews.clear()
