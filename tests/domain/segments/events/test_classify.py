"""Classifying one event: order, default, deleted segments, and the compiled cache."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from patron.domain.segments.events.classify import (
    DEFAULT_STAMP,
    EventSegmentation,
    SegmentationCache,
    Stamp,
)
from patron.domain.segments.events.model import Segment

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def segment(
    segment_id: int, criteria: list[Any], *, order: int = 0, group: int = 0, status: int = 200
) -> Segment:
    return Segment(
        "ws", segment_id, f"s{segment_id}", None, order, None, criteria, status, group, NOW, NOW
    )


def test_the_first_matching_segment_by_order_then_id_wins() -> None:
    anything = [{"field": "type", "op": "exists"}]
    segmentation = EventSegmentation(
        [
            segment(7, anything, order=2),
            segment(5, anything, order=1, group=3),
            segment(4, anything, order=1),
        ]
    )
    assert segmentation.classify({"type": "track"}, NOW) == Stamp(4, 0)


def test_no_match_is_the_default_segment_and_the_seeds_example_matches() -> None:
    seed = [
        {"field": "act", "op": "begins", "value": "12"},
        {"field": "href", "op": "nbegins", "value": "/action/do"},
    ]
    segmentation = EventSegmentation([segment(400, seed, group=9)])
    assert segmentation.classify({"properties": {"act": "123", "href": "/x"}}, NOW) == Stamp(400, 9)
    assert (
        segmentation.classify({"properties": {"act": "123", "href": "/action/do/1"}}, NOW)
        == DEFAULT_STAMP
    )
    assert segmentation.classify({"properties": {}}, NOW) == DEFAULT_STAMP
    assert Stamp(1, 0) == DEFAULT_STAMP


def test_deleted_segments_never_match() -> None:
    anything = [{"field": "type", "op": "exists"}]
    segmentation = EventSegmentation([segment(2, anything, status=410)])
    assert len(segmentation) == 0
    assert segmentation.classify({"type": "track"}, NOW) == DEFAULT_STAMP


def test_a_stored_segment_that_todays_rules_refuse_matches_nothing_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Accepted before regexes had a size limit: 1,020 positions once expanded.
    too_large = [{"field": "x", "op": "regex", "value": ".{255}.{255}.{255}.{255}"}]
    anything = [{"field": "type", "op": "exists"}]
    with caplog.at_level(logging.WARNING):
        segmentation = EventSegmentation([segment(2, too_large), segment(3, anything, order=1)])
    event = {"type": "track", "properties": {"x": "a" * 2000}}
    assert segmentation.classify(event, NOW) == Stamp(3, 0)
    assert "event segment 2 of workspace ws matches no event" in caplog.text


def test_relative_dates_use_the_time_of_ingest() -> None:
    recent = [{"field": "properties.at", "op": "within", "value": 1}]
    segmentation = EventSegmentation([segment(2, recent)])
    event = {"properties": {"at": "2026-11-22T00:00:00Z"}}
    assert segmentation.classify(event, NOW) == Stamp(2, 0)
    assert segmentation.classify(event, datetime(2026, 11, 24, tzinfo=UTC)) == DEFAULT_STAMP


class FakeUnit:
    """Just the two reads the cache makes, counting them."""

    def __init__(self) -> None:
        self.version = 0
        self.segments: list[Segment] = []
        self.listed = 0

    def event_segments_version(self, workspace_id: str) -> int:
        return self.version

    def list_segments(self, workspace_id: str) -> list[Segment]:
        self.listed += 1
        return list(self.segments)


def test_the_cache_recompiles_only_when_the_version_moves() -> None:
    unit = FakeUnit()
    cache = SegmentationCache()
    first = cache.current(unit, "ws")  # type: ignore[arg-type]
    assert cache.current(unit, "ws") is first  # type: ignore[arg-type]
    assert unit.listed == 1
    unit.segments = [segment(2, [{"field": "event", "op": "equals", "value": "Buy"}])]
    unit.version = 1
    second = cache.current(unit, "ws")  # type: ignore[arg-type]
    assert second is not first
    assert unit.listed == 2
    assert second.classify({"event": "Buy"}, NOW) == Stamp(2, 0)
