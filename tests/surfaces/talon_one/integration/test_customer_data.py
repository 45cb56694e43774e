"""``DELETE /v1/customer_data/{id}`` with the official SDK erases what Voucherify's
permanent deletion erases: the customer, its events, and every promotions row naming it."""

from __future__ import annotations

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.surfaces.talon_one.integration.rows import anonymous_counters, rows_naming, seed
from tests.surfaces.talon_one.integration.support import Surfaces, surfaces
from tests.surfaces.talon_one.support import raw_talon_error, server, talon_error

pytestmark = pytest.mark.server
__all__ = ["server", "surfaces"]  # fixtures


def test_talon_and_voucherify_erase_the_same(surfaces: Surfaces, database_url: str) -> None:
    shop = surfaces.talon
    for who, tag in (("eve", "E"), ("fay", "F")):
        shop.integration.update_customer_profile_v2(
            who, talon_one.CustomerProfileIntegrationRequestV2(attributes={"tier": "gold"})
        )
        surfaces.identify(who, email=f"{who}@example.com")
        seed(database_url, "shop", shop.application_id, who, tag)
    before = rows_naming(database_url, "eve")
    assert before == rows_naming(database_url, "fay")
    assert all(before.values())
    fay = surfaces.customers.get_customer("fay")

    assert shop.integration.delete_customer_data("eve") is None  # 204
    report = surfaces.customers.customer_permanently_deletion(fay.id)

    assert rows_naming(database_url, "eve") == rows_naming(database_url, "fay")
    assert set(rows_naming(database_url, "eve").values()) == {0}
    assert (report.data_json.customer, report.data_json.events) == (1, 1)  # the identify
    raw = httpx.post(
        f"{shop.url}/v1/customers/eve/permanent-deletion", headers=surfaces.voucherify_headers
    )
    assert raw.status_code == 404  # Talon's deletion left nothing to erase
    for who in ("eve", "fay"):
        with pytest.raises(ApiException) as gone:
            shop.integration.get_customer_inventory(who, profile=True)
        talon_error(gone.value, 404)
        missing = httpx.get(f"{shop.url}/v1/customers/{who}", headers=surfaces.voucherify_headers)
        assert missing.status_code == 404
    # The anonymous counters stay: coupons' usage and campaigns' overall usage (the
    # referral codes they advocated went with them).
    counters, referral_counters = anonymous_counters(database_url)
    assert counters == [0, 0, 0, 0, 0, 0, 2, 2, 2]
    assert referral_counters == []


def test_deleting_an_unknown_profile_is_404(surfaces: Surfaces) -> None:
    shop = surfaces.talon
    response = httpx.request(
        "DELETE",
        f"{shop.url}/v1/customer_data/nobody",
        headers={**shop.integration_headers(), "Content-Type": "application/json"},
    )
    raw_talon_error(response, 404)
    with pytest.raises(ApiException) as error:
        shop.integration.delete_customer_data("nobody")
    talon_error(error.value, 404)
