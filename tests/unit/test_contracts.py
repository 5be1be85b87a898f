"""Topic contracts: JSON Schemas and the runtime codec accept and reject the same samples."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from monitor.wire import records
from monitor.wire.codec import DecodeError, dead_letter, decode_order_status, decode_review, encode
from monitor.wire.contracts import CONTRACTS, ContractError, parse_timestamp

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"

ORDER = {"event_id": "e-1", "order_id": "o-1", "store_id": "s-1", "city": "Moscow", "status": "created",
         "promised_at": "2026-02-14T12:00:00+03:00", "occurred_at": "2026-02-14T10:00:00+03:00"}
REVIEW = {"review_id": "r-1", "order_id": "o-1", "store_id": "s-1", "city": "Moscow", "rating": 5, "text": "",
          "created_at": "2026-02-14T18:00:00Z"}


def schema(topic: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{topic}.schema.json").read_text())


def schema_accepts(topic: str, value: Any) -> bool:
    validator = jsonschema.Draft202012Validator(schema(topic), format_checker=jsonschema.FormatChecker())
    return not list(validator.iter_errors(value))


def changed(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {**base, **changes}
    return {k: v for k, v in out.items() if v is not _DROP}


_DROP = object()


class TestSchemaFiles:
    def test_committed_schemas_match_the_contracts(self) -> None:
        """schemas/*.schema.json are exactly what the contracts generate (run `monitor schemas export`)."""
        for topic, contract in CONTRACTS.items():
            assert schema(topic) == json.loads(json.dumps(contract.json_schema())), topic

    def test_records_have_the_contract_fields(self) -> None:
        """Each Faust record declares the same fields as its topic contract."""
        pairs = {"order-status": records.OrderStatus, "reviews": records.Review,
                 "store-commands": records.StoreCommand, "dead-letters": records.DeadLetter}
        for topic, record in pairs.items():
            assert set(record._options.fields) == {f.name for f in CONTRACTS[topic].fields}, topic

    def test_outputs_and_the_alert_the_dispatcher_reads_have_the_contract_fields(self) -> None:
        """What the rules publish, and the alert as the dispatcher reads it, declare the contract's fields."""
        import dataclasses

        from monitor.alerts.model import AlertEvent
        from monitor.domain.outputs import Alert, StoreVisibility

        for topic, cls in (("store-visibility", StoreVisibility), ("alerts", Alert), ("alerts", AlertEvent)):
            names = {f.name for f in dataclasses.fields(cls)} - {"at_ms"}  # AlertEvent adds at_ms, derived
            assert names == {f.name for f in CONTRACTS[topic].fields}, topic


class TestOrderStatus:
    def test_valid_sample_is_accepted_by_schema_and_codec(self) -> None:
        """A well-formed order event passes both and decodes to aware datetimes."""
        assert schema_accepts("order-status", ORDER)
        order = decode_order_status(orjson.dumps(ORDER))
        assert order.status == "created"
        assert order.promised_at.utcoffset() is not None

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            (changed(ORDER, occurred_at="2026-02-14T10:00:00"), "no UTC offset"),  # naive timestamp
            (changed(ORDER, status="lost"), "not one of"),  # unknown status
            (changed(ORDER, store_id=_DROP), "store_id: required"),  # missing field
            (changed(ORDER, store_id=42), "expected a string"),  # wrong type
            (changed(ORDER, store_id=""), "non-empty"),  # empty id
            (changed(ORDER, occurred_at="1970-01-01T00:00:00Z"), "plausible years"),  # absurd past
            (changed(ORDER, promised_at="2999-01-01T00:00:00Z"), "plausible years"),  # absurd future
            (changed(ORDER, promised_at="tomorrow"), "not an ISO 8601"),  # not a timestamp
        ],
    )
    def test_invalid_samples_are_rejected_by_schema_and_codec(self, value: dict[str, Any], reason: str) -> None:
        """Schema and codec agree on rejection, and the codec's reason names the problem."""
        assert not schema_accepts("order-status", value)
        with pytest.raises(DecodeError, match=reason):
            decode_order_status(orjson.dumps(value))

    def test_created_order_promised_before_creation_is_rejected(self) -> None:
        """A deadline before the order existed is a producer bug (a rule JSON Schema cannot express)."""
        with pytest.raises(DecodeError, match="before the order was created"):
            decode_order_status(orjson.dumps(changed(ORDER, promised_at="2026-02-14T09:00:00+03:00")))

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            (b"{not json", "not valid JSON"),  # broken JSON
            (b"[1, 2]", "expected a JSON object"),  # JSON, but not an object
            (None, "empty message"),  # tombstone
        ],
    )
    def test_undecodable_bytes_are_rejected(self, raw: bytes | None, reason: str) -> None:
        """Bytes that are not a JSON object fail with a reason, never an unexpected exception."""
        with pytest.raises(DecodeError, match=reason):
            decode_order_status(raw)


class TestReview:
    def test_valid_sample_with_empty_text_is_accepted(self) -> None:
        """An empty review text is allowed."""
        assert schema_accepts("reviews", REVIEW)
        assert decode_review(orjson.dumps(REVIEW)).rating == 5

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            (changed(REVIEW, rating=0), "outside 1..5"),  # below the scale
            (changed(REVIEW, rating=6), "outside 1..5"),  # above the scale
            (changed(REVIEW, rating="5"), "expected an integer"),  # a string
            (changed(REVIEW, rating=True), "expected an integer"),  # a boolean is not a rating
            (changed(REVIEW, created_at="2026-02-14 18:00:00"), "no UTC offset|not an ISO"),  # naive
            (changed(REVIEW, review_id=_DROP), "review_id: required"),  # missing field
        ],
    )
    def test_invalid_samples_are_rejected(self, value: dict[str, Any], reason: str) -> None:
        """Schema and codec agree on rejection of bad reviews."""
        assert not schema_accepts("reviews", value)
        with pytest.raises(DecodeError, match=reason):
            decode_review(orjson.dumps(value))


class TestEncoding:
    def test_record_encodes_to_plain_json_with_offsets(self) -> None:
        """Encoded records carry no faust metadata and keep the UTC offset."""
        order = decode_order_status(orjson.dumps(ORDER))
        out = orjson.loads(encode(order))
        assert out == ORDER

    def test_dead_letter_keeps_raw_bytes_in_base64(self) -> None:
        """A dead letter is valid against its schema and round-trips the raw key and value."""
        dl = dead_letter(topic="order-status", partition=1, offset=7, key=b"o-1", value=b"\xff{",
                         error="not valid JSON", at=datetime(2026, 2, 14, tzinfo=UTC))
        out = orjson.loads(encode(dl))
        assert schema_accepts("dead-letters", out)
        assert base64.b64decode(out["value"]) == b"\xff{"
        assert base64.b64decode(out["key"]) == b"o-1"

    def test_parse_timestamp_accepts_z_and_offsets(self) -> None:
        """'Z' and +hh:mm both give aware datetimes at the same instant."""
        assert parse_timestamp("2026-02-14T09:00:00Z") == parse_timestamp("2026-02-14T12:00:00+03:00")
        with pytest.raises(ContractError):
            parse_timestamp(1700000000)


class TestOutputsAreBounded:
    """Every output fits, whatever the input: dead letters and alerts carry excerpts of huge inputs."""

    def test_a_huge_dead_letter_keeps_an_excerpt_its_size_and_its_hash(self) -> None:
        """A 900 KB value that is not JSON (its base64 alone was above the broker's 1 MB) becomes a dead letter
        of about 64 KiB of it, valid against the schema, that still identifies the original."""
        import hashlib

        value = b"\xfe" * 900_000
        dl = dead_letter(topic="order-status", partition=0, offset=3, key=b"k" * 5000, value=value,
                         error="x" * 100_000, at=datetime(2026, 2, 14, tzinfo=UTC))
        raw = encode(dl)
        out = orjson.loads(raw)
        assert len(raw) < 100_000 and schema_accepts("dead-letters", out)
        assert base64.b64decode(out["value"]) == value[:65_536]
        assert (out["value_size"], out["value_sha256"], out["truncated"]) == (
            900_000, hashlib.sha256(value).hexdigest(), True)
        assert len(base64.b64decode(out["key"])) == 1024 and len(out["error"]) <= 4097

    def test_a_small_dead_letter_is_kept_whole(self) -> None:
        """Below the excerpt size nothing is cut."""
        out = orjson.loads(encode(dead_letter(topic="reviews", partition=0, offset=0, key=None, value=b"{",
                                              error="e", at=datetime(2026, 2, 14, tzinfo=UTC))))
        assert (base64.b64decode(out["value"]), out["truncated"], out["value_size"]) == (b"{", False, 1)

    def test_a_negative_review_of_a_mebibyte_gives_an_alert_of_a_few_kilobytes(self) -> None:
        """The review's text is cut with an ellipsis in the alert."""
        from monitor.domain.negativity import negative_review_alert

        emit = negative_review_alert(review_id="r", order_id="o", store_id="s", city="Moscow", rating=1,
                                     text="ужас " * 210_000, created_ms=1_771_059_600_000)
        raw = encode(emit.value)
        assert len(raw) < 10_000
        assert emit.value.details["text"].endswith("…") and len(emit.value.details["text"]) == 2001
