"""The worker's internal protocol (monitor/wire/protocol.py): every message kind round-trips, and what does not
read as its kind is refused with a reason (the message, or the one packed event, is dead-lettered)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest

from monitor.wire.codec import DecodeError
from monitor.wire.protocol import (
    HEADER,
    BatchHead,
    CityDeliveries,
    CityReview,
    Heartbeat,
    OrderEvent,
    ProgressMarker,
    ProtocolError,
    ReviewEvent,
    pack,
    packed_within,
    read_header,
    unpack,
)
from monitor.worker.ingest import BATCH_BYTES_MAX

T, H = 1_771_059_600_000, 3_600_000


@dataclass
class Message:
    headers: list[tuple[str, bytes]] | None
    topic: str = "qm-order-status-by-store"


ORDER = OrderEvent("o-1", "st-1", "Kazan", "created", T, T + H, 17)
REVIEW = ReviewEvent("r-1", "o-1", "st-1", "Kazan", 1, "ужас", T, 3)


def test_events_round_trip_through_a_batch_in_order() -> None:
    raw = pack([ORDER, REVIEW])
    fields = unpack(Message(BatchHead(0, 2).headers()), raw)
    assert [OrderEvent.unpacked(fields[0]), ReviewEvent.unpacked(fields[1])] == [ORDER, REVIEW]


def test_batches_of_long_reviews_are_split_to_fit_the_broker() -> None:
    """500 reviews of 2,000 four-byte characters each (4 MB together) leave ingest in messages of at most
    512 KiB, in their order, none lost."""
    events = [ReviewEvent(f"r{i}", "o", "s", "Moscow", 1, "😡" * 2000, T, i) for i in range(500)]
    parts = packed_within(events, BATCH_BYTES_MAX)
    assert all(len(p) <= BATCH_BYTES_MAX for p in parts) and len(parts) > 1
    assert [ReviewEvent.unpacked(f) for p in parts for f in orjson.loads(p)] == events


@pytest.mark.parametrize("head", [BatchHead(3, 4), Heartbeat(1, 4, True, T, T - H), Heartbeat(0, 1, False, T, -1)])
def test_headers_round_trip(head: BatchHead | Heartbeat) -> None:
    assert read_header(Message(head.headers())) == head


@pytest.mark.parametrize(("headers", "reason"), [
    (None, "without the 'qm' header"),
    ([("other", b"b:1:2")], "without the 'qm' header"),
    ([(HEADER, b"x:1:2")], "unknown message kind 'x:1:2'"),
    ([(HEADER, b"b:1")], "unknown message kind"),
    ([(HEADER, b"b:one:2")], "unknown message kind"),
    ([(HEADER, b"h:1:2:yes:5:6")], "unknown message kind"),
    ([(HEADER, b"\xff\xfe")], "unknown message kind"),
])
def test_a_bad_header_is_a_decode_error_naming_the_topic(headers: list | None, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        read_header(Message(headers))
    assert info.value.reason.startswith("qm-order-status-by-store: ") and reason in info.value.reason


@pytest.mark.parametrize("value", [b"not json", b'{"a": 1}'])
def test_a_batch_that_is_not_a_list_is_a_decode_error(value: bytes) -> None:
    with pytest.raises(DecodeError):
        unpack(Message(None), value)


@pytest.mark.parametrize("fields", [
    None, "o-1", [], ORDER.packed()[:6], [*ORDER.packed(), 1], ["o-1", "st-1", "Kazan", "created", "T", T, 1],
    ["o-1", "st-1", "Kazan", "created", T, T, True], [1, "st-1", "Kazan", "created", T, T, 1],
])
def test_a_malformed_order_event_is_a_protocol_error(fields: object) -> None:
    """One bad packed event is that event's fault alone (the guard dead-letters it; the batch goes on)."""
    with pytest.raises(ProtocolError):
        OrderEvent.unpacked(fields)


def test_a_malformed_review_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        ReviewEvent.unpacked([*REVIEW.packed()[:4], "five", *REVIEW.packed()[5:]])


def test_city_messages_round_trip() -> None:
    assert CityDeliveries.decode("t", CityDeliveries(T, 10, 2).encode()) == CityDeliveries(T, 10, 2)
    assert ProgressMarker.decode("t", ProgressMarker(1, 4, T).encode()) == ProgressMarker(1, 4, T)
    assert CityReview.decode_all("t", CityReview.encode_all([["r-1", T, 1], ["r-2", T + 1, 0]])) == [
        CityReview("r-1", T, True), CityReview("r-2", T + 1, False)]


@pytest.mark.parametrize(("decode", "value"), [
    (CityDeliveries.decode, b'{"h": 1, "d": 2}'), (CityDeliveries.decode, b"[]"), (CityDeliveries.decode, b"{"),
    (ProgressMarker.decode, b'{"s": 0, "n": "4", "t": 1}'), (CityReview.decode_all, b'[["r", "T", 1]]'),
    (CityReview.decode_all, b'{"r": 1}'),
])
def test_a_bad_city_message_is_a_decode_error(decode, value: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DecodeError) as info:
        decode("qm-reviews-by-city", value)
    assert info.value.reason.startswith("qm-reviews-by-city: ")
