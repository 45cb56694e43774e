"""``GET /v1/customer_profiles/{id}/inventory`` with the official SDK, and the same holdings
through Voucherify's ``GET /v1/customers/{id}/redeemables``."""

from __future__ import annotations

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.surfaces.talon_one.integration.rows import seed
from tests.surfaces.talon_one.integration.support import Surfaces, surfaces
from tests.surfaces.talon_one.support import raw_talon_error, server, talon_error

pytestmark = pytest.mark.server
__all__ = ["server", "surfaces"]  # fixtures


def test_the_inventory_shows_what_the_profile_holds(surfaces: Surfaces, database_url: str) -> None:
    shop = surfaces.talon
    shop.integration.update_customer_profile_v2(
        "ada", talon_one.CustomerProfileIntegrationRequestV2(attributes={"tier": "gold"})
    )
    seeded = seed(database_url, "shop", shop.application_id, "ada", "A")
    inventory = shop.integration.get_customer_inventory(
        "ada",
        profile=True,
        referrals=True,
        coupons=True,
        loyalty=True,
        giveaways=True,
        achievements=True,
    )
    assert inventory.profile.integration_id == "ada"
    assert (inventory.profile.closed_sessions, inventory.profile.total_sales) == (2, 29.75)
    assert [m.loyalty_program_id for m in inventory.profile.loyalty_memberships] == [
        seeded.program_id
    ]
    coupons = {c.value: c for c in inventory.coupons}
    assert set(coupons) == {"RESERVED-A", "GIFT-A"}  # not LATER-A or NOBODYS-A: not theirs
    reserved = coupons["RESERVED-A"]
    assert (reserved.state, reserved.profile_redemption_count, reserved.usage_counter) == (
        "used",
        1,
        2,
    )
    assert (coupons["GIFT-A"].state, coupons["GIFT-A"].recipient_integration_id) == (
        "expired",
        "ada",
    )
    (referral,) = inventory.referrals
    assert (referral.code, referral.referred_customers) == ("REF-A", ["friend-of-ada"])
    ledger = inventory.loyalty.programs[str(seeded.program_id)].ledger
    assert (ledger.current_balance, ledger.pending_balance) == (70, 20)
    assert (ledger.expired_balance, ledger.spent_balance) == (5, 30)
    assert (inventory.giveaways, inventory.achievements) == ([], [])

    # Flags as six-era SDKs send them; absent flags leave their parts out.
    raw = httpx.get(
        f"{shop.url}/v1/customer_profiles/ada/inventory?coupons=True",
        headers=shop.integration_headers(),
    )
    assert raw.status_code == 200
    assert set(raw.json()) == {"coupons"}
    bare = httpx.get(
        f"{shop.url}/v1/customer_profiles/ada/inventory", headers=shop.integration_headers()
    )
    assert bare.json() == {}
    with pytest.raises(ApiException) as unknown:
        shop.integration.get_customer_inventory("nobody", profile=True)
    talon_error(unknown.value, 404)
    wrong = httpx.get(
        f"{shop.url}/v1/customer_profiles/ada/inventory?coupons=maybe",
        headers=shop.integration_headers(),
    )
    assert raw_talon_error(wrong, 400)["errors"][0]["source"] == {"parameter": "coupons"}

    # Voucherify lists the same holdings as the customer's redeemables.
    redeemables = surfaces.customers.list_customer_redeemables("ada", limit=10)
    assert redeemables.total == 4
    held = {
        (r.holder_role, r.campaign_type, r.redeemable.voucher.code, r.redeemable.status)
        for r in redeemables.data
    }
    assert held == {
        ("OWNER", "DISCOUNT_COUPONS", "RESERVED-A", "USED"),
        ("OWNER", "DISCOUNT_COUPONS", "GIFT-A", "EXPIRED"),
        ("REFERRER", "REFERRAL_PROGRAM", "REF-A", "ACTIVE"),
        ("OWNER", "LOYALTY_PROGRAM", "club-A", "ACTIVE"),
    }
    card = next(r for r in redeemables.data if r.voucher_type == "LOYALTY_CARD")
    assert card.redeemable.voucher.loyalty_card.balance == 70
    first = surfaces.customers.list_customer_redeemables("ada", limit=3)
    assert (len(first.data), first.has_more) == (3, True)
    rest = httpx.get(
        f"{shop.url}/v1/customers/ada/redeemables",
        params={"limit": 3, "starting_after_id": first.more_starting_after},
        headers=surfaces.voucherify_headers,
    ).json()
    assert len(rest["data"]) == 1
    assert rest["has_more"] is False
