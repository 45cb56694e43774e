"""Segment's wire format -> domain messages.

What the real clients send, and how it is read:

* ``null`` anywhere at the top level of a message means the field is absent.
* In a batch, the batch's ``context``, ``integrations`` and ``sentAt`` apply
  to every item; an item's own keys win over the batch's.
* Identify traits are read from ``context.traits`` and ``traits`` (the latter
  wins): the RudderStack SDK sends them only in ``context.traits``.
* A batch is all or nothing: if any item is invalid the whole request is
  refused with every problem listed, and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from patron.domain.errors import Invalid, Problem
from patron.domain.messages import Message, MessageType, build_message

MAX_MESSAGE_BYTES = 32 * 1024
MAX_REQUEST_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2_500
MAX_DEPTH = 254  # nesting of a message; what the JSON encoder takes

_TYPES = {member.value: member for member in MessageType}
_SECRETS = ("writeKey",)  # never stored with the event


def parse_single(document: dict[str, Any], type_: MessageType, *, received_at: datetime) -> Message:
    """One call posted to its own endpoint (``/v1/track``, ``/v1/t``, …)."""
    problem = _storable(document)
    if problem is not None:
        raise Invalid.of([problem])
    item = _clean(document, {})
    item["type"] = type_.value
    message, problems = build_message(
        type_, item, received_at=received_at, traits=_traits(type_, item)
    )
    if message is None:
        raise Invalid.of(problems)
    return message


def parse_batch(document: dict[str, Any], *, received_at: datetime) -> list[Message]:
    """A ``/v1/batch`` (or ``/v1/import``, ``/v1/b``) request."""
    items = document.get("batch")
    if not isinstance(items, list):
        raise Invalid("batch must be a list of messages", [Problem("must be a list", "batch")])
    if len(items) > MAX_BATCH_MESSAGES:
        raise Invalid(f"a batch holds at most {MAX_BATCH_MESSAGES} messages")
    defaults = {
        key: document[key]
        for key in ("context", "integrations", "sentAt")
        if document.get(key) is not None
    }
    messages: list[Message] = []
    problems: list[Problem] = []
    for index, raw in enumerate(items):
        message, found = _batch_item(raw, defaults, received_at)
        if message is not None:
            messages.append(message)
        problems.extend(Problem(p.message, p.field, index) for p in found)
    if problems:
        raise Invalid.of(problems)
    return messages


def _batch_item(
    raw: Any, defaults: dict[str, Any], received_at: datetime
) -> tuple[Message | None, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [Problem("must be a JSON object")]
    type_name = raw.get("type")
    type_ = _TYPES.get(type_name) if isinstance(type_name, str) else None
    if type_ is None:
        return None, [Problem(f"must be one of {', '.join(_TYPES)}", "type")]
    problem = _storable(raw)
    if problem is not None:
        return None, [problem]
    item = _clean(raw, defaults)
    return build_message(type_, item, received_at=received_at, traits=_traits(type_, item))


def _storable(message: dict[str, Any]) -> Problem | None:
    """Whether the message fits the limits of what Patron stores as one event."""
    try:
        size = len(orjson.dumps(message))
    except orjson.JSONEncodeError:
        return Problem(f"message is nested more than {MAX_DEPTH} levels deep")
    if size > MAX_MESSAGE_BYTES:
        return Problem(f"message is larger than {MAX_MESSAGE_BYTES // 1024} KB")
    return None


def _clean(raw: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    item = {key: value for key, value in raw.items() if value is not None}
    for secret in _SECRETS:
        item.pop(secret, None)
    for key, value in defaults.items():
        own = item.get(key)
        if own is None:
            item[key] = value
        elif isinstance(own, dict) and isinstance(value, dict):
            item[key] = {**value, **own}
    return item


def _traits(type_: MessageType, item: dict[str, Any]) -> dict[str, Any] | None:
    """Identify traits, folding in ``context.traits``; None leaves the default rule."""
    if type_ is not MessageType.IDENTIFY:
        return None
    context = item.get("context")
    traits = item.get("traits")
    from_context = context.get("traits") if isinstance(context, dict) else None
    if not isinstance(from_context, dict):
        return None
    if traits is None:
        return dict(from_context)
    return {**from_context, **traits} if isinstance(traits, dict) else None
