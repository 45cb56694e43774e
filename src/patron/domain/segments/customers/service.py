"""Creating, reading and deleting customer segments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.people.lookup import resolve_customer
from patron.domain.people.profiles import Profile
from patron.domain.segments.customers.filters import MAX_NAME, parse_filter
from patron.domain.segments.customers.membership import Membership
from patron.domain.segments.customers.model import (
    MAX_STATIC_MEMBERS,
    CustomerSegment,
    SegmentType,
)
from patron.domain.segments.customers.ports import CustomerSegmentUnit
from patron.domain.store import Store
from patron.ids import new_id


class CustomerSegmentService:
    """Creates, reads and deletes customer segments; lists a customer's segments."""

    def __init__(self, store: Store[CustomerSegmentUnit], clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    async def create(
        self,
        *,
        workspace_id: str,
        name: Any,
        type_: Any,
        filter_: Any = None,
        customers: Any = None,
    ) -> tuple[CustomerSegment, int]:
        """Create a segment and fill it; return it with how many customers it holds."""
        segment = _validated(
            workspace_id,
            name=name,
            type_=type_,
            filter_=filter_,
            customers=customers,
            now=self.clock(),
        )
        now = segment.created_at

        def work(unit: CustomerSegmentUnit) -> tuple[CustomerSegment, int]:
            stored = CustomerSegment(
                new_id("seg"), workspace_id, segment.name, segment.type, segment.filter, now, now
            )
            unit.add_customer_segment(stored)
            unit.bump_customer_segments_version(workspace_id)
            if stored.type is SegmentType.STATIC:
                ids = sorted({resolve_customer(unit, workspace_id, ref).id for ref in customers})
                unit.add_segment_members(workspace_id, [(stored.id, c) for c in ids], now)
                return stored, len(ids)
            rule = stored.rule()
            assert rule is not None
            entered = stored.type is SegmentType.AUTO_UPDATE
            return stored, unit.backfill_segment(stored, rule, now, record_entered=entered)

        return await self.store.write(work)

    async def get(self, *, workspace_id: str, segment_id: str) -> CustomerSegment:
        def work(unit: CustomerSegmentUnit) -> CustomerSegment:
            found = unit.get_customer_segment(workspace_id, segment_id)
            if found is None:
                raise NotFound("segment", segment_id)
            return found

        return await self.store.read(work)

    async def delete(self, *, workspace_id: str, segment_id: str) -> None:
        def work(unit: CustomerSegmentUnit) -> None:
            if not unit.delete_customer_segment(workspace_id, segment_id):
                raise NotFound("segment", segment_id)
            unit.bump_customer_segments_version(workspace_id)

        await self.store.write(work)

    async def of_customer(self, *, workspace_id: str, ref: str) -> list[CustomerSegment]:
        """A customer's segments; for a customer Patron does not know, those a new
        customer with this source_id (and nothing else) would qualify for."""
        now = self.clock()

        def work(unit: CustomerSegmentUnit) -> list[CustomerSegment]:
            segments = {s.id: s for s in unit.list_customer_segments(workspace_id)}
            try:
                profile = resolve_customer(unit, workspace_id, ref)
            except NotFound:
                stranger = Profile(ref, workspace_id, ref, now, now)
                ids = Membership(segments.values()).matching(stranger, now)
            else:
                ids = unit.segment_memberships(workspace_id, [profile.id]).get(profile.id, set())
            return [segments[i] for i in sorted(ids) if i in segments]

        return await self.store.read(work)

    # Last: inside the class, ``list`` names this method from here on.
    async def list(self, *, workspace_id: str) -> list[CustomerSegment]:
        """The workspace's customer segments, oldest first."""
        return await self.store.read(lambda unit: unit.list_customer_segments(workspace_id))


def _validated(
    workspace_id: str, *, name: Any, type_: Any, filter_: Any, customers: Any, now: datetime
) -> CustomerSegment:
    problems: list[Problem] = []
    if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME:
        problems.append(Problem(f"must be a string of 1 to {MAX_NAME} characters", "name"))
    try:
        kind = SegmentType(type_)
    except ValueError:
        problems.append(Problem("must be static, auto-update or passive", "type"))
        kind = SegmentType.STATIC
    if kind is SegmentType.STATIC and not problems:
        if filter_ is not None:
            problems.append(Problem("a static segment lists customers; it has no filter", "filter"))
        if not isinstance(customers, list) or not all(isinstance(c, str) and c for c in customers):
            problems.append(Problem("must be a list of customer ids or source_ids", "customers"))
        elif len(customers) > MAX_STATIC_MEMBERS:
            problems.append(
                Problem(f"a static segment holds at most {MAX_STATIC_MEMBERS:,}", "customers")
            )
    elif not problems:
        if customers is not None:
            problems.append(Problem(f"an {kind} segment follows its filter", "customers"))
        try:
            parse_filter(filter_)
        except Invalid as error:
            problems.extend(error.problems)
    if problems:
        raise Invalid.of(problems)
    assert isinstance(name, str)
    stored_filter = None if kind is SegmentType.STATIC else filter_
    return CustomerSegment("", workspace_id, name.strip(), kind, stored_filter, now, now)
