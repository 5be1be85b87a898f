"""The per-message guard of the agents (``monitor/worker/agents/guard.py``): which errors stop the worker, which ones are
one message's own fault (dead-lettered as RULE_FAILED), and where a packed event came from whatever its shape."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    NotLeaderForPartitionError,
    ProducerClosed,
    RecordTooLargeError,
    RequestTimedOutError,
    UnknownTopicOrPartitionError,
)
from faust.exceptions import ProducerSendError

from monitor.wire.codec import DecodeError
from monitor.worker.agents import guard
from monitor.worker.agents.guard import RULE_FAILED, is_infrastructure, own_faults, packed_origin
from monitor.worker.deadletters import Origin

INFRASTRUCTURE = {
    "kafka-error": KafkaError(),
    "connection": KafkaConnectionError("connection to 127.0.0.1:9092 lost"),
    "node-not-ready": NodeNotReadyError(),
    "kafka-timeout": KafkaTimeoutError(),
    "request-timed-out": RequestTimedOutError(),
    "not-leader": NotLeaderForPartitionError(),
    "os-error": OSError(28, "No space left on device"),
    "connection-reset": ConnectionResetError(),
    "timeout": TimeoutError(),
    "permission": PermissionError("state dir"),
    "memory": MemoryError(),
    "rocksdb-io": Exception("IO error: No space left on device"),
    "rocksdb-corruption": Exception("Corruption: block checksum mismatch"),
    "rocksdb-no-space": Exception("No space left on device"),
}
OWN_FAULT = {
    "message-too-large": MessageSizeTooLargeError(),
    "record-too-large": RecordTooLargeError(),
    "value": ValueError("bad value"),
    "key": KeyError("order_id"),
    "zero-division": ZeroDivisionError("division by zero"),
    "type": TypeError("'NoneType' object is not subscriptable"),
    "index": IndexError("list index out of range"),
    "runtime": RuntimeError("injected fault"),
    "assertion": AssertionError(),
    "plain-exception": Exception("something else"),
    "io-text-later": Exception("rule said: IO error"),  # a disk message starts with it, it does not contain it
    "io-text-subclass": RuntimeError("IO error: not from RocksDB"),  # RocksDB raises a plain Exception
}


def sent_by_faust(cause: BaseException | None) -> ProducerSendError:
    """What ``await topic.send(...)`` raises when the aiokafka producer refuses a record: faust 0.15's aiokafka
    driver (``Producer.send``) re-raises every ``KafkaError`` as ``ProducerSendError(...) from exc``."""
    try:
        if cause is None:
            raise ProducerSendError("Transaction producer missing")
        try:
            raise cause
        except KafkaError as exc:
            raise ProducerSendError(f"Error while sending: {exc!r}") from exc
    except ProducerSendError as exc:
        return exc


class TestIsInfrastructure:
    @pytest.mark.parametrize("exc", INFRASTRUCTURE.values(), ids=INFRASTRUCTURE.keys())
    def test_broker_and_disk_trouble_stops_the_worker(self, exc: BaseException) -> None:
        assert is_infrastructure(exc) is True

    @pytest.mark.parametrize("exc", OWN_FAULT.values(), ids=OWN_FAULT.keys())
    def test_a_fault_of_the_message_is_its_own(self, exc: BaseException) -> None:
        assert is_infrastructure(exc) is False

    @pytest.mark.parametrize("cause", [KafkaTimeoutError(), UnknownTopicOrPartitionError(), ProducerClosed(),
                                       KafkaConnectionError("gone"), None],
                             ids=["buffer-full", "no-metadata", "producer-closed", "connection", "no-cause"])
    def test_a_send_refused_by_the_broker_through_faust_stops_the_worker(self, cause: BaseException) -> None:
        """An output that cannot be sent because of the broker is broker trouble, though faust wraps it."""
        assert is_infrastructure(sent_by_faust(cause)) is True

    @pytest.mark.parametrize("cause", [MessageSizeTooLargeError(), RecordTooLargeError()], ids=["message", "record"])
    def test_an_output_too_large_through_faust_is_its_own(self, cause: BaseException) -> None:
        assert is_infrastructure(sent_by_faust(cause)) is False


class Recorder:
    """Stands in for ``send_to_dead_letters``: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, str]] = []

    async def __call__(self, message: Any, error: str) -> None:
        self.sent.append((message, error))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str]]:
    recorder = Recorder()
    monkeypatch.setattr(guard, "send_to_dead_letters", recorder)
    return recorder.sent


ORIGIN = Origin("order-status", 1, 42, b"o-7", b'["o-7"]')


async def _raise_in_block(exc: BaseException | None, origin: Any = ORIGIN, what: str = "the order rules") -> str:
    async with own_faults(origin, what):
        if exc is not None:
            raise exc
    return "went on"


class TestOwnFaults:
    def test_an_origin_function_runs_only_when_the_block_fails(self, sent: list) -> None:
        """The agents pass a function for the origin, so a healthy event costs no origin (hot path)."""
        calls: list[int] = []

        def make() -> Origin:
            calls.append(1)
            return ORIGIN

        assert asyncio.run(_raise_in_block(None, origin=make)) == "went on" and calls == [] and sent == []
        assert asyncio.run(_raise_in_block(ValueError("x"), origin=make)) == "went on" and calls == [1]
        assert sent[0][0] is ORIGIN and "the order rules on b'o-7' raised ValueError: x" in sent[0][1]

    def test_a_rule_error_is_dead_lettered_and_the_caller_goes_on(self, sent: list) -> None:
        assert asyncio.run(_raise_in_block(ValueError("rating 'x'"), what="the order rules on order b'o-7'")) \
            == "went on"
        assert len(sent) == 1
        origin, reason = sent[0]
        assert origin is ORIGIN
        assert RULE_FAILED == "RULE_FAILED"
        assert "RULE_FAILED" in reason
        assert "the order rules on order b'o-7'" in reason
        assert "ValueError: rating 'x'" in reason
        assert reason.startswith("order-status: ")  # the topic first, as every other dead-letter reason

    @pytest.mark.parametrize("exc", OWN_FAULT.values(), ids=OWN_FAULT.keys())
    def test_every_fault_of_its_own_is_swallowed(self, sent: list, exc: BaseException) -> None:
        assert asyncio.run(_raise_in_block(exc)) == "went on"
        assert len(sent) == 1 and RULE_FAILED in sent[0][1]
        assert type(exc).__name__ in sent[0][1]

    def test_a_long_error_is_cut_in_the_reason(self, sent: list) -> None:
        asyncio.run(_raise_in_block(ValueError("x" * 10_000)))
        assert len(sent[0][1]) < 700

    def test_a_faust_message_is_dead_lettered_as_it_is(self, sent: list) -> None:
        class Message:
            topic, partition, offset, key, value = "app-order-status-by-store", 0, 9, None, b"..."

        message = Message()
        asyncio.run(_raise_in_block(KeyError("h"), origin=message, what="the store agent"))
        assert sent[0][0] is message
        assert sent[0][1].startswith("app-order-status-by-store: RULE_FAILED: the store agent raised KeyError")

    def test_nothing_is_recorded_when_the_block_succeeds(self, sent: list) -> None:
        assert asyncio.run(_raise_in_block(None)) == "went on"
        assert sent == []

    def test_continue_inside_the_block_skips_to_the_next_item(self, sent: list) -> None:
        async def loop() -> list[int]:
            done = []
            for i in range(4):
                async with own_faults(ORIGIN, f"item {i}"):
                    if i == 1:
                        continue
                    if i == 2:
                        raise ValueError("two")
                    done.append(i)
            return done

        assert asyncio.run(loop()) == [0, 3]
        assert len(sent) == 1 and "item 2" in sent[0][1]

    def test_a_decode_error_is_dead_lettered_with_its_own_reason(self, sent: list) -> None:
        """A message that does not read as its kind: its reason as it is, not RULE_FAILED."""
        assert asyncio.run(_raise_in_block(DecodeError("order-status: not valid JSON"))) == "went on"
        assert sent == [(ORIGIN, "order-status: not valid JSON")]

    @pytest.mark.parametrize("exc", [OSError(5, "I/O error"), KafkaConnectionError("gone"), NodeNotReadyError(),
                                     Exception("IO error: No space left on device")],
                             ids=["os-error", "kafka-connection", "node-not-ready", "rocksdb-io"])
    def test_infrastructure_errors_pass_through_unrecorded(self, sent: list, exc: BaseException) -> None:
        with pytest.raises(type(exc)) as raised:
            asyncio.run(_raise_in_block(exc))
        assert raised.value is exc
        assert sent == []

    def test_a_send_the_broker_refused_passes_through_unrecorded(self, sent: list) -> None:
        """``publish`` in the block fails because the broker cannot take the output (faust wraps the error)."""
        exc = sent_by_faust(KafkaTimeoutError())
        with pytest.raises(ProducerSendError):
            asyncio.run(_raise_in_block(exc))
        assert sent == []

    def test_an_output_too_large_is_dead_lettered(self, sent: list) -> None:
        assert asyncio.run(_raise_in_block(sent_by_faust(MessageSizeTooLargeError()))) == "went on"
        assert len(sent) == 1 and "ProducerSendError" in sent[0][1] and "MessageSizeTooLargeError" in sent[0][1]

    def test_cancellation_passes_through(self, sent: list) -> None:
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(_raise_in_block(asyncio.CancelledError()))
        assert sent == []

    def test_a_failing_dead_letter_send_propagates(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The broker refusing the dead letter itself is broker trouble: the worker stops (nothing is lost)."""
        async def broken(message: Any, error: str) -> None:
            raise KafkaConnectionError("dead-letters unreachable")

        monkeypatch.setattr(guard, "send_to_dead_letters", broken)
        with pytest.raises(KafkaConnectionError):
            asyncio.run(_raise_in_block(ValueError("rule")))


ORDER_EVENT = ["o-1", "st-1", "Moscow", "created", 1_771_059_600_000, 1_771_070_400_000, 17]


class TestPackedOrigin:
    def test_a_well_formed_event(self) -> None:
        origin = packed_origin("order-status", 1, ORDER_EVENT, 6)
        assert origin == Origin("order-status", 1, 17, b"o-1", orjson.dumps(ORDER_EVENT))

    @pytest.mark.parametrize("event", [None, {"order_id": "o-1", "offset": 17}, "o-1", 17, b"o-1", 1.5],
                             ids=["none", "dict", "str", "int", "bytes", "float"])
    def test_not_a_list(self, event: Any) -> None:
        origin = packed_origin("order-status", 0, event, 6)
        assert (origin.topic, origin.partition, origin.offset, origin.key) == ("order-status", 0, -1, None)
        assert isinstance(origin.value, bytes)

    @pytest.mark.parametrize("event", [[], ["o-1"], ["o-1", "st-1", "Moscow", "created", 1, 2]],
                             ids=["empty", "one-field", "no-offset"])
    def test_a_short_list(self, event: list) -> None:
        origin = packed_origin("order-status", 0, event, 6)
        assert origin.offset == -1
        assert origin.key == (b"o-1" if event else None)
        assert origin.value == orjson.dumps(event)

    @pytest.mark.parametrize("offset", ["17", 17.0, None, [17]], ids=["str", "float", "none", "list"])
    def test_an_offset_that_is_not_an_int(self, offset: Any) -> None:
        origin = packed_origin("order-status", 0, [*ORDER_EVENT[:6], offset], 6)
        assert origin.offset == -1
        assert origin.key == b"o-1"

    def test_a_key_that_is_not_a_string_and_values_json_cannot_hold(self) -> None:
        event = [7, object(), b"raw", 1.0, None, {1, 2}, 5]
        origin = packed_origin("reviews", 0, event, 6)
        assert (origin.offset, origin.key) == (5, None)
        assert orjson.loads(origin.value)[0] == 7  # unserializable fields are kept as their repr

    def test_a_review_offset_is_at_index_seven(self) -> None:
        review = ["r-1", "o-1", "st-1", "Moscow", 1, "awful", 1_771_059_600_000, 3]
        origin = packed_origin("reviews", 1, review, 7)
        assert (origin.topic, origin.partition, origin.offset, origin.key) == ("reviews", 1, 3, b"r-1")
