"""Building Segment-spec messages from keyword arguments, snake_case or camelCase.

A message is encoded once, when the call is made: the bytes queued are the
bytes sent, so the size checked is the size sent, and changing a dict after
the call changes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from patron import __version__
from patron.client.errors import InvalidCall, MessageTooLarge

LIBRARY = {"name": "patron-client", "version": __version__}
MAX_MESSAGE_BYTES = 32 * 1024  # the server's limit, on the message as JSON

# snake_case name -> its camelCase twin; both spellings are accepted.
CAMEL = {
    "user_id": "userId",
    "anonymous_id": "anonymousId",
    "message_id": "messageId",
    "group_id": "groupId",
    "previous_id": "previousId",
}
_OBJECTS = ("context", "integrations", "traits", "properties", "custom")
# An escaped NUL ("\u0000") not itself escaped: Patron refuses a whole request
# holding one, and PostgreSQL cannot store it.
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def take(fields: dict[str, Any], name: str) -> Any:
    """Pop ``name`` (snake_case) and its camelCase twin from ``fields``; None if neither.

    Both spellings at once are fine when they agree, and refused when not.
    """
    value = fields.pop(name, None)
    camel = CAMEL.get(name)
    other = fields.pop(camel, None) if camel else None
    if value is not None and other is not None and other != value:
        raise InvalidCall(f"{name} and {camel} disagree: {value!r} vs {other!r}")
    return other if value is None else value


def timestamp_text(value: object) -> str:
    """ISO-8601 text of a datetime (naive means UTC) or of ISO text; None means now."""
    if value is None:
        value = datetime.now(UTC)
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidCall(f"timestamp {value!r} is not an ISO-8601 date-time") from None
        return value
    if not isinstance(value, datetime):
        raise InvalidCall(f"timestamp must be an ISO-8601 string or a datetime, not {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="milliseconds")


def build(type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    """One message: the type's own fields, the common fields, and custom fields.

    ``fields`` holds everything the caller passed. What is left once the known
    names are taken — and the entries of a ``custom`` dict — is custom
    business data and travels as top-level fields, as the Segment spec allows;
    a custom field never replaces one the client sets.
    """
    for name in _OBJECTS:
        if fields.get(name) is not None and not isinstance(fields[name], Mapping):
            raise InvalidCall(f"{name} must be a dict, not {type(fields[name]).__name__}")
    user_id = _identifier(take(fields, "user_id"), "user_id")
    anonymous_id = _identifier(take(fields, "anonymous_id"), "anonymous_id")
    if user_id is None and anonymous_id is None:
        raise InvalidCall(f"{type_} needs a user_id (userId) or an anonymous_id (anonymousId)")
    message: dict[str, Any] = {
        "type": type_,
        "messageId": str(take(fields, "message_id") or uuid.uuid4()),
        "timestamp": timestamp_text(fields.pop("timestamp", None)),
        "context": {**(fields.pop("context", None) or {}), "library": LIBRARY},
    }
    if user_id is not None:
        message["userId"] = user_id
    if anonymous_id is not None:
        message["anonymousId"] = anonymous_id
    custom = fields.pop("custom", None) or {}
    for key, value in {**custom, **fields}.items():
        if value is not None:
            message.setdefault(key, value)
    return message


def encode(message: dict[str, Any]) -> bytes:
    """The message as sent, or InvalidCall / MessageTooLarge.

    Datetimes, UUIDs, dataclasses and enums are encoded natively, values JSON
    has no type for (``Decimal``, sets, …) as their ``str()``, non-string
    dict keys as text.
    """
    try:
        data = orjson.dumps(message, default=str, option=_JSON_OPTIONS)
    except orjson.JSONEncodeError as error:  # lone surrogates, huge ints, deep nesting
        raise InvalidCall(f"message cannot be encoded as JSON: {error}") from None
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(len(data), MAX_MESSAGE_BYTES)
    if b"\\u0000" in data and _NUL.search(data):
        raise InvalidCall("message contains a NUL character (\\u0000), which Patron refuses")
    return data


def _identifier(value: Any, name: str) -> str | int | None:
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise InvalidCall(f"{name} must be a string, not {type(value).__name__}")
