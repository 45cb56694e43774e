"""Building Segment-spec messages from keyword arguments, snake_case or camelCase."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from patron import __version__
from patron.client.errors import InvalidCall

LIBRARY = {"name": "patron-client", "version": __version__}

# camelCase spelling -> the snake_case one the client uses.
ALIASES = {
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "messageId": "message_id",
    "groupId": "group_id",
    "previousId": "previous_id",
}


def take(fields: dict[str, Any], name: str) -> Any:
    """Pop ``name`` (snake_case) or its camelCase twin from ``fields``; refuse both."""
    camel = next((alias for alias, snake in ALIASES.items() if snake == name), None)
    value = fields.pop(name, None)
    if camel is not None and camel in fields:
        other = fields.pop(camel)
        if value is not None and other is not None and other != value:
            raise InvalidCall(f"{name} and {camel} disagree: {value!r} vs {other!r}")
        value = other if value is None else value
    return value


def timestamp_text(value: str | datetime | None) -> str:
    """ISO-8601 text; a naive datetime is taken as UTC; None means now."""
    if value is None:
        value = datetime.now(UTC)
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="milliseconds")


def build(type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    """One message: the type's own fields, the common fields, and custom fields.

    ``fields`` holds everything the caller passed; what is left after the known
    names are taken is custom business data (``custom`` dict entries too) and
    travels as top-level fields, as the Segment spec allows.
    """
    user_id = take(fields, "user_id")
    anonymous_id = take(fields, "anonymous_id")
    if user_id is None and anonymous_id is None:
        raise InvalidCall(f"{type_} needs user_id (userId) or anonymous_id (anonymousId)")
    context = dict(fields.pop("context", None) or {})
    context["library"] = LIBRARY
    message: dict[str, Any] = {
        "type": type_,
        "messageId": str(take(fields, "message_id") or uuid.uuid4()),
        "timestamp": timestamp_text(fields.pop("timestamp", None)),
        "context": context,
    }
    if user_id is not None:
        message["userId"] = user_id
    if anonymous_id is not None:
        message["anonymousId"] = anonymous_id
    integrations = fields.pop("integrations", None)
    if integrations:
        message["integrations"] = integrations
    custom = fields.pop("custom", None) or {}
    for key, value in {**custom, **fields}.items():
        if value is not None:
            message.setdefault(key, value)
    return message
