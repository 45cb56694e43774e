"""A Talon.One shop for the surface's tests: a ``patron serve`` process, an
application made with ``patron applications create``, and the official SDK
(``talon-one-python-sdk``, unmodified) configured with its two keys.

How the SDK authenticates: ``Configuration(api_key={"Authorization": key},
api_key_prefix={"Authorization": "ApiKey-v1"})`` for the Integration API,
``"ManagementKey-v1"`` for the Management API; it raises
``talon_one.rest.ApiException`` (``.status``, ``.body``) for any non-2xx.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.patron_server import Server, patron_cli, running_server


@dataclass(frozen=True)
class TalonShop:
    """An application's ids and keys, and SDK clients configured with them."""

    database_url: str
    url: str
    workspace: str
    application_id: int
    integration_key: str
    management_key: str
    integration: talon_one.IntegrationApi
    management: talon_one.ManagementApi

    def integration_headers(self) -> dict[str, str]:
        return {"Authorization": f"ApiKey-v1 {self.integration_key}"}

    def management_headers(self) -> dict[str, str]:
        return {"Authorization": f"ManagementKey-v1 {self.management_key}"}

    def cli(self, *args: str) -> Any:
        """Run ``patron ARGS --workspace W --json`` against the shop's database."""
        return json.loads(
            patron_cli(self.database_url, *args, "--workspace", self.workspace, "--json")
        )


def sdk_client(url: str, key: str, prefix: str) -> talon_one.ApiClient:
    configuration = talon_one.Configuration(
        host=url, api_key={"Authorization": key}, api_key_prefix={"Authorization": prefix}
    )
    return talon_one.ApiClient(configuration)


def open_shop(
    database_url: str, server: Server, workspace: str = "shop", name: str = "Shop", **options: str
) -> TalonShop:
    """Create the workspace (if new) and an application in it, with the CLI."""
    existing = json.loads(patron_cli(database_url, "workspace", "list", "--json"))
    if workspace not in {entry["name"] for entry in existing}:
        patron_cli(database_url, "workspace", "create", workspace, "--json")
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    created = json.loads(
        patron_cli(
            database_url, "applications", "create", name, "--workspace", workspace, *flags, "--json"
        )
    )
    integration_key, management_key = created["integrationKey"], created["managementKey"]
    return TalonShop(
        database_url=database_url,
        url=server.url,
        workspace=workspace,
        application_id=created["applicationId"],
        integration_key=integration_key,
        management_key=management_key,
        integration=talon_one.IntegrationApi(sdk_client(server.url, integration_key, "ApiKey-v1")),
        management=talon_one.ManagementApi(
            sdk_client(server.url, management_key, "ManagementKey-v1")
        ),
    )


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    with running_server(database_url) as running:
        yield running


@pytest.fixture
def shop(database_url: str, server: Server) -> TalonShop:
    return open_shop(database_url, server, currency="EUR", timezone="Europe/Berlin")


def talon_error(error: ApiException, status: int) -> dict[str, Any]:
    """The error the SDK raised, in Talon's shape with this status."""
    assert error.status == status, error.body
    return error_body(json.loads(error.body), status)


def raw_talon_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    return error_body(response.json(), status)


def error_body(body: dict[str, Any], status: int) -> dict[str, Any]:
    assert body["StatusCode"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    for item in body["errors"]:
        assert {"title", "source"} <= set(item)
    return body
