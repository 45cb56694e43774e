"""Coupon reservations through the official SDK's Integration API."""

from __future__ import annotations

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.store.promotions.support import make_campaign
from tests.surfaces.talon_one.support import (
    TalonShop,
    raw_talon_error,
    server,
    shop,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures

CODE = "Spring 2025/vip"  # a space and a slash: the SDK sends Spring%202025%2Fvip


def test_reserve_list_holders_and_release_a_code_with_a_slash(shop: TalonShop) -> None:
    campaign_id = make_campaign(shop.database_url, shop.application_id)
    shop.management.create_coupons(
        shop.application_id, campaign_id,
        talon_one.NewCoupons(usage_limit=0, number_of_coupons=1, coupon_pattern=CODE,
                             is_reservation_mandatory=True),
    )  # fmt: skip
    api = shop.integration
    reserved = api.create_coupon_reservation(
        CODE, talon_one.CouponReservations(["ann", "bob", "ann"])
    )
    assert reserved.value == CODE
    assert reserved.is_reservation_mandatory is True
    assert reserved.reservation_counter == 2
    again = api.create_coupon_reservation(CODE, talon_one.CouponReservations(["bob"]))
    assert again.reservation_counter == 2  # holding one already: kept

    holders = api.get_reserved_customers(CODE)
    assert holders.total_result_size == 2
    assert [p.integration_id for p in holders.data] == ["ann", "bob"]
    assert all(p.attributes == {} and p.closed_sessions == 0 for p in holders.data)
    assert len({p.id for p in holders.data}) == 2

    api.delete_coupon_reservation(CODE, talon_one.CouponReservations(["bob", "nobody"]))
    assert [p.integration_id for p in api.get_reserved_customers(CODE).data] == ["ann"]


def test_unknown_codes_and_bad_bodies(shop: TalonShop) -> None:
    api = shop.integration
    for call in (
        lambda: api.create_coupon_reservation("NOPE-1", talon_one.CouponReservations(["ann"])),
        lambda: api.get_reserved_customers("NOPE-1"),
        lambda: api.delete_coupon_reservation("NOPE-1", talon_one.CouponReservations(["ann"])),
    ):
        with pytest.raises(ApiException) as missing:
            call()
        talon_error(missing.value, 404)
    campaign_id = make_campaign(shop.database_url, shop.application_id)
    shop.management.create_coupons(
        shop.application_id, campaign_id,
        talon_one.NewCoupons(usage_limit=1, number_of_coupons=1, coupon_pattern="PLAIN-1"),
    )  # fmt: skip
    url = f"{shop.url}/v1/coupon_reservations/PLAIN-1"
    headers = shop.integration_headers()
    for body in ({}, {"integrationIDs": []}, {"integrationIDs": "ann"}, {"integrationIDs": [7]}):
        raw_talon_error(httpx.post(url, json=body, headers=headers), 400)
    wrong = {"Authorization": "ApiKey-v1 wrong"}
    raw_talon_error(httpx.post(url, json={"integrationIDs": ["a"]}, headers=wrong), 401)
    soft = api.create_coupon_reservation("PLAIN-1", talon_one.CouponReservations(["ann"]))
    assert soft.is_reservation_mandatory is False
    assert soft.reservation_counter == 1
