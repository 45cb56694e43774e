"""Session updates through the service, on both databases: evaluate, close, cancel, dry, retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from patron.domain.errors import Invalid
from patron.domain.promotions import effects as fx
from patron.domain.promotions import model
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.evaluate import Evaluation
from patron.domain.promotions.idempotency import Answer, Idempotency
from patron.domain.promotions.session_request import parse_session_request
from patron.domain.promotions.session_steps import SessionOutcome, tentative
from patron.services import Services
from tests.conftest import make_workspace
from tests.domain.promotions.sessions_support import (
    add_coupon,
    coupon_campaign,
    coupon_counter,
    usage_rows,
)

pytestmark = pytest.mark.anyio

CART = [{"sku": "sock", "quantity": 2, "price": 30}]


class Recorder:
    """A render function that keeps the outcomes it was given."""

    def __init__(self) -> None:
        self.outcomes: list[SessionOutcome] = []

    def __call__(self, outcome: SessionOutcome) -> Answer:
        self.outcomes.append(outcome)
        return Answer(200, f"answer {len(self.outcomes)}")

    @property
    def last(self) -> SessionOutcome:
        return self.outcomes[-1]

    def types(self) -> list[str]:
        return [effect["effectType"] for effect in self.last.effects]


async def shop(services: Services) -> tuple[Caller, int, int]:
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    caller = Caller(workspace.id, issued.application.id)
    campaign_id = await coupon_campaign(services, workspace.id, caller.application_id)
    coupon_id = await add_coupon(services, caller.application_id, campaign_id, "SPRING-1")
    return caller, campaign_id, coupon_id


async def update(
    services: Services, caller: Caller, session_id: str, recorder: Recorder, **fields: Any
) -> Answer:
    options = {k: fields.pop(k) for k in ("dry", "now_override", "idempotency") if k in fields}
    request = parse_session_request({"customerSession": fields})
    return await services.sessions.update(caller, session_id, request, render=recorder, **options)


async def test_close_redeems_and_cancel_rolls_back(services: Services) -> None:
    caller, campaign_id, coupon_id = await shop(services)
    seen = Recorder()
    await update(
        services, caller, "s1", seen, profileId="alice", couponCodes=["SPRING-1"], cartItems=CART
    )
    assert seen.types() == ["acceptCoupon", "setDiscount"]
    assert seen.last.session.state == "open"
    assert await coupon_counter(services, coupon_id) == 0  # open: nothing redeemed yet

    assert seen.last.coupons["SPRING-1"].usage_counter == 0
    await update(services, caller, "s1", seen, state="closed")
    assert seen.types() == ["acceptCoupon", "setDiscount"]
    assert await coupon_counter(services, coupon_id) == 1
    assert seen.last.coupons["SPRING-1"].usage_counter == 1  # the answer shows the redemption
    usage = await usage_rows(services, campaign_id)
    assert usage[("redeemCoupon", "")] == 1
    assert usage[("redeemCoupon", "alice")] == 1
    assert usage[("setDiscount", "")] == 10
    assert seen.last.profile.closed_sessions == 1
    assert seen.last.profile.total_sales == Decimal(60)

    # The coupon is used up: another customer's session is refused it.
    await update(services, caller, "s2", seen, profileId="bob", couponCodes=["SPRING-1"])
    [rejected] = seen.last.effects
    assert rejected["props"]["rejectionReason"] == "CouponLimitReached"

    await update(services, caller, "s1", seen, state="cancelled")
    assert sorted(seen.types()) == ["rollbackCoupon", "rollbackDiscount"]
    assert await coupon_counter(services, coupon_id) == 0
    assert seen.last.coupons["SPRING-1"].usage_counter == 0
    usage = await usage_rows(services, campaign_id)
    assert usage[("redeemCoupon", "")] == 0
    assert usage[("setDiscount", "")] == 0
    assert seen.last.profile.closed_sessions == 0

    # Bob's session may have it now; a cancelled session stays cancelled.
    await update(services, caller, "s2", seen, couponCodes=["SPRING-1"])
    assert seen.types() == ["acceptCoupon", "setDiscount"]
    with pytest.raises(Invalid):
        await update(services, caller, "s1", seen, state="open")


async def test_a_retried_close_does_not_redeem_twice(services: Services) -> None:
    caller, _campaign_id, coupon_id = await shop(services)
    seen = Recorder()
    fields = {
        "profileId": "alice",
        "couponCodes": ["SPRING-1"],
        "cartItems": CART,
        "state": "closed",
    }
    first = await update(services, caller, "s1", seen, **fields)
    again = await update(services, caller, "s1", seen, **fields)
    assert again.status == 200
    assert seen.types() == ["acceptCoupon", "setDiscount"]  # the stored answer's effects
    assert await coupon_counter(services, coupon_id) == 1
    assert first.body != again.body or len(seen.outcomes) == 2
    # Another change to a closed session is refused.
    with pytest.raises(Invalid):
        await update(services, caller, "s1", seen, cartItems=[])


async def test_idempotency_keys_replay_the_kept_answer(services: Services) -> None:
    caller, _campaign_id, coupon_id = await shop(services)
    seen = Recorder()
    key = Idempotency("key-1", "digest-1")
    first = await update(
        services, caller, "s1", seen, profileId="a", couponCodes=["SPRING-1"], idempotency=key
    )
    replay = await update(
        services, caller, "s1", seen, profileId="a", couponCodes=["SPRING-1"], idempotency=key
    )
    assert replay == first
    assert len(seen.outcomes) == 1  # not evaluated again
    with pytest.raises(Invalid) as refused:
        await update(
            services, caller, "s1", seen, state="closed", idempotency=Idempotency("key-1", "other")
        )
    assert refused.value.problems[0].field == "Idempotency-Key"
    assert await coupon_counter(services, coupon_id) == 0


async def test_dry_runs_store_nothing_and_may_look_ahead(services: Services) -> None:
    caller, campaign_id, coupon_id = await shop(services)
    seen = Recorder()
    await update(
        services,
        caller,
        "s1",
        seen,
        profileId="alice",
        couponCodes=["SPRING-1"],
        state="closed",
        dry=True,
    )
    assert seen.types() == ["acceptCoupon", "setDiscount"]
    assert seen.last.dry
    assert await coupon_counter(services, coupon_id) == 0
    assert await usage_rows(services, campaign_id) == {}
    # Nothing was stored: the session does not exist yet.
    await update(services, caller, "s1", seen, profileId="alice")
    assert seen.last.session.update_count == 1

    # A campaign that ends tomorrow is not running the day after, in a dry run at that time.
    ends = datetime.now(UTC) + timedelta(days=1)
    await services.campaigns.update(
        caller.workspace_id, caller.application_id, campaign_id, {"end_time": ends}
    )
    later = ends + timedelta(days=1)
    await update(
        services, caller, "s3", seen, couponCodes=["SPRING-1"], dry=True, now_override=later
    )
    [rejected] = seen.last.effects
    assert rejected["props"]["rejectionReason"] == "CouponPartOfNotRunningCampaign"
    with pytest.raises(Invalid) as refused:
        await update(services, caller, "s3", seen, now_override=later)
    assert refused.value.problems[0].field == "now"


async def test_a_session_keeps_its_profile(services: Services) -> None:
    caller, _campaign_id, _coupon_id = await shop(services)
    seen = Recorder()
    await update(services, caller, "s1", seen, profileId="alice")
    with pytest.raises(Invalid) as refused:
        await update(services, caller, "s1", seen, profileId="bob")
    assert refused.value.problems[0].field == "customerSession.profileId"
    # An anonymous session may be given its customer later.
    await update(services, caller, "s2", seen)
    assert seen.last.session.profile_id == ""
    await update(services, caller, "s2", seen, profileId="bob")
    assert seen.last.session.profile_id == "bob"
    assert seen.last.profile.customer_id is not None


async def test_built_in_events_are_the_customers_events(services: Services) -> None:
    caller, _campaign_id, _coupon_id = await shop(services)
    seen = Recorder()
    await update(services, caller, "s1", seen, profileId="carol", cartItems=CART)
    await update(services, caller, "s1", seen, state="closed")
    customer_id = seen.last.profile.customer_id
    assert customer_id is not None
    events = await services.store.read(
        lambda unit: unit.list_events(caller.workspace_id, customer_id, limit=10)
    )
    names = sorted(event["name"] for event in events)
    assert names == ["talon_session_closed", "talon_session_created"]


def test_an_open_sessions_points_show_in_the_tentative_balance() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)

    def points(kind: type, value: int, subledger: str = "", start: datetime | None = None) -> Any:
        if kind is fx.DeductLoyaltyPoints:
            return fx.Effect(fx.DeductLoyaltyPoints("r", 1, subledger, Decimal(value), "t", "n"))
        props = fx.AddLoyaltyPoints("n", 1, subledger, Decimal(value), "ann", "t", start)
        return fx.Effect(props)

    effects = (
        points(fx.AddLoyaltyPoints, 25),
        points(fx.AddLoyaltyPoints, 7, start=now + timedelta(days=1)),  # pending, not current
        points(fx.AddLoyaltyPoints, 9, subledger="shoes"),
        points(fx.DeductLoyaltyPoints, 5),
    )
    evaluation = Evaluation(effects, (), (), (), (), (), None)
    club = model.LoyaltyProgram(1, balance=model.LoyaltyBalance(current=Decimal(100)))
    other = model.LoyaltyProgram(2, balance=model.LoyaltyBalance(current=Decimal(3)))
    seen = tentative({"1": club, "2": other}, evaluation, now)
    assert seen["1"].balance.tentative == 120
    assert seen["1"].balance.current == 100
    assert seen["2"].balance.tentative == 3
