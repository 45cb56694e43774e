"""Classifying events into event segments at ingest (Infinity's "trigger").

Every event is stamped with the first active segment, by ``segmentOrder``
and then id, whose criteria it matches — segment 1, the default, when none
does — and with that segment's group at that moment. Stamps are written once
with the event and never recomputed: reports over old events keep showing
how they were classified then.

A workspace's segments are compiled once per change, not per event. The
check for a change is one primary-key read of the installation's
event segments version inside the ingest transaction, so every process (and
every worker) classifies with exactly the segments committed at that moment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patron.domain.criteria import AnyOf, Node, event_field, parse
from patron.domain.criteria.first_match import compile_first_match
from patron.domain.errors import Invalid
from patron.domain.segments.events.model import Segment
from patron.domain.segments.events.ports import EventSegmentReader
from patron.domain.segments.events.service import ACTIVE, DEFAULT_SEGMENT, NO_GROUP


@dataclass(frozen=True, slots=True)
class Stamp:
    segment_id: int
    group_id: int


DEFAULT_STAMP = Stamp(DEFAULT_SEGMENT, NO_GROUP)
log = logging.getLogger(__name__)


class EventSegmentation:
    """A workspace's active segments, compiled, in the order they are tried."""

    def __init__(self, segments: Iterable[Segment]) -> None:
        active = sorted(
            (segment for segment in segments if segment.status == ACTIVE),
            key=lambda segment: (segment.order, segment.id),
        )
        # The default last: index -1 (no match) picks it.
        self._stamps = (*(Stamp(s.id, s.group_id) for s in active), DEFAULT_STAMP)
        self._first_match = compile_first_match([_criteria(segment) for segment in active])

    def __len__(self) -> int:
        return len(self._stamps) - 1

    def classify(self, event: Mapping[str, Any], now: datetime) -> Stamp:
        """The stamp of the first segment whose criteria ``event`` matches."""
        return self._stamps[self._first_match(event, now)]


def _criteria(segment: Segment) -> Node:
    """The segment's criteria; none that match, if today's rules refuse them.

    Criteria were checked when stored, but a limit added since (the size of
    a regex, say) can refuse them now: that segment must stop matching, not
    stop its workspace's ingestion.
    """
    try:
        return parse(segment.criteria, fields=event_field)
    except Invalid as refused:
        log.warning(
            "event segment %d of workspace %s matches no event until its criteria are updated: %s",
            segment.id,
            segment.workspace_id,
            refused,
        )
        return AnyOf(())


class SegmentationCache:
    """Each workspace's compiled segments, recompiled when its segments change.

    Used only from the store's writer thread (ingest transactions), so it
    needs no lock.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[int, EventSegmentation]] = {}

    def current(self, unit: EventSegmentReader, workspace_id: str) -> EventSegmentation:
        version = unit.event_segments_version(workspace_id)
        cached = self._compiled.get(workspace_id)
        if cached is None or cached[0] != version:
            # The list is read after the version: it is at least that new, so
            # a change racing this read costs one more compilation, no more.
            cached = (version, EventSegmentation(unit.list_segments(workspace_id)))
            self._compiled[workspace_id] = cached
        return cached[1]
