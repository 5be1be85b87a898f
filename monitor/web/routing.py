"""Which worker owns a key, and forwarding a request there (body and auth header included).

Faust's ``table_route`` hashes the table key, but the store table is keyed by ``store_key(store, city)`` while
its partition follows ``store_id`` (what ingest partitions by, and ``store-commands`` are keyed by). So we hash
``store_id`` with the producer's partitioner, and look the partition up in the assignor's table metadata.
"""

from __future__ import annotations

from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from yarl import URL

__all__ = ["partition_for", "owner_url", "forward", "FORWARDED_HEADER"]

FORWARDED_HEADER = "X-Monitor-Forwarded"
_partitioner = DefaultPartitioner()
_PASSED_HEADERS = ("authorization", "content-type", "accept")


def partition_for(key: bytes, partitions: int) -> int:
    """The partition a message keyed ``key`` lands on (murmur2, as faust's aiokafka producer does)."""
    everything = list(range(partitions))
    return int(_partitioner(key, everything, everything))


def _ident(url: Any) -> tuple[str, int]:
    u = URL(str(url))
    return (u.host or "", int(u.port or 80))


def owner_url(app: Any, table: Any, key: bytes, partitions: int) -> URL | None:
    """The URL of the worker that owns ``key``'s partition of ``table``; None if it is this worker or unknown."""
    partition = partition_for(key, partitions)
    topic = table.changelog_topic.get_topic_name()
    for host, topics in app.router.table_metadata(table.name).items():
        if partition in topics.get(topic, ()):
            if _ident(host) == _ident(app.conf.canonical_url):
                return None
            return URL(str(host))
    return None  # not assigned yet: answer from what this worker has


async def forward(app: Any, web: Any, request: Any, dest: URL) -> Any:
    """Send ``request`` to the worker at ``dest`` and relay its answer (one hop: it answers locally)."""
    body = await request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() in _PASSED_HEADERS}
    headers[FORWARDED_HEADER] = "1"
    url = request.url.with_host(dest.host or "127.0.0.1").with_port(dest.port)
    async with app.http_client.request(request.method, url, data=body or None, headers=headers) as resp:
        return web.bytes(await resp.read(), content_type=resp.content_type, status=resp.status)
