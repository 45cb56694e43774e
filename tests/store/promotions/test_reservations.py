"""Reservations and who holds them, on both databases: customers and ids that are not yet."""

from __future__ import annotations

import pytest

from patron.domain.errors import Invalid, NotFound
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.coupon_model import CouponTerms
from patron.domain.promotions.coupons import CodeRequest
from patron.domain.promotions.reservations import check_integration_ids
from patron.services import Services
from tests.conftest import make_workspace
from tests.store.promotions.support import campaign_of

pytestmark = pytest.mark.anyio


async def test_holders_are_customers_where_there_is_one(services: Services) -> None:
    workspace = await make_workspace(services)
    issued = await services.applications.create(
        workspace=workspace.name, name="Shop", case_sensitivity="insensitive-uppercase"
    )
    application_id = issued.application.id
    caller = Caller(workspace.id, application_id)
    await services.coupons.create(
        workspace_id=workspace.id,
        application_id=application_id,
        campaign_id=await campaign_of(services, workspace.id, application_id),
        terms=CouponTerms(is_reservation_mandatory=True),
        request=CodeRequest(codes=("Gift-A/1",)),
    )
    await services.customers.upsert(
        workspace_id=workspace.id,
        row={"source_id": "ann", "fields": {}, "metadata": {"tier": "gold"}},
    )
    held = await services.reservations.reserve(caller, "gift-a/1", ("ann", "zoe"))
    assert held.reservation_counter == 2
    assert held.terms.is_reservation_mandatory
    holders = await services.reservations.holders(caller, "GIFT-A/1")
    assert [h.integration_id for h in holders] == ["ann", "zoe"]
    ann, zoe = holders
    assert ann.customer_id is not None
    assert ann.attributes == {"tier": "gold"}
    assert (zoe.customer_id, zoe.attributes) == (None, {})
    views = await services.store.read(
        lambda unit: unit.coupons_for_codes(
            application_id, "insensitive-uppercase", ["gift-a/1"], "zoe"
        )
    )
    assert views["gift-a/1"].reserved_by == frozenset({"zoe"})
    await services.reservations.release(caller, "Gift-A/1", ("zoe", "nobody"))
    assert [h.integration_id for h in await services.reservations.holders(caller, "GIFT-a/1")] == [
        "ann"
    ]
    with pytest.raises(NotFound):
        await services.reservations.reserve(caller, "Gift-B", ("ann",))
    other = await make_workspace(services)
    with pytest.raises(NotFound):  # another workspace's key names no such application
        await services.reservations.holders(Caller(other.id, application_id), "Gift-A/1")


def test_integration_ids_are_checked() -> None:
    assert check_integration_ids(["a", "b", "a"]) == ("a", "b")
    for bad in (None, [], "a", [1], [""], ["x" * 1001], ["a"] * 1001):
        with pytest.raises(Invalid):
            check_integration_ids(bad)
