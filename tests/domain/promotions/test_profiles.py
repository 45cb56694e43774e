"""Talon profiles are customers: updates, Talon events as the customer's events,
audiences, holdings, and one erasure whether Talon or Voucherify asks for it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from patron.domain.clock import utcnow
from patron.domain.customers.model import CustomerQuery
from patron.domain.errors import Invalid, NotFound
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.inventory import CodeState
from patron.domain.promotions.profiles import (
    AudienceChanges,
    TalonEvent,
    record_talon_events,
    talon_profile_id,
)
from patron.services import Services
from patron.store.unit import SqlUnit
from tests.conftest import make_workspace
from tests.surfaces.talon_one.integration.rows import add_audience, rows_naming, seed

pytestmark = pytest.mark.anyio


async def _shop(services: Services) -> tuple[str, Caller]:
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    return workspace.name, Caller(workspace.id, issued.application.id)


async def test_a_profile_update_is_the_customers_update(services: Services) -> None:
    _, caller = await _shop(services)
    ws = caller.workspace_id
    created = await services.profiles.update(
        caller=caller, integration_id="ada", attributes={"email": "ada@example.com", "tier": 1}
    )
    assert created.id == talon_profile_id(ws, "ada")
    customer = await services.customers.profile(workspace_id=ws, ref="ada")
    assert customer.id == created.profile.id
    assert (customer.email, customer.attributes) == ("ada@example.com", {"tier": 1})
    assert created.attributes == {"email": "ada@example.com", "tier": 1}

    # Merged like an identify: null erases nothing, other keys stay.
    again = await services.profiles.update(
        caller=caller, integration_id="ada", attributes={"tier": 2, "email": None}
    )
    assert again.profile.id == created.profile.id
    assert again.attributes == {"email": "ada@example.com", "tier": 2}
    found = await services.profiles.get(workspace_id=ws, integration_id="ada")
    assert (found.totals.closed_sessions, found.totals.total_sales) == (0, Decimal(0))
    with pytest.raises(NotFound):
        await services.profiles.get(workspace_id=ws, integration_id="nobody")

    preview = await services.profiles.preview(
        caller=caller, integration_id="ada", attributes={"tier": 3}
    )
    assert preview.attributes["tier"] == 3
    kept = await services.customers.profile(workspace_id=ws, ref="ada")
    assert kept.attributes == {"tier": 2}  # a dry run saves nothing


async def test_talon_events_are_the_customers_events_once_each(services: Services) -> None:
    _, caller = await _shop(services)
    ws = caller.workspace_id
    segment, _ = await services.customer_segments.create(
        workspace_id=ws,
        name="Wishers",
        type_="auto-update",
        filter_={"events.wishlist_added": {"conditions": {"$more_than_equal": [1]}, "days": 7}},
    )
    event = TalonEvent(
        integration_id="bob",
        type="wishlist_added",
        attributes={"sku": "SKU-1"},
        message_id="talon-1-e-1",
        application_id=caller.application_id,
        session_id="cart-1",
    )
    now = utcnow()

    def record(unit: SqlUnit) -> list[bool]:
        return record_talon_events(unit, ws, [event], now)

    assert await services.store.write(record) == [True]
    assert await services.store.write(record) == [False]  # the same message id: once
    events = await services.customers.list_events(workspace_id=ws, ref="bob")
    assert [(e["type"], e["name"], e["message_id"]) for e in events] == [
        ("track", "wishlist_added", "talon-1-e-1")
    ]
    assert events[0]["document"]["properties"] == {"sku": "SKU-1"}
    page = await services.customers.list(
        workspace_id=ws, query=CustomerQuery(segment_id=segment.id)
    )
    assert [p.external_id for p in page.customers] == ["bob"]


async def test_audience_changes_join_and_leave_static_segments(
    services: Services, database_url: str
) -> None:
    name, caller = await _shop(services)
    vip = add_audience(database_url, name, "VIP")
    late = add_audience(database_url, name, "Late")
    joined = await services.profiles.update(
        caller=caller, integration_id="cy", attributes={}, audiences=AudienceChanges((vip, late))
    )
    assert joined.audiences == ((vip, "VIP"), (late, "Late"))
    left = await services.profiles.update(
        caller=caller, integration_id="cy", attributes={}, audiences=AudienceChanges((), (late,))
    )
    assert left.audiences == ((vip, "VIP"),)
    with pytest.raises(Invalid) as unknown:
        await services.profiles.update(
            caller=caller, integration_id="cy", attributes={}, audiences=AudienceChanges((999,))
        )
    assert [p.field for p in unknown.value.problems] == ["audiencesChanges.adds.0"]


async def test_holdings_read_coupons_referrals_and_balances(
    services: Services, database_url: str
) -> None:
    name, caller = await _shop(services)
    await services.profiles.update(caller=caller, integration_id="dee", attributes={})
    seeded = seed(database_url, name, caller.application_id, "dee", "A")
    inventory = await services.profiles.inventory(
        caller=caller, integration_id="dee", profile=True, coupons=True, referrals=True,
        loyalty=True,
    )  # fmt: skip
    assert inventory.profile is not None
    assert inventory.profile.totals.closed_sessions == 2
    assert inventory.profile.totals.total_sales == Decimal("29.75")
    assert inventory.profile.loyalty[0][0] == seeded.program_id
    coupons = inventory.holdings.coupons or []
    now = utcnow()
    assert {(c.value, c.state(now), c.profile_redemptions, c.reserved) for c in coupons} == {
        ("RESERVED-A", CodeState.USED, 1, True),  # its per-profile limit is reached
        ("GIFT-A", CodeState.EXPIRED, 0, False),
    }
    (referral,) = inventory.holdings.referrals or []
    assert (referral.code, referral.referred_customers) == ("REF-A", ("friend-of-dee",))
    (program,) = inventory.holdings.loyalty or []
    balance = program.balance
    assert (balance.current, balance.pending, balance.expired, balance.spent) == (70, 20, 5, 30)
    later = await services.profiles.holdings(workspace_id=caller.workspace_id, ref="dee")
    assert len(later.holdings.coupons or []) == 2
    assert (later.holdings.coupons or [])[0].state(now + timedelta(days=2)) == CodeState.USED


async def test_talon_and_voucherify_erase_the_same_things(
    services: Services, database_url: str
) -> None:
    name, caller = await _shop(services)
    ws = caller.workspace_id
    reports = []
    for who, tag in (("eve", "E"), ("fay", "F")):
        await services.profiles.update(caller=caller, integration_id=who, attributes={"a": 1})
        seed(database_url, name, caller.application_id, who, tag)
        assert all(rows_naming(database_url, who).values())
    reports.append(
        await services.profiles.delete_customer_data(workspace_id=ws, integration_id="eve")
    )
    reports.append(await services.customers.erase(workspace_id=ws, ref="fay"))
    for who, report in zip(("eve", "fay"), reports, strict=True):
        assert set(rows_naming(database_url, who).values()) == {0}
        with pytest.raises(NotFound):
            await services.profiles.get(workspace_id=ws, integration_id=who)
        assert report.customers == 1
    talon, voucherify = reports
    assert talon.related == voucherify.related
    assert talon.related == {
        "coupon_recipients": 1,
        "coupon_redemptions": 1,
        "coupon_reservations": 1,
        "idempotent_answers": 1,
        "ledger_entries": 4,
        "referral_friends": 0,
        "referral_redemptions": 1,
        "referrals": 1,
        "sessions": 3,
        "usage_counters": 1,
    }
    with pytest.raises(NotFound):
        await services.profiles.delete_customer_data(workspace_id=ws, integration_id="eve")
