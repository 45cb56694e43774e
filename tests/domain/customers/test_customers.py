"""Customers outside the tracking API: upsert, update, delete, erase, list and activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from patron.domain.clock import utcnow
from patron.domain.customers.model import CustomerOrder, CustomerQuery
from patron.domain.customers.service import CustomerService
from patron.domain.errors import Invalid, NotFound
from patron.domain.people.activity import ActivityQuery, ActivityType
from patron.domain.tracking.messages import MessageType, build_message
from patron.services import Services
from patron.surfaces.voucherify.customer_rows import customer_row
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def row(**item: Any) -> dict[str, Any]:
    found, problems = customer_row(item)
    assert not problems, problems
    return found


async def track(services: Services, workspace_id: str, **document: Any) -> None:
    kind = MessageType(document.setdefault("type", "track"))
    message, problems = build_message(kind, document, received_at=utcnow())
    assert message is not None, problems
    await services.tracking.ingest(workspace_id=workspace_id, messages=[message])


async def test_upsert_by_source_id_and_by_id_shares_customers_with_tracking(
    services: Services,
) -> None:
    workspace = await make_workspace(services)
    customers = services.customers
    await track(services, workspace.id, type="identify", userId="ada", traits={"plan": "pro"})

    profile, created = await customers.upsert(
        workspace_id=workspace.id,
        row=row(source_id="ada", email="ada@example.com", metadata={"tier": "gold"}),
    )
    assert not created
    assert profile.external_id == "ada"
    assert profile.attributes == {"plan": "pro", "tier": "gold"}

    again, created = await customers.upsert(
        workspace_id=workspace.id, row=row(id=profile.id, metadata={"plan": None}, phone=None)
    )
    assert (again.id, created) == (profile.id, False)
    assert again.attributes == {"tier": "gold"}  # null removes a metadata key

    fresh, created = await customers.upsert(workspace_id=workspace.id, row=row(name="No Id"))
    assert created
    assert fresh.external_id is None
    with pytest.raises(NotFound):
        await customers.upsert(workspace_id=workspace.id, row=row(id="cust_unknown"))


async def test_an_update_may_name_its_customer_but_no_other(services: Services) -> None:
    workspace = await make_workspace(services)
    customers = services.customers
    ada, _ = await customers.upsert(workspace_id=workspace.id, row=row(source_id="ada"))
    await customers.upsert(workspace_id=workspace.id, row=row(source_id="bob"))

    named = row(id=ada.id, source_id="ada", name="Ada")
    updated = await customers.update(workspace_id=workspace.id, ref="ada", row=named)
    assert (updated.id, updated.external_id, updated.name) == (ada.id, "ada", "Ada")

    with pytest.raises(Invalid) as refused:
        await customers.update(
            workspace_id=workspace.id, ref="ada", row=row(source_id="bob", name="Bob?")
        )
    assert [problem.field for problem in refused.value.problems] == ["source_id"]
    with pytest.raises(Invalid):
        await customers.update(workspace_id=workspace.id, ref=ada.id, row=row(id="cust_other"))
    unchanged = await customers.profile(workspace_id=workspace.id, ref="ada")
    assert unchanged.name == "Ada"


async def test_voucherify_address_parts_replace_segment_ones(services: Services) -> None:
    workspace = await make_workspace(services)
    address = {"street": "1 Old Rd", "city": "Leeds", "postalCode": "LS1"}
    await track(services, workspace.id, type="identify", userId="u", traits={"address": address})
    profile = await services.customers.update(
        workspace_id=workspace.id,
        ref="u",
        row=row(address={"line_1": "2 New St", "city": None}),
    )
    assert profile.address == {"postalCode": "LS1", "line_1": "2 New St"}


async def test_bad_customer_objects_name_every_problem() -> None:
    _, problems = customer_row(
        {"email": 5, "birthdate": "1990-02-30", "colour": "red", "metadata": []}
    )
    assert [p.field for p in problems] == ["colour", "email"]
    _, problems = customer_row({"birthday": "not a date"})
    assert [(p.field, p.message) for p in problems] == [("birthdate", "must be a date, YYYY-MM-DD")]
    _, problems = customer_row({"address": {"street": "x"}})
    assert problems[0].field == "address"


async def test_a_deleted_customer_is_gone_and_its_ids_are_free(services: Services) -> None:
    workspace = await make_workspace(services)
    customers = services.customers
    await track(services, workspace.id, userId="bob", event="Signed Up")
    old = await customers.profile(workspace_id=workspace.id, ref="bob")

    await customers.delete(workspace_id=workspace.id, ref="bob")

    for ref in ("bob", old.id):
        with pytest.raises(NotFound):
            await customers.profile(workspace_id=workspace.id, ref=ref)
    page = await customers.list(workspace_id=workspace.id, query=CustomerQuery())
    assert page.customers == []
    await track(services, workspace.id, userId="bob", event="Came Back")
    new = await customers.profile(workspace_id=workspace.id, ref="bob")
    assert new.id != old.id
    # The old customer's history stays readable by its id until it is erased.
    history = await customers.activity(
        workspace_id=workspace.id, ref=old.id, query=ActivityQuery(descending=False)
    )
    # (The event's own timestamp may precede the moment its arrival created the customer.)
    types = [a.type for a in history.activities]
    assert sorted(types[:2]) == [ActivityType.CREATED, ActivityType.CUSTOM_EVENT]
    assert types[2:] == [ActivityType.DELETED]


async def test_erasing_removes_the_customer_and_what_refers_to_them(services: Services) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    await track(services, ws, anonymousId="device", event="Browsed")
    await track(services, ws, type="identify", userId="eve", anonymousId="device")
    await track(services, ws, type="group", userId="eve", groupId="acme", traits={})
    await track(services, ws, userId="eve", event="Bought")
    await services.customers.update(workspace_id=ws, ref="eve", row=row(name="Eve"))
    await track(services, ws, userId="other", event="Bought")

    report = await services.customers.erase(workspace_id=ws, ref="eve")

    # Activity: the update, the four events and customer.created.
    assert (report.customers, report.events, report.activities, report.memberships) == (1, 4, 6, 1)
    for ref in ("eve", "device", report.customer_id):
        with pytest.raises(NotFound):
            await services.customers.profile(workspace_id=ws, ref=ref)
    remaining = await services.customers.list_events(workspace_id=ws, ref="other")
    assert len(remaining) == 1


async def test_list_filters_orders_pages_and_cursor(services: Services) -> None:
    workspace = await make_workspace(services)
    clock = Clock()
    customers = CustomerService(services.store, clock=clock)
    cities = ["Paris", "Rome", "Paris", "Oslo", "Paris"]
    made = []
    for index, city in enumerate(cities):
        clock.tick()
        profile, _ = await customers.upsert(
            workspace_id=workspace.id,
            row=row(
                source_id=f"c{4 - index}",
                name="Same Name" if index < 2 else f"N{index}",
                email=f"c{index}@example.com",
                address={"city": city},
            ),
        )
        made.append(profile.id)
    ws = workspace.id

    async def ids(**filters: Any) -> list[str]:
        page = await customers.list(workspace_id=ws, query=CustomerQuery(**filters))
        return [p.id for p in page.customers]

    assert await ids() == made[::-1]  # newest first by default
    assert await ids(city="Paris", descending=False) == [made[0], made[2], made[4]]
    assert await ids(email="c3@example.com") == [made[3]]
    assert await ids(name="Same Name") == [made[1], made[0]]
    assert await ids(order=CustomerOrder.SOURCE_ID, descending=False) == made[::-1]
    assert await ids(created_after=T0 + timedelta(seconds=3)) == made[4:2:-1]
    assert await ids(created_before=T0 + timedelta(seconds=2)) == [made[0]]
    assert await ids(updated_after=T0 + timedelta(seconds=4)) == [made[4]]

    page = await customers.list(workspace_id=ws, query=CustomerQuery(limit=2, page=2))
    assert ([p.id for p in page.customers], page.total, page.has_more) == (made[2:0:-1], 5, True)
    last = await customers.list(workspace_id=ws, query=CustomerQuery(limit=2, page=3))
    assert ([p.id for p in last.customers], last.has_more) == ([made[0]], False)

    walked: list[str] = []
    cursor = None
    while True:
        query = CustomerQuery(limit=2, descending=False, starting_after=cursor)
        page = await customers.list(workspace_id=ws, query=query)
        walked.extend(p.id for p in page.customers)
        if not page.has_more:
            break
        cursor = page.customers[-1].created_at
    assert walked == made

    with pytest.raises(Invalid):
        await customers.list(workspace_id=ws, query=CustomerQuery(limit=101))
    assert await ids(segment_id="seg_anything") == []


async def test_activity_merges_its_sources_and_pages_through_ties(services: Services) -> None:
    workspace = await make_workspace(services)
    clock = Clock()
    customers = CustomerService(services.store, clock=clock)
    ws = workspace.id
    profile, _ = await customers.upsert(workspace_id=ws, row=row(source_id="tie"))
    # Events and updates at the very moment the customer was made, and later.
    for name in ("A", "B"):
        await track(services, ws, userId="tie", event=name, timestamp=T0.isoformat())
    await customers.update(workspace_id=ws, ref="tie", row=row(name="x"))
    clock.tick()
    await track(services, ws, userId="tie", event="C", timestamp=clock.now.isoformat())
    await customers.update(workspace_id=ws, ref="tie", row=row(name="y"))

    async def walk(descending: bool, limit: int, **filters: Any) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            query = ActivityQuery(
                limit=limit, descending=descending, starting_after_id=cursor, **filters
            )
            page = await customers.activity(workspace_id=ws, ref="tie", query=query)
            seen.extend(
                a.type + ":" + str(a.data.get("event", {}).get("name", "")) for a in page.activities
            )
            if not page.has_more:
                return seen
            cursor = page.activities[-1].id

    everything = await walk(False, 100)
    assert everything == [
        "customer.created:",
        "customer.updated:",
        "customer.custom_event:A",
        "customer.custom_event:B",
        "customer.updated:",
        "customer.custom_event:C",
    ]
    for limit in (1, 2, 4):
        assert await walk(False, limit) == everything
        assert await walk(True, limit) == everything[::-1]
    assert await walk(False, 2, types=frozenset({ActivityType.CUSTOM_EVENT.value})) == [
        "customer.custom_event:A",
        "customer.custom_event:B",
        "customer.custom_event:C",
    ]
    later = await walk(False, 10, start=T0 + timedelta(seconds=1))
    assert later == everything[-2:]
    assert await walk(False, 10, types=frozenset()) == []
    with pytest.raises(Invalid):
        await customers.activity(
            workspace_id=ws, ref=profile.id, query=ActivityQuery(starting_after_id="act_nope")
        )
