"""Session updates and events with the official SDK (``talon-one-python-sdk`` 9.0.0) against
``patron serve``; API v1 with raw HTTP (no v1 SDK is on PyPI).

The campaign and its coupons are set up in the same database through the
services (and a SQL insert for the coupons); the server's campaign cache
picks the campaign up with the application's promotions version.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import talon_one
from sqlalchemy import create_engine, text
from talon_one.rest import ApiException

from patron.services import Services
from patron.store.promotions.sessions import promotion_lock_number
from tests.domain.promotions.sessions_support import add_coupon, coupon_campaign, coupon_counter
from tests.patron_server import running_server
from tests.surfaces.talon_one.support import (
    TalonShop,
    open_shop,
    raw_talon_error,
    server,
    shop,
    talon_error,
)

pytestmark = [pytest.mark.server, pytest.mark.anyio]
__all__ = ["server", "shop"]  # fixtures

CONTENT = ["customerSession", "customerProfile", "coupons", "triggeredCampaigns", "event"]


def session_request(
    content: list[str] | None = None, **fields: Any
) -> talon_one.IntegrationRequest:
    return talon_one.IntegrationRequest(
        customer_session=talon_one.NewCustomerSessionV2(**fields), response_content=content
    )


def cart() -> list[talon_one.CartItem]:
    return [talon_one.CartItem(name="Socks", sku="sock", quantity=2, price=30.0)]


def types(state: Any) -> list[str]:
    return [effect.effect_type for effect in state.effects]


async def workspace_id(services: Services, shop: TalonShop) -> str:
    found = await services.applications.of_named_workspace(workspace=shop.workspace)
    return next(a for a in found if a.id == shop.application_id).workspace_id


async def campaign_with_coupons(
    services: Services, shop: TalonShop, *codes: str
) -> tuple[int, list[int]]:
    workspace = await workspace_id(services, shop)
    campaign_id = await coupon_campaign(services, workspace, shop.application_id)
    coupons = [await add_coupon(services, shop.application_id, campaign_id, c) for c in codes]
    return campaign_id, coupons


async def test_the_session_story(shop: TalonShop, services: Services) -> None:
    campaign_id, (coupon_id, _other) = await campaign_with_coupons(
        services, shop, "SPRING-1", "SPRING-2"
    )
    api = shop.integration

    opened = api.update_customer_session_v2(
        "s1",
        session_request(CONTENT, profile_id="alice", coupon_codes=["SPRING-1"], cart_items=cart()),
    )
    assert types(opened) == ["acceptCoupon", "setDiscount"]
    discount = shop.integration.api_client.deserialize_model(
        opened.effects[1].props, talon_one.SetDiscountEffectProps
    )
    assert (discount.name, discount.value) == ("Free money", 10)
    assert opened.effects[0].triggered_by_coupon == coupon_id
    assert opened.customer_session.state == "open"
    assert opened.customer_session.total == 60
    assert opened.customer_profile.integration_id == "alice"
    assert opened.event.type == "talon_session_created"
    assert [c.value for c in opened.coupons] == ["SPRING-1"]
    assert [c.name for c in opened.triggered_campaigns] == ["Spring"]

    # The campaigns an answer names are those it was evaluated with: a rename shows at once.
    workspace = await workspace_id(services, shop)
    rename = {"name": "Spring!"}
    await services.campaigns.update(workspace, shop.application_id, campaign_id, rename)
    renamed = api.update_customer_session_v2("s1", session_request(CONTENT, profile_id="alice"))
    assert [c.name for c in renamed.triggered_campaigns] == ["Spring!"]

    # A dry close previews, and changes nothing.
    preview = api.update_customer_session_v2(
        "s1",
        session_request(profile_id="alice", coupon_codes=["SPRING-1"], state="closed"),
        dry=True,
    )
    assert types(preview) == ["acceptCoupon", "setDiscount"]
    assert await coupon_counter(services, coupon_id) == 0

    closed = api.update_customer_session_v2("s1", session_request(CONTENT, state="closed"))
    assert types(closed) == ["acceptCoupon", "setDiscount"]
    assert closed.customer_session.state == "closed"
    assert closed.customer_profile.closed_sessions == 1
    assert await coupon_counter(services, coupon_id) == 1

    # Used up: the next customer is told why.
    second = api.update_customer_session_v2(
        "s2", session_request(profile_id="bob", coupon_codes=["SPRING-1"])
    )
    [rejected] = second.effects
    props = api.api_client.deserialize_model(rejected.props, talon_one.RejectCouponEffectProps)
    assert props.rejection_reason == "CouponLimitReached"

    # A closed session is not modified; cancelling it rolls its coupon back.
    with pytest.raises(ApiException) as refused:
        api.update_customer_session_v2("s1", session_request(cart_items=[]))
    body = talon_error(refused.value, 400)
    assert body["errors"][0]["source"] == {"pointer": "/customerSession/state"}
    cancelled = api.update_customer_session_v2("s1", session_request(CONTENT, state="cancelled"))
    assert sorted(types(cancelled)) == ["rollbackCoupon", "rollbackDiscount"]
    assert cancelled.event.type == "talon_session_revoked"
    assert await coupon_counter(services, coupon_id) == 0

    # A dry run at a future moment: the campaign has ended by then.
    later = datetime.now(UTC) + timedelta(days=30)
    await services.campaigns.update(
        await workspace_id(services, shop),
        shop.application_id,
        campaign_id,
        {"end_time": later - timedelta(days=1)},
    )
    ahead = api.update_customer_session_v2(
        "s3", session_request(coupon_codes=["SPRING-2"]), dry=True, now=later
    )
    assert ahead.effects[0].props["rejectionReason"] == "CouponPartOfNotRunningCampaign"
    with pytest.raises(ApiException) as refused:
        api.update_customer_session_v2("s3", session_request(), now=later)
    talon_error(refused.value, 400)

    # Events: evaluated with the profile's open session (bob's s2), 200 with a body by default.
    tracked = api.track_event_v2(
        talon_one.IntegrationEventV2Request(type="viewed", profile_id="bob")
    )
    assert tracked.effects is not None


async def test_raw_http_idempotency_validation_silent_and_v1(
    shop: TalonShop, services: Services
) -> None:
    await campaign_with_coupons(services, shop, "SPRING-9")
    headers = {**shop.integration_headers(), "Content-Signature": "signer=1; signature=00"}
    async with httpx.AsyncClient(base_url=shop.url, headers=headers) as client:
        bad = await client.put(
            "/v2/customer_sessions/x",
            json={"customerSession": {"cartItems": [{"sku": "a", "quantity": 0}]}},
        )
        error = raw_talon_error(bad, 400)
        assert error["errors"][0]["source"] == {"pointer": "/customerSession/cartItems/0/quantity"}

        keyed = {"Idempotency-Key": "close-1"}
        body = {
            "customerSession": {"profileId": "eve", "couponCodes": ["SPRING-9"], "state": "closed"}
        }
        first = await client.put("/v2/customer_sessions/k1", json=body, headers=keyed)
        again = await client.put("/v2/customer_sessions/k1", json=body, headers=keyed)
        assert first.status_code == again.status_code == 200
        assert first.content == again.content
        assert [e["effectType"] for e in first.json()["effects"]] == ["acceptCoupon", "setDiscount"]
        other = await client.put(
            "/v2/customer_sessions/k1", json={"customerSession": {}}, headers=keyed
        )
        raw_talon_error(other, 400)

        silent = await client.post(
            "/v2/events?silent=yes", json={"type": "viewed", "profileId": "eve"}
        )
        assert silent.status_code == 204
        assert silent.content == b""
        built_in = await client.post(
            "/v2/events", json={"type": "talon_session_created", "profileId": "eve"}
        )
        raw_talon_error(built_in, 400)

        v1 = await client.put(
            "/v1/customer_sessions/v1s",
            json={
                "profileId": "dave",
                "coupon": "SPRING-9",
                "cartItems": [{"sku": "a", "quantity": 1, "price": 5}],
            },
        )
        assert v1.status_code == 200, v1.text
        state = v1.json()
        assert state["event"]["type"] == "talon_session_created"
        assert state["event"]["effects"][0][3] == ["rejectCoupon", "SPRING-9", "CouponLimitReached"]
        assert state["session"]["discounts"] == {}
        assert state["profile"]["integrationId"] == "dave"
        assert state["event"]["ledgerEntries"] == []

        event = await client.post(
            "/v1/events",
            json={"type": "viewed", "attributes": {}, "sessionId": "v1s", "profileId": "dave"},
        )
        assert event.status_code == 200, event.text
        assert event.json()["event"]["type"] == "viewed"
        mismatch = await client.post(
            "/v1/events",
            json={"type": "viewed", "attributes": {}, "sessionId": "v1s", "profileId": "x"},
        )
        raw_talon_error(mismatch, 400)


@pytest.mark.postgres
async def test_a_session_another_process_is_updating_gets_409(postgres_url: str) -> None:
    with running_server(postgres_url) as running:
        shop = open_shop(postgres_url, running)
        engine = create_engine(postgres_url)
        try:
            with engine.connect() as other, other.begin():
                key = f"session:{shop.application_id}:busy"
                other.execute(
                    text("SELECT pg_advisory_xact_lock(:n)"), {"n": promotion_lock_number(key)}
                )
                with pytest.raises(ApiException) as refused:
                    shop.integration.update_customer_session_v2(
                        "busy", session_request(profile_id="z")
                    )
                body = talon_error(refused.value, 409)
                assert (
                    body["message"]
                    == "Too many requests are updating this session at the same time"
                )
            # The other update is over: this one goes through.
            done = shop.integration.update_customer_session_v2(
                "busy", session_request(profile_id="z")
            )
            assert done.effects == []
        finally:
            engine.dispose()
