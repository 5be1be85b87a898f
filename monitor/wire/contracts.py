"""Topic contracts: one field table per topic, from which the JSON Schemas in ``schemas/`` and the validator derive."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.wire.fields import MAX_ID_LENGTH, Contract, ContractError, Field, parse_timestamp

__all__ = [
    "ContractError",
    "Field",
    "Contract",
    "ORDER_STATUS",
    "REVIEW",
    "STORE_VISIBILITY",
    "ALERT",
    "DEAD_LETTER",
    "STORE_COMMAND",
    "CONTRACTS",
    "ORDER_STATUSES",
    "parse_timestamp",
    "MAX_ID_LENGTH",
]

ORDER_STATUSES = ("created", "accepted", "assembled", "in_delivery", "delivered", "cancelled")

ORDER_STATUS = Contract(
    topic="order-status",
    title="Order status change",
    key="order_id",
    fields=(
        Field("event_id", "id", "unique id of this status change: repeated with the same contents it changes "
              "nothing; repeated with other contents it is dead-lettered (DUPLICATE_EVENT_ID)"),
        Field("order_id", "id", "order id; also the message key"),
        Field("store_id", "id", "partner store fulfilling the order"),
        Field("city", "id", "city of the store"),
        Field("status", "enum", "new status; moves forward only, cancelled is terminal", options=ORDER_STATUSES),
        Field("promised_at", "timestamp", "delivery deadline promised to the customer"),
        Field("occurred_at", "timestamp", "when the status changed (event time)"),
    ),
)

REVIEW = Contract(
    topic="reviews",
    title="Customer review",
    key="review_id",
    fields=(
        Field("review_id", "id", "unique review id; also the message key (duplicates are ignored)"),
        Field("order_id", "id", "the reviewed order"),
        Field("store_id", "id", "the reviewed store"),
        Field("city", "id", "city of the store"),
        Field("rating", "int", "rating on the 1..5 scale", lo=1, hi=5),
        Field("text", "text", "review text, may be empty"),
        Field("created_at", "timestamp", "when the review was written (event time)"),
    ),
)

STORE_COMMAND = Contract(
    topic="store-commands",
    title="Operator command about a store",
    key="store_id",
    fields=(
        Field("command_id", "id", "unique id of the command"),
        Field("command", "enum", "what to do", options=("restore", "acknowledge")),
        Field("store_id", "id", "the store"),
        Field("city", "id", "city of the store"),
        Field("by", "id", "who asked for it"),
        Field("note", "text", "why (for the record)"),
        Field("at", "timestamp", "when it was asked"),
    ),
)

STORE_VISIBILITY = Contract(
    topic="store-visibility",
    title="Store visibility change",
    key="store_id",
    fields=(
        Field("event_id", "id", "deterministic id: (action, store, city, incident number)"),
        Field("store_id", "id", "the store"),
        Field("city", "id", "city of the store"),
        Field("action", "enum", "hide or restore", options=("hide", "restore")),
        Field("reason", "text", "machine-readable reason, e.g. HIDE_LATE_AND_AT_RISK or MANUAL_RESTORE"),
        Field("source", "enum", "auto (rule) or manual (operator)", options=("auto", "manual")),
        Field("at", "timestamp", "event time of the decision"),
        Field("incident", "int", "incident number of this store (1, 2, ...)", lo=1, required=False),
        Field("late", "int", "late orders counted as evidence", lo=0, required=False),
        Field("at_risk", "int", "at-risk orders counted as evidence", lo=0, required=False),
        Field("late_order_ids", "id_list", "ids of the late orders", required=False),
        Field("at_risk_order_ids", "id_list", "ids of the at-risk orders", required=False),
        Field("by", "text", "operator who restored the store (manual only)", nullable=True, required=False),
        Field("note", "text", "operator's note (manual only)", nullable=True, required=False),
    ),
)

ALERT = Contract(
    topic="alerts",
    title="Alert",
    key="alert_id",
    fields=(
        Field("alert_id", "id", "stable dedup key: same incident, same id, in replays too"),
        Field("kind", "id", "store_hidden, order_late, order_at_risk, negative_review, store_negativity, ..."),
        Field("severity", "enum", "info, warning or critical", options=("info", "warning", "critical")),
        Field("status", "enum", "firing or resolved", options=("firing", "resolved")),
        Field("store_id", "id", "the store, or null for city-wide alerts", nullable=True),
        Field("city", "id", "the city"),
        Field("summary", "text", "one line a person can read"),
        Field("details", "object", "evidence: counts, ids, deadlines"),
        Field("at", "timestamp", "event time of the decision"),
    ),
)

DEAD_LETTER = Contract(
    topic="dead-letters",
    title="Dead letter",
    key="original key",
    fields=(
        Field("topic", "id", "topic the message came from"),
        Field("partition", "int", "its partition", lo=0),
        Field("offset", "int", "its offset", lo=0),
        Field("key", "base64", "its raw key, base64 (null if it had none)", nullable=True),
        Field("value", "base64", "its raw value, base64 (null if it had none); at most dead_letter_excerpt_bytes",
              nullable=True),
        Field("error", "text", "why it could not be processed, for a person"),
        Field("at", "timestamp", "when it was dead-lettered (wall clock)"),
        Field("value_size", "int", "size of the original value in bytes", lo=0, nullable=True, required=False),
        Field("value_sha256", "text", "SHA-256 of the original value (hex)", nullable=True, required=False),
        Field("truncated", "bool", "key or value is an excerpt: the first dead_letter_excerpt_bytes of the value, "
              "1 KiB of the key", required=False),
    ),
)

CONTRACTS: Mapping[str, Contract] = {
    c.topic: c for c in (ORDER_STATUS, REVIEW, STORE_COMMAND, STORE_VISIBILITY, ALERT, DEAD_LETTER)
}
