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


async def test_integers_are_plain_digits_that_fit_32_bits(
    api: httpx.AsyncClient, inst: Installation
) -> None:
    """Every integer, in a path, a query or a body, is read one strict way. Control
    characters passed a ``strip()`` and failed ``int()`` (a 500); numbers beyond 32 bits
    failed in PostgreSQL's columns (a 500) or SQLite's driver (beyond 64 bits)."""
    for path in (
        "/segments/6%1D",
        "/segmentGroups/1%1C",
        "/segments/%00",
        "/segments/%D9%A6",  # an Arabic-Indic 6, which int() takes
        "/segments/%206",
        "/segments/+6",
        "/segments/6_0",
        "/segments/2147483648",
        "/segments/99999999999999999999999",
    ):
        response = await api.get(inst.url(path), headers=inst.headers)
        error = assert_error(response, 400, "invalid_request")
        assert error["errors"][0]["field"] in ("segment", "segmentGroupId"), path
    response = await api.get(f"/config/v2/igrps/{inst.igrp}%1F/segments", headers=inst.headers)
    assert assert_error(response, 400, "invalid_request")["errors"][0]["field"] == "igrp"
    for query in ("limit=1%1F", "offset=2147483648", "offset=-1", "limit=%EF%BC%91"):
        response = await api.get(inst.url(f"/segments?{query}"), headers=inst.headers)
        assert_error(response, 400, "invalid_request")

    base = {"segmentName": "s", "criteria": []}
    for extra, field in (
        ({"segmentOrder": "6\u001d"}, "segmentOrder"),
        ({"orgId": 2**31}, "orgId"),
        ({"orgId": 2**64 - 1}, "orgId"),
        ({"orgId": -1}, "orgId"),
        ({"segmentGroupId": 2**40}, "segmentGroupId"),
        ({"segment": "\u0666"}, "segment"),
    ):
        response = await api.post(inst.url("/segments"), json=base | extra, headers=inst.headers)
        error = assert_error(response, 400, "invalid_request")
        assert [problem["field"] for problem in error["errors"]] == [field]
    response = await api.put(
        inst.url("/segments/order"), json={"sortedSegments": ["6\u001f"]}, headers=inst.headers
    )
    assert assert_error(response, 400, "invalid_request")["errors"][0]["field"] == (
        "sortedSegments[0]"
    )
    listed = await api.get(inst.url("/segments"), headers=inst.headers)
    assert [segment["segment"] for segment in listed.json()] == ["0", "1"]

    largest = {"segmentOrder": "65535", "orgId": 2**31 - 1}
    created = await api.post(inst.url("/segments"), json=base | largest, headers=inst.headers)
    assert created.status_code == 201, created.text
    assert created.json()["orgId"] == str(2**31 - 1)


async def test_a_nul_character_anywhere_in_a_body_is_refused(
    api: httpx.AsyncClient, inst: Installation
) -> None:
    """PostgreSQL's text and jsonb cannot hold NUL: refused (400) on both databases."""
    criteria = [{"field": "event", "op": "equals", "value": "e"}]
    for url, body in (
        ("/segments", {"segmentName": "a\u0000", "criteria": criteria}),
        ("/segments", {"segmentName": "s", "criteria": [{**criteria[0], "value": "\u0000"}]}),
        ("/segments", {"segmentName": "s", "segmentRef": "\u0000", "criteria": criteria}),
        ("/segmentGroups", {"segmentGroupName": "g\u0000"}),
    ):
        response = await api.post(inst.url(url), json=body, headers=inst.headers)
        assert "NUL" in assert_error(response, 400, "invalid_request")["message"]
    groups = await api.get(inst.url("/segmentGroups"), headers=inst.headers)
    assert groups.json() == []


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
