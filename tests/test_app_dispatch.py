"""How Patron hands a request to a surface: by mount and authentication scheme.

The surface a request reaches answers its errors, so the error format of an
unknown path tells which surface owns it: Voucherify's ``key``, Infinity's
``error`` object, Segment's ``success: false``, Talon.One's ``StatusCode``,
or Patron's plain JSON.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.types import Scope

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
    if "StatusCode" in body:
        return "talon"
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
        ("GET", "/v1", {"Authorization": "Bearer k"}, "talon"),
        ("GET", "/v1/customer_profiles/x", {"Authorization": "Basic eDo="}, "voucherify"),
        ("GET", "/v1/customer_profiles/x", {"Authorization": "ApiKey-v1 key"}, "talon"),
        ("PUT", "/v1/customers/x", {"authorization": "apikey-v1 key"}, "talon"),
        ("GET", "/v1/campaigns", {"Authorization": "ManagementKey-v1 key"}, "talon"),
        ("GET", "/v1/sessions", {}, "talon"),
        ("GET", "/v2/customer_profiles/x", {}, "talon"),
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


@pytest.mark.parametrize(
    ("headers", "surface"),
    [
        ({"Authorization": "ApiKey-v1 some-key"}, "talon_integration"),
        ({"Authorization": "ManagementKey-v1 some-key"}, "talon_management"),
        ({"Authorization": "bearer some-token"}, "talon_management"),
        ({}, "voucherify"),
    ],
)
async def test_talon_one_requests_are_told_apart_by_their_scheme(
    app_services: tuple[object, Services], headers: dict[str, str], surface: str
) -> None:
    app = app_services[0]
    assert isinstance(app, PatronApp)
    scope: Scope = {"type": "http", "path": "/v1/customer_profiles/x", "headers": []}
    scope["headers"] = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    assert app.surface_for(scope) is getattr(app, surface)
    track: Scope = {**scope, "path": "/v1/track"}
    assert app.surface_for(track) is app.segment


async def test_the_docs_list_every_surfaces_routes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert "/v1/customers/{customer_id}" in paths
    assert "/config/v2/igrps/{igrp}/segments" in paths
    assert (await api.get("/docs")).status_code == 200


async def test_health_is_the_root_apps(api: httpx.AsyncClient) -> None:
    response = await api.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
