"""Applications: made with ``patron applications create``, read with the official SDK."""

from __future__ import annotations

import httpx
import pytest
from talon_one.rest import ApiException

from tests.patron_server import Server
from tests.surfaces.talon_one.support import (
    TalonShop,
    open_shop,
    raw_talon_error,
    server,
    shop,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures


def test_the_sdk_reads_the_application_the_cli_made(shop: TalonShop) -> None:
    application = shop.management.get_application(shop.application_id)
    assert application.id == shop.application_id
    assert (application.name, application.currency) == ("Shop", "EUR")
    assert application.timezone == "Europe/Berlin"
    assert application.case_sensitivity == "sensitive"
    assert application.loyalty_programs == []
    listed = shop.management.get_applications()
    assert [found.id for found in listed.data] == [shop.application_id]


def test_a_management_key_reaches_only_its_workspace(
    database_url: str, server: Server, shop: TalonShop
) -> None:
    other = open_shop(database_url, server, workspace="other", name="Elsewhere")
    assert [a.name for a in other.management.get_applications().data] == ["Elsewhere"]
    with pytest.raises(ApiException) as missing:
        other.management.get_application(shop.application_id)
    talon_error(missing.value, 404)


@pytest.mark.parametrize(
    "authorization",
    ["ManagementKey-v1 wrong-key", "ManagementKey-v1", "Bearer not-a-token", "ApiKey-v1 nope"],
)
def test_wrong_credentials_are_refused_in_talons_format(
    shop: TalonShop, authorization: str
) -> None:
    response = httpx.get(f"{shop.url}/v1/applications", headers={"Authorization": authorization})
    assert response.status_code in (401, 404)
    raw_talon_error(response, response.status_code)


def test_an_integration_key_is_no_management_key(shop: TalonShop) -> None:
    response = httpx.get(
        f"{shop.url}/v1/applications",
        headers={"Authorization": f"ManagementKey-v1 {shop.integration_key}"},
    )
    raw_talon_error(response, 401)


@pytest.mark.parametrize("ref", ["0", "abc", "99999999999", "1%00"])
def test_unknown_applications_are_404(shop: TalonShop, ref: str) -> None:
    response = httpx.get(f"{shop.url}/v1/applications/{ref}", headers=shop.management_headers())
    assert response.status_code in (400, 404)
    raw_talon_error(response, response.status_code)
