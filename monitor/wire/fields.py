"""The machinery of topic contracts: a field's kind and bounds, how a value is checked, and the JSON Schema it
declares. The contracts themselves are in ``monitor/wire/contracts.py``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["ContractError", "Field", "Contract", "parse_timestamp", "MAX_ID_LENGTH", "MIN_YEAR", "MAX_YEAR"]

# ISO 8601 / RFC 3339 date-time with a mandatory UTC offset ("Z" or +hh:mm).
_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$")
# Sanity bounds: a year outside them is a producer bug (epoch zero, 2999 placeholders), not an event.
MIN_YEAR, MAX_YEAR = 2000, 2099
# The same rule for JSON Schema users: years 2000..2099 only.
TIMESTAMP_PATTERN = r"^20\d{2}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$"
MAX_ID_LENGTH = 200
# Ids name stores, cities and orders in table keys, logs and messages: control characters (the key separator
# among them) could merge two stores or forge log lines, so they are refused.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


class ContractError(ValueError):
    """A message breaks its topic's contract; ``str(err)`` is the human-readable reason."""


_QUOTE_CHARS = 80


def _quote(value: str) -> str:
    """``value`` as a reason quotes it: whole when short, else its first characters and its length (the reason
    is logged once per dead letter, and a refused value may be a megabyte; the dead letter keeps the original)."""
    if len(value) <= _QUOTE_CHARS:
        return repr(value)
    return f"{value[:_QUOTE_CHARS]!r}… ({len(value):,} characters)"


def parse_timestamp(value: Any, name: str = "timestamp") -> datetime:
    """Parse an ISO 8601 timestamp that carries a UTC offset; naive or absurd timestamps are errors."""
    if not isinstance(value, str):
        raise ContractError(f"{name}: expected an ISO 8601 string with a UTC offset, got {type(value).__name__}")
    if not _TIMESTAMP_RE.match(value):
        if re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", value):
            raise ContractError(f"{name}: naive timestamp {_quote(value)} has no UTC offset")
        raise ContractError(f"{name}: {_quote(value)} is not an ISO 8601 timestamp with a UTC offset")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise ContractError(f"{name}: {_quote(value)} is not a valid date and time") from None
    if not MIN_YEAR <= ts.year <= MAX_YEAR:
        raise ContractError(f"{name}: {_quote(value)} is outside the plausible years {MIN_YEAR}..{MAX_YEAR}")
    return ts


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a contract. ``kind``: id, text, enum, timestamp, int, bool, object, id_list, base64."""

    name: str
    kind: str
    doc: str
    options: tuple[str, ...] = ()
    lo: int | None = None
    hi: int | None = None
    nullable: bool = False
    required: bool = True

    def check(self, value: Any) -> Any:
        """Return the value (a timestamp parsed to an aware datetime) or raise ContractError naming the field."""
        if value is None:
            if self.nullable:
                return None
            raise ContractError(f"{self.name}: must not be null")
        kind = self.kind
        if kind == "timestamp":
            return parse_timestamp(value, self.name)
        if kind in ("id", "text", "enum", "base64"):
            if not isinstance(value, str):
                raise ContractError(f"{self.name}: expected a string, got {_json_type(value)}")
            if kind == "id" and not (0 < len(value) <= MAX_ID_LENGTH and value.strip()):
                raise ContractError(f"{self.name}: must be a non-empty string of at most {MAX_ID_LENGTH} characters")
            if kind == "id" and _CONTROL_RE.search(value):
                raise ContractError(f"{self.name}: must not contain control characters")
            if kind == "enum" and value not in self.options:
                raise ContractError(f"{self.name}: {_quote(value)} is not one of {', '.join(self.options)}")
            return value
        if kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ContractError(f"{self.name}: expected an integer, got {_json_type(value)}")
            if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
                raise ContractError(f"{self.name}: {value} is outside {self.lo}..{self.hi}")
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise ContractError(f"{self.name}: expected true or false, got {_json_type(value)}")
            return value
        if kind == "object":
            if not isinstance(value, dict):
                raise ContractError(f"{self.name}: expected an object, got {_json_type(value)}")
            return value
        if kind == "id_list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ContractError(f"{self.name}: expected a list of strings")
            return value
        raise AssertionError(f"unknown field kind {kind}")

    def json_schema(self) -> dict[str, Any]:
        """This field as a JSON Schema property."""
        kind = self.kind
        schema: dict[str, Any]
        if kind == "timestamp":
            schema = {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}
        elif kind == "id":
            schema = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": ID_PATTERN}
        elif kind == "text":
            schema = {"type": "string"}
        elif kind == "base64":
            schema = {"type": "string", "contentEncoding": "base64"}
        elif kind == "enum":
            schema = {"type": "string", "enum": list(self.options)}
        elif kind == "int":
            schema = {"type": "integer"}
            if self.lo is not None:
                schema["minimum"] = self.lo
            if self.hi is not None:
                schema["maximum"] = self.hi
        elif kind == "bool":
            schema = {"type": "boolean"}
        elif kind == "object":
            schema = {"type": "object"}
        elif kind == "id_list":
            schema = {"type": "array", "items": {"type": "string"}}
        else:  # pragma: no cover - guarded by check()
            raise AssertionError(kind)
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return {"description": self.doc, **schema}


@dataclass(frozen=True, slots=True)
class Contract:
    """The fields of one topic's values, its key and a title; validates decoded JSON objects."""

    topic: str
    title: str
    key: str
    fields: tuple[Field, ...]

    def validate(self, obj: Any) -> dict[str, Any]:
        """Check a decoded JSON value; return the known fields (timestamps parsed) or raise ContractError."""
        if not isinstance(obj, dict):
            raise ContractError(f"expected a JSON object, got {_json_type(obj)}")
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.name in obj:
                out[f.name] = f.check(obj[f.name])
            elif f.required:
                raise ContractError(f"{f.name}: required field is missing")
            else:
                out[f.name] = None
        return out

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of this topic's values."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://quality-monitor.dev/schemas/{self.topic}.schema.json",
            "title": self.title,
            "description": f"Value of a message on the `{self.topic}` topic (key: {self.key}).",
            "type": "object",
            "required": [f.name for f in self.fields if f.required],
            "properties": {f.name: f.json_schema() for f in self.fields},
            "additionalProperties": True,
        }


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {str: "string", int: "integer", float: "number", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )
