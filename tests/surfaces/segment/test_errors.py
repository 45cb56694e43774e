"""The tracking API's error contract: one shape, ``{success: false, code, message}``
(``errors`` too for invalid input), for every status it answers.

The tracking API has no ids to look up and owns only its fixed endpoints
(``…/v1/track``, ``…/v1/batch``…): a path beside them is not its own, so no
404 is in its format. Where such paths go is pinned here too (and in
``tests/test_app_dispatch.py``): under ``/v1`` to Voucherify, whatever the
credentials; elsewhere Patron's plain JSON 404.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patron.services import Services
from tests.conftest import WorkspaceKeys
from tests.surfaces.segment.support import assert_error, assert_ok, events_of, post
from tests.surfaces.serving import crash_then_continue, fail_once

pytestmark = pytest.mark.anyio

SHAPE = {"success", "code", "message"}


def assert_shape(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    body = assert_error(response, status, code)
    assert set(body) == (SHAPE | {"errors"} if code == "invalid_request" else SHAPE)
    assert response.headers["access-control-allow-origin"] == "*"
    return body


async def test_error_shape_for_400_401_and_405(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    invalid = await post(api, workspace.write_key, "/v1/track", {"event": "No one"})
    assert_shape(invalid, 400, "invalid_request")
    too_large = await post(api, workspace.write_key, "/v1/t", {"userId": "u", "x": "y" * 40_000})
    assert_shape(too_large, 400, "too_large")
    refused = await post(api, "not-a-key", "/v1/track", {"userId": "u", "event": "E"})
    assert_shape(refused, 401, "unauthorized")
    for method in ("GET", "PUT", "DELETE"):
        response = await api.request(method, "/any/prefix/v1/b", auth=(workspace.write_key, ""))
        assert_shape(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "POST, OPTIONS"


async def test_paths_beside_the_fixed_endpoints_are_not_the_tracking_apis(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    body = {"userId": "u", "event": "E"}
    beside = await post(api, workspace.write_key, "/v1/trak", body)
    assert beside.status_code == 404
    assert beside.json()["key"] == "not_found"  # Voucherify's, as every unknown /v1 path
    prefixed = await post(api, workspace.write_key, "/prefix/v1/trak", body)
    assert prefixed.status_code == 404
    assert set(prefixed.json()) == {"code", "message", "request_id"}  # Patron's plain JSON


async def test_an_unexpected_error_is_a_500_with_a_request_id(
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, services = app_services
    monkeypatch.setattr(services.tracking, "ingest", fail_once(services.tracking.ingest))
    call = {"userId": "u1", "event": "Paid"}
    crash = await crash_then_continue(
        app,
        caplog,
        lambda client: post(client, workspace.write_key, "/v1/track", call),
        lambda client: post(client, workspace.write_key, "/v1/track", call),
    )
    body = assert_shape(crash.failed, 500, "internal_error")
    assert crash.request_id in body["message"]
    assert_ok(crash.after)
    assert len(await events_of(services, workspace.id, "u1")) == 1
