"""Config API wire format: Infinity's property names, numbers sent as strings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patron.domain.errors import Invalid, Problem
from patron.domain.segments.events.model import Segment, SegmentGroup
from patron.domain.segments.events.service import SegmentChanges
from patron.surfaces.http.numbers import whole_number

MAX_PAGE = 1000
# The API's integers (ids, orders, org ids, limit, offset) are 32-bit, and so are
# the columns that keep them; none is negative.
MAX_INTEGER = 2**31 - 1
SEGMENT_FIELDS = (
    "segment",
    "segmentRef",
    "segmentName",
    "segmentOrder",
    "orgId",
    "segmentStatus",
    "segmentGroupId",
)
GROUP_FIELDS = ("segmentGroupId", "segmentGroupName", "igrp", "segmentGroupStatus")


def segment_json(segment: Segment) -> dict[str, Any]:
    body: dict[str, Any] = {
        "segment": str(segment.id),
        "segmentRef": segment.ref,
        "segmentName": segment.name,
        "segmentOrder": str(segment.order),
        "criteria": segment.criteria,
        "segmentStatus": str(segment.status),
        "orgId": None if segment.org_id is None else str(segment.org_id),
        "segmentGroupId": str(segment.group_id),
    }
    return body


def group_json(group: SegmentGroup, igrp: int) -> dict[str, Any]:
    return {
        "segmentGroupId": str(group.id),
        "segmentGroupName": group.name,
        "igrp": str(igrp),
        "segmentGroupStatus": str(group.status),
    }


def integer(value: Any, field: str, problems: list[Problem]) -> int | None:
    """An integer sent as a JSON number or as decimal text (as the API answers).

    Every integer the API takes, in a path, a query or a body, is read here:
    digits only, 0 to :data:`MAX_INTEGER`; anything else is a problem.
    """
    if value is None:
        return None
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        number = whole_number(value)
    if number is None or not 0 <= number <= MAX_INTEGER:
        problems.append(Problem(f"must be a whole number, 0 to {MAX_INTEGER}", field))
        return None
    return number


def text(value: Any, field: str, problems: list[Problem]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    problems.append(Problem("must be a string", field))
    return None


def path_id(value: str, field: str) -> int:
    problems: list[Problem] = []
    number = integer(value, field, problems)
    if number is None:
        raise Invalid.of(problems)
    return number


def segment_changes(
    body: Mapping[str, Any], *, creating: bool
) -> tuple[int | None, SegmentChanges]:
    allowed = {"segment", *SEGMENT_FIELDS, "criteria"} - {"segmentStatus"}
    if not creating:
        allowed.discard("segment")
    problems = [Problem("unknown property", key) for key in body if key not in allowed]
    criteria = body.get("criteria")
    if criteria is not None and not isinstance(criteria, list):
        problems.append(Problem("must be a list of criteria", "criteria"))
    changes = SegmentChanges(
        name=text(body.get("segmentName"), "segmentName", problems),
        ref=text(body.get("segmentRef"), "segmentRef", problems),
        order=integer(body.get("segmentOrder"), "segmentOrder", problems),
        org_id=integer(body.get("orgId"), "orgId", problems),
        criteria=criteria if isinstance(criteria, list) else None,
        group_id=integer(body.get("segmentGroupId"), "segmentGroupId", problems),
    )
    segment_id = integer(body.get("segment"), "segment", problems)
    if problems:
        raise Invalid.of(problems)
    return segment_id, changes


def sorted_segments(body: Mapping[str, Any]) -> list[int]:
    value = body.get("sortedSegments")
    if not isinstance(value, list):
        raise Invalid.of([Problem("must be a list of segment ids", "sortedSegments")])
    problems: list[Problem] = []
    ids = [integer(item, f"sortedSegments[{i}]", problems) for i, item in enumerate(value)]
    if problems or None in ids:
        raise Invalid.of(problems or [Problem("must be segment ids", "sortedSegments")])
    return [segment_id for segment_id in ids if segment_id is not None]


def page(
    items: list[dict[str, Any]], params: Mapping[str, list[str]], fields: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Apply ``filter=prop:value``, ``sort=prop`` / ``sort=-prop``, ``limit`` and ``offset``."""
    for spec in params.get("filter", []):
        name, separator, wanted = spec.partition(":")
        _known(name, fields, "filter", separator == ":")
        items = [item for item in items if item.get(name) == wanted]
    for spec in reversed(params.get("sort", [])):
        name = spec.removeprefix("-")
        _known(name, fields, "sort", True)
        items.sort(key=lambda item: _sort_key(item.get(name)), reverse=spec.startswith("-"))
    problems: list[Problem] = []
    offset = integer(_last(params, "offset"), "offset", problems) or 0
    limit = integer(_last(params, "limit"), "limit", problems)
    if limit is not None and not 0 <= limit <= MAX_PAGE:
        problems.append(Problem(f"must be 0 to {MAX_PAGE}", "limit"))
    if problems:
        raise Invalid.of(problems)
    return items[offset : offset + limit if limit is not None else None]


def _last(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _known(name: str, fields: tuple[str, ...], where: str, well_formed: bool) -> None:
    if not well_formed or name not in fields:
        raise Invalid.of(
            [Problem(f"must name one of {', '.join(fields)} (filter as prop:value)", where)]
        )


def _sort_key(value: Any) -> tuple[int, int, str]:
    # Numbers travel as text: sort them as numbers, text as text, null first.
    if value is None:
        return (0, 0, "")
    if isinstance(value, str) and value.isdecimal():
        return (1, int(value), "")
    return (2, 0, str(value))
