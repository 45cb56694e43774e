"""Segment's wire format -> domain messages.

What the real clients send, and how it is read:

* ``null`` anywhere at the top level of a message means the field is absent.
* In a batch, the batch's ``context``, ``integrations`` and ``sentAt`` apply
  to every item; an item's own keys win over the batch's. They are checked
  once, and a problem with one is reported once, for the batch (no index).
* Identify traits are read from ``context.traits`` and ``traits`` (the latter
  wins): the RudderStack SDK sends them only in ``context.traits``.
* A batch is all or nothing: if any item is invalid the whole request is
  refused with every problem listed, and nothing is stored.

Limits. A message is at most 32 KB as compact JSON in UTF-8 (Segment's limit
per call), measured as it would be stored: with the batch's ``context`` and
``integrations`` merged in. A single call's request body is at most that too;
a batch's is at most 4.5 MB once inflated, and 20,000 messages. RudderStack's
Python library fills a request until its calls add up to 4 MiB as *it*
encodes them, escaping every character beyond printable ASCII (``é`` as ``\\u00e9``), so its
last call can take the request past 4 MiB by up to six times 32 KB (``\\x7f``
becomes six bytes, ``é`` three times its two); 4.5 MB leaves room
for that (Segment's library stops at 500 KB). Its ``upload_size`` option caps
the calls per request (100 by default); 4 MiB of its smallest calls (~260
bytes each) is about 16,000. The memory a batch costs is bounded by its bytes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson

from patron.domain.errors import Invalid, Problem, TooLarge
from patron.domain.tracking.messages import Message, MessageType, build_message, parse_timestamp
from patron.surfaces.http.body import contains_nul

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 4608 * 1024  # 4.5 MB: see the module's docstring
MAX_BATCH_MESSAGES = 20_000  # see the module's docstring
MAX_DEPTH = 254  # nesting of a message; what the JSON encoder takes

_TYPES = {member.value: member for member in MessageType}
_SECRETS = ("writeKey",)  # never stored with the event
_BATCH_DEFAULTS = ("context", "integrations", "sentAt")  # batch keys every item inherits
_TOO_DEEP = f"message is nested more than {MAX_DEPTH} levels deep"
_TOO_LARGE = f"message is larger than {MAX_MESSAGE_BYTES // 1024} KB"
_NUL = "contains a NUL character (\\u0000), which Patron refuses"


def parse_single(document: dict[str, Any], type_: MessageType, *, received_at: datetime) -> Message:
    """One call posted to its own endpoint (``/v1/track``, ``/v1/t``, …)."""
    item = _clean(document, {})
    problem = _storable(item)
    if problem is not None:
        raise Invalid.of([problem])
    item["type"] = type_.value
    message, problems = build_message(
        type_, item, received_at=received_at, traits=_traits(type_, item)
    )
    if message is None:
        raise Invalid.of(problems)
    return message


def parse_batch(document: dict[str, Any], *, received_at: datetime) -> list[Message]:
    """A ``/v1/batch`` (or ``/v1/import``, ``/v1/b``) request.

    The document may hold NUL characters (the body reader lets them through
    for batches): they are found here, message by message, and reported with
    the index of the message holding one.
    """
    items = document.get("batch")
    if not isinstance(items, list):
        raise Invalid("batch must be a list of messages", [Problem("must be a list", "batch")])
    if len(items) > MAX_BATCH_MESSAGES:
        raise TooLarge(f"a batch holds at most {MAX_BATCH_MESSAGES:,} messages, not {len(items):,}")
    defaults, problems = _batch_defaults(document)
    messages: list[Message] = []
    for index, raw in enumerate(items):
        message, found = _batch_item(raw, defaults, received_at)
        if message is not None:
            messages.append(message)
        problems.extend(Problem(p.message, p.field, index) for p in found)
    if problems:
        raise Invalid.of(problems)
    return messages


def _batch_defaults(document: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The batch-level keys every item inherits, and what is wrong with them (no index)."""
    defaults: dict[str, Any] = {}
    problems: list[Problem] = []
    for key in _BATCH_DEFAULTS:
        value = document.get(key)
        if value is None:
            continue
        found: list[Problem] = []
        if key == "sentAt":
            parse_timestamp(value, key, found)
        elif not isinstance(value, dict):
            found.append(Problem("must be an object", key))
        if not found:
            problem = _storable({key: value})
            if problem is not None:  # "message is larger…" -> "context: is larger…"
                found.append(Problem(problem.message.removeprefix("message "), key))
        if found:
            problems.extend(found)
        else:
            defaults[key] = value
    return defaults, problems


def _batch_item(
    raw: Any, defaults: dict[str, Any], received_at: datetime
) -> tuple[Message | None, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [Problem("must be a JSON object")]
    type_name = raw.get("type")
    type_ = _TYPES.get(type_name) if isinstance(type_name, str) else None
    if type_ is None:
        return None, [Problem(f"must be one of {', '.join(_TYPES)}", "type")]
    item = _clean(raw, defaults)
    problem = _storable(item)
    if problem is not None:
        return None, [problem]
    return build_message(type_, item, received_at=received_at, traits=_traits(type_, item))


def _storable(message: dict[str, Any]) -> Problem | None:
    """Whether the message, as it would be stored, fits the limits of one event."""
    try:
        encoded = orjson.dumps(message)
    except orjson.JSONEncodeError:
        return Problem(_TOO_DEEP)
    if contains_nul(encoded):
        return Problem(_NUL, _nul_field(message))
    if len(encoded) > MAX_MESSAGE_BYTES and _python_size(message) > MAX_MESSAGE_BYTES:
        return Problem(_TOO_LARGE)
    return None


def _python_size(message: dict[str, Any]) -> int:
    """The message's size as compact JSON written by Python rather than orjson.

    The two differ only in numbers: orjson writes ``0.00001`` where Python
    writes ``1e-05``. The Segment library checks 32 KB itself, the Python way;
    a message within its limit is within Patron's.
    """
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return len(text.encode())


def _nul_field(message: dict[str, Any]) -> str | None:
    """The top-level field holding a NUL character, if it is not in a key name."""
    for key, value in message.items():
        if "\0" not in key and contains_nul(orjson.dumps(value)):
            return key
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
