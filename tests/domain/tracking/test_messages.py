from datetime import UTC, datetime, timedelta

import pytest

from patron.domain.tracking.messages import MessageType, build_message, correct_timestamp

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def build(type_: MessageType, **document: object):
    return build_message(type_, dict(document), received_at=NOW)


def test_a_track_call_is_normalised() -> None:
    message, problems = build(MessageType.TRACK, userId=42, event="Paid", properties={"a": 1})
    assert problems == []
    assert message is not None
    assert message.user_id == "42"
    assert message.name == "Paid"
    assert message.message_id.startswith("api-")
    assert message.timestamp == NOW


@pytest.mark.parametrize(
    ("type_", "document", "field"),
    [
        (MessageType.TRACK, {"event": "x"}, "userId"),
        (MessageType.TRACK, {"userId": "u"}, "event"),
        (MessageType.TRACK, {"userId": "u", "event": "  "}, "event"),
        (MessageType.GROUP, {"userId": "u"}, "groupId"),
        (MessageType.ALIAS, {"userId": "u"}, "previousId"),
        (MessageType.ALIAS, {"previousId": "p"}, "userId"),
        (MessageType.IDENTIFY, {"userId": "u", "traits": []}, "traits"),
        (MessageType.PAGE, {"userId": "u", "properties": "x"}, "properties"),
        (MessageType.IDENTIFY, {"userId": "u", "timestamp": "yesterday"}, "timestamp"),
        (MessageType.IDENTIFY, {"userId": {"id": 1}}, "userId"),
        (MessageType.IDENTIFY, {"userId": True}, "userId"),
        (MessageType.IDENTIFY, {"userId": "x" * 1001}, "userId"),
    ],
)
def test_each_rule_names_its_field(type_: MessageType, document: dict, field: str) -> None:
    message, problems = build(type_, **document)
    assert message is None
    assert [p.field for p in problems] == [field]


@pytest.mark.parametrize("sentinel", ["null", "undefined", "0", "", "Anonymous", " NaN ", "-1"])
def test_placeholder_ids_are_refused(sentinel: str) -> None:
    _, problems = build(MessageType.TRACK, anonymousId=sentinel, event="x")
    assert len(problems) == 1
    assert problems[0].field == "anonymousId"


def test_clock_skew_is_corrected_with_sent_at() -> None:
    client_clock_ahead = timedelta(hours=1)
    happened = NOW - timedelta(minutes=5) + client_clock_ahead
    sent = NOW + client_clock_ahead
    assert correct_timestamp(happened, sent, NOW) == NOW - timedelta(minutes=5)


def test_timestamp_without_sent_at_is_kept_and_missing_means_now() -> None:
    happened = NOW - timedelta(days=1)
    assert correct_timestamp(happened, None, NOW) == happened
    assert correct_timestamp(None, NOW, NOW) == NOW


def test_timestamps_are_parsed_to_utc() -> None:
    message, _ = build(
        MessageType.TRACK,
        userId="u",
        event="e",
        timestamp="2026-01-01T10:00:00+02:00",
    )
    assert message is not None
    assert message.original_timestamp == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
