"""A Talon shop whose workspace's other credentials are known too: the tracking write key
and the Voucherify app id and token (to see one customer through every surface)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import voucherify

from tests.patron_server import Server, patron_cli
from tests.surfaces.talon_one.support import TalonShop, open_shop


@dataclass(frozen=True)
class Surfaces:
    talon: TalonShop
    write_key: str
    app_id: str
    app_token: str
    customers: voucherify.CustomersApi

    @property
    def voucherify_headers(self) -> dict[str, str]:
        return {"X-App-Id": self.app_id, "X-App-Token": self.app_token}

    def identify(self, user_id: str, **traits: Any) -> None:
        response = httpx.post(
            f"{self.talon.url}/v1/identify",
            json={"userId": user_id, "traits": traits},
            auth=(self.write_key, ""),
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def surfaces(database_url: str, server: Server) -> Surfaces:
    created = json.loads(patron_cli(database_url, "workspace", "create", "shop", "--json"))
    credentials = created["credentials"]
    app_id, app_token = credentials["voucherify_app_id"], credentials["voucherify_app_token"]
    configuration = voucherify.Configuration(
        host=server.url, api_key={"X-App-Id": app_id, "X-App-Token": app_token}
    )
    return Surfaces(
        talon=open_shop(database_url, server, currency="EUR", timezone="Europe/Berlin"),
        write_key=credentials["tracking_write_key"],
        app_id=app_id,
        app_token=app_token,
        customers=voucherify.CustomersApi(voucherify.ApiClient(configuration)),
    )
