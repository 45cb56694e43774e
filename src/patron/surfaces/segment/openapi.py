"""The tracking API in OpenAPI terms, for the root app's ``/openapi.json``.

The tracking surface is a lean ASGI app rather than FastAPI routes, so nothing
describes it automatically: this module does, from the same tables the surface
runs on — every path in ``ENDPOINTS``, the limits of ``wire.py``, the ids'
rules of the domain's messages, the statuses of ``errors.py`` — and
``tests/surfaces/segment/test_openapi.py`` sends each documented example and
each documented error to the real app.
"""

from __future__ import annotations

from typing import Any

from patron.domain.tracking.messages import MAX_EVENT_NAME_LENGTH, MAX_ID_LENGTH, MessageType
from patron.surfaces.segment.app import ENDPOINTS
from patron.surfaces.segment.wire import MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES

TAG = "tracking (Segment HTTP Tracking API)"
TAGS = [
    {
        "name": TAG,
        "description": "Every tracking path also answers behind any prefix (`/segment/v1/batch`).",
    }
]
SECURITY_SCHEME = "trackingWriteKey"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


_ID: Schema = {
    "anyOf": [
        {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH},
        {"type": "integer", "description": "kept as its decimal text"},
    ],
    "description": "placeholders such as 'null', 'undefined', '0' or 'anonymous' are refused",
}
_TIMESTAMP: Schema = {
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "number", "description": "milliseconds since 1970-01-01 UTC"},
    ]
}
_OBJECT: Schema = {"type": "object"}

# Fields every call may carry (Segment's common fields).
_COMMON: dict[str, Schema] = {
    "userId": _ID,
    "anonymousId": _ID,
    "messageId": {**_ID, "description": "stored once per workspace: a re-sent call is a no-op"},
    "timestamp": {**_TIMESTAMP, "description": "when it happened; corrected by sentAt"},
    "sentAt": {**_TIMESTAMP, "description": "when the client sent it"},
    "context": _OBJECT,
    "integrations": _OBJECT,
}
_NAME: Schema = {"type": "string", "maxLength": MAX_EVENT_NAME_LENGTH}

# Each call's own fields, the ones it requires, and an example of it.
_CALLS: dict[MessageType, tuple[dict[str, Schema], list[str], Schema]] = {
    MessageType.IDENTIFY: (
        {"traits": _OBJECT},
        [],
        {"userId": "user-1", "traits": {"email": "ada@example.com", "plan": "pro"}},
    ),
    MessageType.TRACK: (
        {"event": {**_NAME, "minLength": 1}, "properties": _OBJECT},
        ["event"],
        {"userId": "user-1", "event": "Order Completed", "properties": {"total": 42.5}},
    ),
    MessageType.PAGE: (
        {"name": _NAME, "category": {}, "properties": _OBJECT},
        [],
        {"anonymousId": "visitor-7", "name": "Pricing", "properties": {"path": "/pricing"}},
    ),
    MessageType.SCREEN: (
        {"name": _NAME, "category": {}, "properties": _OBJECT},
        [],
        {"userId": "user-1", "name": "Cart"},
    ),
    MessageType.GROUP: (
        {"groupId": _ID, "traits": {**_OBJECT, "description": "the group's traits"}},
        ["groupId"],
        {"userId": "user-1", "groupId": "acme", "traits": {"plan": "enterprise"}},
    ),
    MessageType.ALIAS: (
        {"previousId": _ID},
        ["previousId", "userId"],
        {"previousId": "visitor-7", "userId": "user-1"},
    ),
}


def _call_schema(type_: MessageType, *, in_batch: bool) -> Schema:
    own, required, _ = _CALLS[type_]
    properties: dict[str, Schema] = {**_COMMON, **own}
    schema: Schema = {"type": "object", "additionalProperties": True}
    if in_batch:
        properties = {"type": {"const": type_.value}, **properties}
        required = ["type", *required]
    else:
        properties["writeKey"] = {
            "type": "string",
            "description": "the write key, for clients that cannot send Basic auth (browsers)",
        }
    schema["properties"] = properties
    if required:
        schema["required"] = required
    if type_ is not MessageType.ALIAS:  # alias requires userId itself
        schema["anyOf"] = [{"required": ["userId"]}, {"required": ["anonymousId"]}]
    schema["description"] = (
        "Any other top-level field is kept with the event; null means absent. "
        f"At most {MAX_MESSAGE_BYTES // 1024} KB as compact JSON."
    )
    return schema


def _batch_schema() -> Schema:
    return {
        "type": "object",
        "required": ["batch"],
        "properties": {
            "batch": {
                "type": "array",
                "maxItems": MAX_BATCH_MESSAGES,
                "items": {"oneOf": [_ref(_schema_name(t, in_batch=True)) for t in MessageType]},
                "description": "all or nothing: one invalid call refuses the whole request",
            },
            "context": {**_OBJECT, "description": "applies to every call (a call's own keys win)"},
            "integrations": {**_OBJECT, "description": "applies to every call"},
            "sentAt": {**_TIMESTAMP, "description": "applies to every call"},
            "writeKey": {"type": "string", "description": "the write key, instead of Basic auth"},
        },
    }


def _schema_name(type_: MessageType, *, in_batch: bool) -> str:
    return f"Tracking{type_.value.capitalize()}{'InBatch' if in_batch else ''}"


_ERROR: Schema = {
    "type": "object",
    "required": ["success", "code", "message"],
    "properties": {
        "success": {"const": False},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "every problem of invalid input",
            "items": {
                "type": "object",
                "required": ["index", "field", "message"],
                "properties": {
                    "index": {"type": ["integer", "null"], "description": "the call in a batch"},
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
_REQUEST_ID = {"X-Request-Id": {"schema": {"type": "string"}, "description": "as in the log"}}

# Status -> (codes, when, headers): what errors.py answers on these paths.
_ERRORS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "400": (
        "invalid_request, too_large",
        "invalid JSON or UTF-8, a broken rule (each listed in errors), or a body over its limit",
        {},
    ),
    "401": ("unauthorized", "no write key, or one Patron does not know", {}),
    "429": ("rate_limited", "too many calls wait for the database", _RETRY_AFTER),
    "500": ("internal_error", "an unexpected fault, logged under the request id", _REQUEST_ID),
    "503": ("unavailable", "the database is unreachable or busy", _RETRY_AFTER),
}


def _responses() -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "every call in the request is committed",
            "content": {"application/json": {"schema": _ref("TrackingSuccess")}},
        }
    }
    for status, (codes, when, headers) in _ERRORS.items():
        responses[status] = {
            "description": f"`{codes}`: {when}; nothing is stored",
            "content": {"application/json": {"schema": _ref("TrackingError")}},
            **({"headers": headers} if headers else {}),
        }
    return responses


def _operation(name: str, type_: MessageType | None) -> dict[str, Any]:
    if type_ is None:
        schema, example = _ref("TrackingBatch"), {"batch": [_batch_example(t) for t in _CALLS]}
        limit = f"{MAX_BATCH_BYTES / 1024 / 1024:g} MB and {MAX_BATCH_MESSAGES:,} calls"
        summary = "Send many calls at once"
    else:
        schema, example = _ref(_schema_name(type_, in_batch=False)), _CALLS[type_][2]
        limit = f"{MAX_MESSAGE_BYTES // 1024} KB"
        summary = f"Send one {type_.value} call"
    body = {"schema": schema, "example": example}
    return {
        "tags": [TAG],
        "summary": summary,
        "operationId": f"tracking_{name}",
        "description": (
            f"At most {limit} once inflated (`Content-Encoding: gzip` or `deflate`). "
            "Browsers may send the body as `text/plain` with the write key in it."
        ),
        "security": [{SECURITY_SCHEME: []}],  # or writeKey in the body: see the scheme
        "requestBody": {
            "required": True,
            "content": {"application/json": body, "text/plain": body},
        },
        "responses": _responses(),
    }


def _batch_example(type_: MessageType) -> Schema:
    return {"type": type_.value, **_CALLS[type_][2]}


def paths() -> dict[str, Any]:
    """An OpenAPI path item for every tracking path (behind any prefix, too)."""
    return {f"/v1/{name}": {"post": _operation(name, type_)} for name, type_ in ENDPOINTS.items()}


def components() -> dict[str, Any]:
    """The schemas and the security scheme the tracking paths refer to."""
    schemas: dict[str, Schema] = {
        _schema_name(type_, in_batch=in_batch): _call_schema(type_, in_batch=in_batch)
        for type_ in MessageType
        for in_batch in (False, True)
    }
    schemas["TrackingBatch"] = _batch_schema()
    schemas["TrackingSuccess"] = {
        "type": "object",
        "required": ["success"],
        "properties": {"success": {"const": True}},
    }
    schemas["TrackingError"] = _ERROR
    security = {
        "type": "http",
        "scheme": "basic",
        "description": "the workspace's write key as the user name, no password "
        "(or `writeKey` in the body)",
    }
    return {"schemas": schemas, "securitySchemes": {SECURITY_SCHEME: security}}
