"""The one date-time format criteria compare, read the same way by all three evaluators."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# ISO-8601: a date, or a date-time to the minute, second or millisecond, with
# an optional ``Z`` or ``±HH:MM`` offset (none means UTC). Milliseconds at
# most: SQLite's date functions keep no more.
DATE_PATTERN = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,3})?)?"
    r"(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?)?$"
)
# Python's "$" also matches before a final newline; PostgreSQL's and RE2's do not.
PY_DATE_PATTERN = DATE_PATTERN.removesuffix("$") + r"\Z"
_DATE = re.compile(PY_DATE_PATTERN)
MAX_DAYS = 36_500


def parse_date(value: object) -> datetime | None:
    """An aware UTC datetime, or None when ``value`` is not a date in the format."""
    if not isinstance(value, str) or _DATE.match(value) is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:  # the pattern admits 2024-02-30
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_millisecond(moment: datetime) -> datetime:
    """``moment`` in UTC, cut to the millisecond: the precision every evaluator shares."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def window(now: datetime, days: int) -> tuple[datetime, datetime]:
    """``within`` N days: from N days before ``now`` to ``now``, both included."""
    end = to_millisecond(now)
    return end - timedelta(days=days), end
