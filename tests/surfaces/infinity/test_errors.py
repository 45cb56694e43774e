"""The Config API's error contract: one shape, ``{"error": {code, type, message}}``, for
every status — refused input, credentials, unknown ids and routes, methods, and
an unexpected error over a real connection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patron.services import Services
from tests.surfaces.infinity.test_segments_api import Installation, install
from tests.surfaces.serving import crash_then_continue, fail

pytestmark = pytest.mark.anyio

SHAPE = {"code", "type", "message"}


@pytest.fixture
async def inst(app_services: tuple[object, Services]) -> Installation:
    return await install(app_services[1])


def assert_error(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    """An error in the Config API's shape with this status and type; returns ``error``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert (error["code"], error["type"]) == (status, type_)
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


async def test_error_shape_for_400_401_404_and_405(
    api: httpx.AsyncClient, inst: Installation
) -> None:
    invalid = await api.post(inst.url("/segments"), json={"colour": "red"}, headers=inst.headers)
    error = assert_error(invalid, 400, "invalid_request")
    assert set(error) == SHAPE | {"errors"}
    assert {"field": "colour", "message": "unknown property"} in error["errors"]

    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        refused = await api.get(inst.url("/segments"), headers=headers)
        assert set(assert_error(refused, 401, "unauthorized")) == SHAPE
        assert refused.headers["www-authenticate"].startswith("Bearer")

    unknown_id = await api.get(inst.url("/segments/999"), headers=inst.headers)
    assert set(assert_error(unknown_id, 404, "not_found")) == SHAPE
    unknown_group = await api.get(inst.url("/segmentGroups/9"), headers=inst.headers)
    assert set(assert_error(unknown_group, 404, "not_found")) == SHAPE

    # Every unknown path under /config is the Config API's, whoever asks.
    for path, headers in (
        (inst.url("/audiences"), inst.headers),
        (inst.url("/segments/1/criteria"), inst.headers),
        ("/config/v3/igrps/1/segments", inst.headers),
        ("/config", {}),
        ("/config/nope", {"X-App-Id": "a", "X-App-Token": "b"}),
    ):
        response = await api.get(path, headers=headers)
        assert set(assert_error(response, 404, "not_found")) == SHAPE, path

    for method, path in (("DELETE", "/segments"), ("PATCH", "/segments/1")):
        response = await api.request(method, inst.url(path), headers=inst.headers)
        assert set(assert_error(response, 405, "method_not_allowed")) == SHAPE
        assert response.headers["allow"]


async def test_an_unexpected_error_is_a_500_with_a_request_id(
    app_services: tuple[object, Services],
    inst: Installation,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, services = app_services
    monkeypatch.setattr(services.segments, "list", fail)
    crash = await crash_then_continue(
        app,
        caplog,
        lambda client: client.get(inst.url("/segments"), headers=inst.headers),
        lambda client: client.get(inst.url("/segments/1"), headers=inst.headers),
    )
    error = assert_error(crash.failed, 500, "internal_error")
    assert set(error) == SHAPE
    assert crash.request_id in error["message"]
    assert crash.after.json()["segmentName"] == "Default"
