"""Which fields criteria may name, per kind of record."""

from __future__ import annotations

from patron.domain.criteria.parse import FieldRefused, split_path
from patron.domain.criteria.tree import Path

# The top-level fields of an event document (the Segment spec's names).
EVENT_TOP_LEVEL = frozenset(
    {
        "type",
        "event",
        "name",
        "category",
        "userId",
        "anonymousId",
        "groupId",
        "previousId",
        "messageId",
        "timestamp",
        "originalTimestamp",
        "sentAt",
        "receivedAt",
        "properties",
        "context",
        "traits",
    }
)
# Infinity: decided after the segment, or unsuitable for criteria.
EVENT_REFUSED = frozenset({"segment", "goal", "goalTitle", "goalValue", "goalCurrency"})


def event_field(name: str) -> Path:
    """A path as written; a bare name that is no event field means ``properties.<name>``."""
    path = split_path(name)
    head = path[0]
    if head in EVENT_REFUSED or head.lower().startswith("attribution"):
        raise FieldRefused("cannot be used in segment criteria (decided after segmentation)")
    if head not in EVENT_TOP_LEVEL:
        if len(path) + 1 > 8:
            raise FieldRefused("is nested too deeply")
        return ("properties", *path)
    return path


def any_field(name: str) -> Path:
    """Any dotted path into the record (profiles, tests)."""
    return split_path(name)
