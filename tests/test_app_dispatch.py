"""How Patron hands a request to a surface: by mount and authentication scheme.

The surface a request reaches answers its errors, so the error format of an
unknown path tells which surface owns it: Voucherify's ``key``, Infinity's
``error`` object, Segment's ``success: false``, or Patron's plain JSON.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from patron.app import PatronApp
from patron.services import Services

pytestmark = pytest.mark.anyio


def owner(response: httpx.Response) -> str:
    """Which surface's error format the response is in."""
    body: dict[str, Any] = response.json()
    if "key" in body:
        return "voucherify"
    if set(body) == {"error"}:
        return "infinity"
    if body.get("success") is False:
        return "segment"
    assert set(body) == {"code", "message", "request_id"}, body
    return "plain"


@pytest.mark.parametrize(
    ("method", "path", "headers", "surface"),
    [
        ("GET", "/v1/track", {}, "segment"),
        ("GET", "/any/prefix/v1/batch/", {"Authorization": "ApiKey-v1 k"}, "segment"),
        ("GET", "/config/v2/igrps/1/nope", {}, "infinity"),
        ("GET", "/config", {"X-App-Id": "a", "X-App-Token": "t"}, "infinity"),
        ("GET", "/v1/nope", {}, "voucherify"),
        ("GET", "/v1", {"Authorization": "Bearer k"}, "voucherify"),
        ("GET", "/v1/customer_profiles/x", {"Authorization": "Basic eDo="}, "voucherify"),
        ("GET", "/v1/customer_profiles/x", {"Authorization": "ApiKey-v1 key"}, "plain"),
        ("PUT", "/v1/customers/x", {"authorization": "apikey-v1 key"}, "plain"),
        ("GET", "/v2/customer_profiles/x", {}, "plain"),
        ("GET", "/v1x/customers", {}, "plain"),
        ("GET", "/configuration", {}, "plain"),
        ("GET", "/nope", {}, "plain"),
        ("POST", "/health", {}, "plain"),
    ],
)
async def test_the_owner_of_a_path_answers_its_errors(
    api: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], surface: str
) -> None:
    response = await api.request(method, path, headers=headers)
    assert response.status_code in (404, 405), response.text
    assert "detail" not in response.json()
    assert owner(response) == surface


async def test_the_talon_one_hook_takes_api_key_v1_requests_under_v1(
    app_services: tuple[object, Services],
) -> None:
    app = app_services[0]
    assert isinstance(app, PatronApp)
    seen: list[str] = []

    async def talon_one(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path"])
        await JSONResponse({"talon": True})(scope, receive, send)

    app.talon_one = talon_one
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://patron") as client:
        talon = {"Authorization": "ApiKey-v1 some-key"}
        assert (await client.get("/v1/customer_profiles/x", headers=talon)).json() == {
            "talon": True
        }
        assert owner(await client.get("/v1/customer_profiles/x")) == "voucherify"
        assert owner(await client.get("/v1/track", headers=talon)) == "segment"
    assert seen == ["/v1/customer_profiles/x"]


async def test_the_docs_list_every_surfaces_routes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert "/v1/customers/{customer_id}" in paths
    assert "/config/v2/igrps/{igrp}/segments" in paths
    assert (await api.get("/docs")).status_code == 200


async def test_health_is_the_root_apps(api: httpx.AsyncClient) -> None:
    response = await api.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
