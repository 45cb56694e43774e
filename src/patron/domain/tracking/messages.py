"""Tracking messages: the Segment spec's calls, validated and normalised.

The Segment spec is Patron's canonical shape of an event document; other
surfaces translate into it. A :class:`Message` is built only through
:func:`build_message`, which enforces every rule and corrects the timestamp.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from patron.domain.errors import Problem

MAX_ID_LENGTH = 1000
MAX_EVENT_NAME_LENGTH = 1000

# Values that buggy clients send in place of an id. Accepting them would merge
# every visitor whose app sends "undefined" into one profile.
SENTINEL_IDS = frozenset(
    {
        "",
        "0",
        "-1",
        "null",
        "nil",
        "none",
        "nan",
        "undefined",
        "anonymous",
        "unknown",
        "n/a",
        "[object object]",
        "true",
        "false",
    }
)


class MessageType(StrEnum):
    IDENTIFY = "identify"
    TRACK = "track"
    PAGE = "page"
    SCREEN = "screen"
    GROUP = "group"
    ALIAS = "alias"


@dataclass(slots=True)
class Message:
    """One validated tracking call, ready to be resolved to a customer and stored."""

    type: MessageType
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    name: str | None  # track: the event; page/screen: the page or screen name
    previous_id: str | None
    group_id: str | None
    traits: dict[str, Any]
    timestamp: datetime
    original_timestamp: datetime | None
    sent_at: datetime | None
    received_at: datetime
    document: dict[str, Any]  # everything else the client sent, in Segment's names


def correct_timestamp(
    original: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """Segment's clock-skew correction: trust the server clock for the offset.

    ``timestamp = receivedAt - (sentAt - originalTimestamp)`` when the client
    said when it sent the message; the client's timestamp as given when it did
    not; the arrival time when there is no timestamp at all.
    """
    if original is None:
        return received_at
    if sent_at is None:
        return original
    return received_at - (sent_at - original)


def parse_timestamp(value: Any, field: str, problems: list[Problem]) -> datetime | None:
    """An ISO-8601 string (or epoch milliseconds) as an aware UTC datetime."""
    if value is None:
        return None
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            parsed = datetime.fromtimestamp(value / 1000, tz=UTC)
        else:
            raise TypeError
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        problems.append(Problem("must be an ISO-8601 date-time", field))
        return None


def _identifier(value: Any, field: str, problems: list[Problem]) -> str | None:
    """An id as a string: integers are accepted (browsers send them), sentinels are not.

    Other numbers are refused: a JSON number beyond 64 bits arrives as a float
    and would be stored with its digits lost.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.append(Problem("must be a string (or an integer of at most 64 bits)", field))
        return None
    text = value if isinstance(value, str) else str(value)
    if text.strip().lower() in SENTINEL_IDS:
        problems.append(Problem(f"{text!r} is a placeholder, not an id", field))
        return None
    if len(text) > MAX_ID_LENGTH:
        problems.append(Problem(f"must be at most {MAX_ID_LENGTH} characters", field))
        return None
    return text


def _object(document: Mapping[str, Any], field: str, problems: list[Problem]) -> dict[str, Any]:
    value = document.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem("must be an object", field))
        return {}
    return value


def build_message(
    type_: MessageType,
    document: dict[str, Any],
    *,
    received_at: datetime,
    traits: dict[str, Any] | None = None,
) -> tuple[Message | None, list[Problem]]:
    """Validate one call in Segment's shape; return the message or what is wrong.

    ``traits`` overrides the document's own ``traits`` (the tracking adapter
    folds in ``context.traits``). Problems carry field names, not indexes.
    """
    problems: list[Problem] = []
    user_id = _identifier(document.get("userId"), "userId", problems)
    anonymous_id = _identifier(document.get("anonymousId"), "anonymousId", problems)
    previous_id = group_id = name = None
    if type_ is MessageType.ALIAS:
        previous_id = _identifier(document.get("previousId"), "previousId", problems)
        _require(previous_id, "previousId", problems)
        _require(user_id, "userId", problems)
    elif user_id is None and anonymous_id is None and not _mentions_ids(document):
        problems.append(Problem("userId or anonymousId is required", "userId"))
    if type_ is MessageType.TRACK:
        name = _event_name(document.get("event"), "event", problems, required=True)
    elif type_ in (MessageType.PAGE, MessageType.SCREEN):
        name = _event_name(document.get("name"), "name", problems, required=False)
    elif type_ is MessageType.GROUP:
        group_id = _identifier(document.get("groupId"), "groupId", problems)
        _require(group_id, "groupId", problems)
    for field in ("properties", "context", "integrations"):
        _object(document, field, problems)
    if traits is None:
        traits = _object(document, "traits", problems)
    message_id = _identifier(document.get("messageId"), "messageId", problems)
    original = parse_timestamp(
        document.get("timestamp", document.get("originalTimestamp")), "timestamp", problems
    )
    sent_at = parse_timestamp(document.get("sentAt"), "sentAt", problems)
    if problems:
        return None, problems
    try:
        timestamp = correct_timestamp(original, sent_at, received_at)
    except OverflowError:
        return None, [Problem("is too far from sentAt to be corrected", "timestamp")]
    message = Message(
        type=type_,
        message_id=message_id or f"api-{uuid.uuid4()}",
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=name,
        previous_id=previous_id,
        group_id=group_id,
        traits=traits,
        timestamp=timestamp,
        original_timestamp=original,
        sent_at=sent_at,
        received_at=received_at,
        document=document,
    )
    return message, []


def _mentions_ids(document: Mapping[str, Any]) -> bool:
    # A present-but-refused id was already reported; don't report it twice.
    return document.get("userId") is not None or document.get("anonymousId") is not None


def _require(value: str | None, field: str, problems: list[Problem]) -> None:
    if value is None and not any(p.field == field for p in problems):
        problems.append(Problem("is required", field))


def _event_name(value: Any, field: str, problems: list[Problem], *, required: bool) -> str | None:
    if value is None:
        if required:
            problems.append(Problem("is required", field))
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(Problem("must be a non-empty string", field))
        return None
    if len(value) > MAX_EVENT_NAME_LENGTH:
        problems.append(Problem(f"must be at most {MAX_EVENT_NAME_LENGTH} characters", field))
        return None
    return value
