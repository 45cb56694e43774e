"""Static segments changed from outside the customers API (Talon.One's audiences).

Work that runs inside a caller's transaction: create a static segment,
rename it, delete it, add and remove members. Each keeps what the rest of
the capability relies on: the workspace's segments version moves with every
change to its segments, so that every process's compiled membership (and
``MembershipCache``) sees it, and a member is always a live customer.
Static segments record no entered/left activity (Voucherify records those
for auto-update segments only), so membership changes write no activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.segments.customers.filters import MAX_NAME
from patron.domain.segments.customers.model import CustomerSegment, SegmentType
from patron.domain.segments.customers.ports import CustomerSegmentUnit
from patron.ids import new_id


class StaticSegmentUnit(CustomerSegmentUnit, Protocol):
    """Customer segment storage, and what changing a static segment from outside needs."""

    def rename_customer_segment(
        self, workspace_id: str, segment_id: str, name: str, now: datetime
    ) -> None: ...

    def segment_member_ids(self, segment_id: str) -> list[str]: ...


def valid_name(name: object, field: str = "name") -> str:
    """A segment name (1 to 200 characters, trimmed), or Invalid naming ``field``."""
    if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME:
        raise Invalid.of([Problem(f"must be a string of 1 to {MAX_NAME} characters", field)])
    return name.strip()


def create_static_segment(
    unit: CustomerSegmentUnit, workspace_id: str, name: str, now: datetime
) -> CustomerSegment:
    """A new, empty static segment."""
    segment = CustomerSegment(
        new_id("seg"), workspace_id, valid_name(name), SegmentType.STATIC, None, now, now
    )
    unit.add_customer_segment(segment)
    unit.bump_customer_segments_version(workspace_id)
    return segment


def static_segment(
    unit: CustomerSegmentUnit, workspace_id: str, segment_id: str
) -> CustomerSegment:
    """The workspace's static segment with this id, or NotFound."""
    found = unit.get_customer_segment(workspace_id, segment_id)
    if found is None or found.type is not SegmentType.STATIC:
        raise NotFound("segment", segment_id)
    return found


def rename_static_segment(
    unit: StaticSegmentUnit, workspace_id: str, segment_id: str, name: str, now: datetime
) -> None:
    static_segment(unit, workspace_id, segment_id)
    unit.rename_customer_segment(workspace_id, segment_id, valid_name(name), now)
    unit.bump_customer_segments_version(workspace_id)


def delete_static_segment(unit: CustomerSegmentUnit, workspace_id: str, segment_id: str) -> None:
    static_segment(unit, workspace_id, segment_id)
    unit.delete_customer_segment(workspace_id, segment_id)
    unit.bump_customer_segments_version(workspace_id)


def change_members(
    unit: CustomerSegmentUnit,
    workspace_id: str,
    adds: Sequence[tuple[str, str]],
    removes: Sequence[tuple[str, str]],
    now: datetime,
) -> None:
    """Add and remove ``(segment_id, customer_id)`` pairs of static segments.

    The callers name segments they have read as static in this transaction
    and customers they have resolved (live ones) in it; a pair is either
    added or removed, not both.
    """
    if removes:
        unit.remove_segment_members(workspace_id, sorted(set(removes)))
    if adds:
        unit.add_segment_members(workspace_id, sorted(set(adds)), now)


def clear_members(unit: StaticSegmentUnit, workspace_id: str, segment_id: str) -> int:
    """Remove every member of a static segment; return how many there were."""
    static_segment(unit, workspace_id, segment_id)
    members = unit.segment_member_ids(segment_id)
    unit.remove_segment_members(workspace_id, [(segment_id, c) for c in members])
    return len(members)
