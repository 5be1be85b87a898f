"""The OpenAPI 3 description of the worker's HTTP API (served at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_spec", "PATHS"]

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_JSON = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
_SECURED: list[dict[str, list[str]]] = [{"bearer": []}]


def _param(name: str, where: str = "path", required: bool = True, schema: dict | None = None,
           doc: str = "") -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema or {"type": "string"},
            "description": doc}


def _body(required: list[str], props: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required, "properties": props}}}}


_TEXT = {"type": "string", "minLength": 1}
_MUTATION_ERRORS = {"400": _ERROR, "401": _ERROR, "403": _ERROR}

PATHS: dict[str, Any] = {
    "/health": {"get": {"summary": "Readiness: partitions assigned and table state recovered",
                        "responses": {"200": _JSON, "503": _JSON}}},
    "/metrics": {"get": {"summary": "Prometheus text exposition",
                         "responses": {"200": {"description": "OK", "content": {"text/plain": {}}}}}},
    "/openapi.json": {"get": {"summary": "This document", "responses": {"200": _JSON}}},
    "/stores": {"get": {"summary": "Stores held by this worker",
                        "parameters": [_param("hidden", "query", False, {"type": "boolean"}, "only hidden ones"),
                                       _param("city", "query", False, doc="only this city")],
                        "responses": {"200": _JSON, "400": _ERROR}}},
    "/stores/{store_id}": {"get": {
        "summary": "One store: visibility, open / late / at-risk orders, negativity, recent decisions",
        "parameters": [_param("store_id"), _param("city", "query", False, doc="one city only")],
        "responses": {"200": _JSON, "404": _ERROR}}},
    "/stores/{store_id}/restore": {"post": {
        "summary": "Restore a hidden store (sends a restore command to store-commands)", "security": _SECURED,
        "parameters": [_param("store_id")],
        "requestBody": _body(["city", "by", "note"], {"city": _TEXT, "by": _TEXT, "note": _TEXT}),
        "responses": {"202": _JSON, "404": _ERROR, "409": _ERROR, **_MUTATION_ERRORS}}},
    "/cities": {"get": {"summary": "Negativity of every city counted by this worker", "responses": {"200": _JSON}}},
    "/cities/{city}": {"get": {"summary": "One city: negativity now and by day, hidden and at-risk stores",
                               "parameters": [_param("city")], "responses": {"200": _JSON, "404": _ERROR}}},
    "/silences": {
        "get": {"summary": "Active silences, from memory (the newest 1,000; count and truncated say if more)",
                "parameters": [_param("all", "query", False, {"type": "boolean"}, "include ended ones")],
                "responses": {"200": _JSON, "503": _ERROR}},
        "post": {"summary": "Silence matching alerts", "security": _SECURED,
                 "requestBody": _body(["matchers", "duration", "by", "comment"], {
                     "matchers": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "string"}}]},
                     "duration": {"type": "string", "example": "2h"}, "by": _TEXT, "comment": _TEXT,
                     "end_on_resolve": {"type": "boolean"}}),
                 "responses": {"201": _JSON, **_MUTATION_ERRORS}}},
    "/silences/{silence_id}": {"delete": {
        "summary": "Expire a silence now", "security": _SECURED,
        "parameters": [_param("silence_id"), _param("by", "query", False, doc="who expires it")],
        "responses": {"200": _JSON, "404": _ERROR, "503": _ERROR, **_MUTATION_ERRORS}}},
    "/alerts/{alert_id}/ack": {"post": {
        "summary": "Acknowledge a firing alert: no more repeats", "security": _SECURED,
        "parameters": [_param("alert_id")], "requestBody": _body(["by"], {"by": _TEXT}),
        "responses": {"202": _JSON, **_MUTATION_ERRORS}}},
    "/dashboard": {"get": {"summary": "The operator dashboard (HTML)",
                           "responses": {"200": {"description": "OK", "content": {"text/html": {}}}}}},
    "/dashboard/data": {"get": {"summary": "What the dashboard shows", "responses": {"200": _JSON}}},
}


def openapi_spec() -> dict[str, Any]:
    """The whole document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "quality-monitor worker API", "version": "1",
                 "description": "Reads of one store or city are answered by the worker that owns it; lists "
                                "cover the answering worker's partitions. Mutations need a bearer token "
                                "(MONITOR_API_TOKEN); without one configured they are refused."},
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"],
                                  "properties": {"error": {"type": "string"}}}},
        },
    }
