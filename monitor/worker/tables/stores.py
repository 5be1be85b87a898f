"""The ``store-state`` table: one compact JSON value per (store, city), in RocksDB, recovered from its changelog."""

from __future__ import annotations

from monitor.worker.app import app, settings

__all__ = ["store_table"]

# Keyed by store_key(store_id, city); written while processing the store's partition, so its changelog
# partition is the store's partition (co-partitioned with order-status-by-store and store-commands).
store_table = app.Table(
    "store-state",
    key_type=bytes,  # faust picks the raw serializer for bytes: values are our own compact JSON
    value_type=bytes,
    partitions=settings.partitions,
    options=settings.rocksdb_options(),
    help="per (store, city): recent order facts, visibility incident, daily totals",
)
