"""The customers API refuses what it cannot take, in Voucherify's error format, changing nothing.

In-process (no sockets): credentials, bodies, query parameters and sizes,
unknown routes and methods; an unexpected error over a real connection. The
official SDK's own run is ``test_official_sdk.py``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patron.services import Services
from tests.conftest import WorkspaceKeys, make_workspace
from tests.surfaces.serving import crash_then_continue, fail

pytestmark = pytest.mark.anyio

TEN_MB = 10 * 1024 * 1024


def assert_error(response: httpx.Response, status: int, key: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == status
    assert body["key"] == key
    assert body["message"]
    assert body["details"]
    assert body["request_id"].startswith("v-")
    return body


async def customer_count(api: httpx.AsyncClient, workspace: WorkspaceKeys) -> int:
    response = await api.get("/v1/customers", headers=workspace.app_headers)
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def test_credentials_must_be_a_pair_of_the_same_workspace(
    api: httpx.AsyncClient, workspace: WorkspaceKeys, app_services: tuple[object, Services]
) -> None:
    other = await make_workspace(app_services[1])
    mixed = {
        "X-App-Id": workspace.app_headers["X-App-Id"],
        "X-App-Token": other.app_headers["X-App-Token"],
    }
    swapped = {
        "X-App-Id": workspace.app_headers["X-App-Token"],
        "X-App-Token": workspace.app_headers["X-App-Id"],
    }
    tracking = {"X-App-Id": workspace.write_key, "X-App-Token": workspace.write_key}
    for headers in ({}, {"X-App-Id": workspace.app_headers["X-App-Id"]}, mixed, swapped, tracking):
        response = await api.get("/v1/customers", headers=headers)
        assert_error(response, 401, "unauthorized")
    assert (await api.get("/v1/customers", headers=other.app_headers)).status_code == 200


async def test_bad_customer_bodies_are_refused_whole(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    headers = workspace.app_headers
    created = await api.post(
        "/v1/customers", json={"source_id": "ada", "name": "Ada"}, headers=headers
    )
    assert created.status_code == 200, created.text
    bad_bodies: list[Any] = [
        {"source_id": "ada", "email": 5},
        {"source_id": "ada", "name": "Changed", "colour": "red"},
        {"source_id": "ada", "birthdate": "1990-02-30"},
        {"source_id": "ada", "address": {"city": 7}},
        {"source_id": "ada", "metadata": ["not", "an", "object"]},
        {"source_id": "x" * 1001},
        [1, 2],
    ]
    for body in bad_bodies:
        response = await api.post("/v1/customers", json=body, headers=headers)
        problems = assert_error(response, 400, "invalid_payload")["errors"]
        assert problems
        assert all(problem["message"] for problem in problems)
    for raw in (b"{not json", b'"text"', b'{"name": "a\\u0000b"}'):
        response = await api.post("/v1/customers", content=raw, headers=headers)
        assert_error(response, 400, "invalid_payload")
    response = await api.put("/v1/customers/ada", json={"source_id": "other"}, headers=headers)
    assert_error(response, 400, "invalid_payload")

    current = (await api.get("/v1/customers/ada", headers=headers)).json()
    assert (current["name"], current["email"], current["birthdate"]) == ("Ada", None, None)
    assert await customer_count(api, workspace) == 1


async def test_bad_query_parameters(api: httpx.AsyncClient, workspace: WorkspaceKeys) -> None:
    headers = workspace.app_headers
    await api.post("/v1/customers", json={"source_id": "q"}, headers=headers)
    for query in (
        "limit=0",
        "limit=101",
        "limit=ten",
        "page=0",
        "order=name",
        "created_at[before]=yesterday",
    ):
        response = await api.get(f"/v1/customers?{query}", headers=headers)
        assert_error(response, 400, "invalid_query_params")
    for query in ("limit=500", "order=oldest", "type=signed_up", "starting_after_id=act_x"):
        response = await api.get(f"/v1/customers/q/activity?{query}", headers=headers)
        assert_error(response, 400, "invalid_query_params")
    response = await api.get("/v1/async-actions?limit=0", headers=headers)
    assert_error(response, 400, "invalid_query_params")
    # The SDK writes times as %Y-%m-%dT%H:%M:%S.%f%z, which has no colon in the offset.
    response = await api.get(
        "/v1/customers",
        params={"created_at[after]": "2020-01-01T00:00:00.000000+0000"},
        headers=headers,
    )
    assert response.json()["total"] == 1


async def test_numbers_in_queries_are_plain_digits_within_the_apis_limits(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    """``page`` is 1 to 99 and ``limit`` 1 to 100, as Voucherify's; a number too large for
    the database was a 500 (SQLite) or a false 503 (PostgreSQL) before it was bounded."""
    headers = workspace.app_headers
    await api.post("/v1/customers", json={"source_id": "q"}, headers=headers)
    refused = [
        *("page=9223372036854775807", "page=9223372036854775808", "page=100", "page=-1"),
        *("page=1e3", "page= 2", "page=2%0A", "page=2%1D", "page=%D9%A2", "limit=1_0"),
        *("limit=%EF%BC%91", "limit=+5", "limit=99999999999999999999999"),
    ]
    for query in refused:
        response = await api.get(f"/v1/customers?{query}", headers=headers)
        body = assert_error(response, 400, "invalid_query_params")
        assert body["errors"][0]["field"] in ("page", "limit"), query
    for path in ("/v1/customers/q/activity", "/v1/async-actions", "/v1/customers/q/redeemables"):
        response = await api.get(f"{path}?limit=9223372036854775807", headers=headers)
        assert_error(response, 400, "invalid_query_params")
    last = await api.get("/v1/customers?page=99&limit=100", headers=headers)
    assert last.status_code == 200, last.text
    assert last.json()["customers"] == []


async def test_dates_in_queries_are_refused_when_utc_cannot_hold_them(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    """Year 9999 at -23:59 is past the year 9999 in UTC: a 500 (OverflowError) once."""
    headers = workspace.app_headers
    await api.post("/v1/customers", json={"source_id": "q"}, headers=headers)
    late, early = "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"
    for path, name in (
        ("/v1/customers", "created_at[before]"),
        ("/v1/customers", "updated_at[after]"),
        ("/v1/customers", "starting_after"),
        ("/v1/async-actions", "end_date"),
        ("/v1/customers/q/activity", "start_date"),
        ("/v1/customers/q/activities", "starting_after"),
    ):
        for moment in (late, early):
            response = await api.get(path, params={name: moment}, headers=headers)
            body = assert_error(response, 400, "invalid_query_params")
            assert body["errors"][0]["field"] == name
    found = await api.get(
        "/v1/customers", params={"created_at[before]": "9999-12-31"}, headers=headers
    )
    assert found.json()["total"] == 1


async def test_numbers_and_nesting_a_store_cannot_hold_are_refused(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    """A count beyond 64 bits reached SQLite's driver (a 500); metadata nested past what
    stored JSON holds failed as it was stored (a 500, for a customer and a bulk job)."""
    headers = workspace.app_headers
    for count in (2**31, 2**64 - 1):
        behaviour = {"events.Bought": {"conditions": {"$more_than": [count]}}}
        response = await api.post(
            "/v1/segments",
            json={"name": "many", "type": "auto-update", "filter": behaviour},
            headers=headers,
        )
        assert_error(response, 400, "invalid_payload")
    deep: Any = "x"
    for _ in range(600):
        deep = [deep]
    for path, payload in (
        ("/v1/customers", {"source_id": "d", "metadata": {"a": deep}}),
        ("/v1/customers/bulk/async", [{"source_id": "d", "metadata": {"a": deep}}]),
        ("/v1/customers/metadata/async", {"source_ids": ["d"], "metadata": {"a": deep}}),
    ):
        response = await api.post(path, json=payload, headers=headers)
        body = assert_error(response, 400, "invalid_payload")
        assert "levels deep" in body["details"]
    fine = {"a": {"b": {"c": [1, [2, {"d": 3}]]}}}
    created = await api.post(
        "/v1/customers", json={"source_id": "d", "metadata": fine}, headers=headers
    )
    assert created.json()["metadata"] == fine
    assert (await api.get("/v1/segments", headers=headers)).json()["total"] == 0
    assert (await api.get("/v1/async-actions", headers=headers)).json()["async_actions"] == []


async def test_nul_in_a_url_names_nothing_on_either_database(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    """PostgreSQL cannot hold NUL: an id holding one is a 404, a query parameter a 400,
    both before any query (they were 503s and 500s on PostgreSQL, 404s on SQLite)."""
    headers = workspace.app_headers
    await api.post("/v1/customers", json={"source_id": "ada"}, headers=headers)
    for method, path, kind in (
        ("GET", "/v1/customers/%00", "customer"),
        ("PUT", "/v1/customers/ada%00", "customer"),
        ("DELETE", "/v1/customers/%00", "customer"),
        ("POST", "/v1/customers/%00/permanent-deletion", "customer"),
        ("GET", "/v1/customers/a%00b/activity", "customer"),
        ("GET", "/v1/customers/%00/activities", "customer"),
        ("GET", "/v1/customers/%00/redeemables", "customer"),
        ("GET", "/v1/customers/%00/segments", "customer"),
        ("GET", "/v1/segments/%00", "segment"),
        ("DELETE", "/v1/segments/%00", "segment"),
        ("GET", "/v1/async-actions/%00", "async_action"),
    ):
        response = await api.request(method, path, json={"name": "x"}, headers=headers)
        body = assert_error(response, 404, "not_found")
        assert body["resource_type"] == kind, (method, path)
    for query in ("email=%00", "name=a%00", "segment_id=%00", "starting_after=%00", "%00=1"):
        response = await api.get(f"/v1/customers?{query}", headers=headers)
        assert_error(response, 400, "invalid_query_params")
    response = await api.get("/v1/customers/ada/activity?starting_after_id=%00", headers=headers)
    assert_error(response, 400, "invalid_query_params")
    # In a body, anywhere: refused whole, as the body is read.
    for method, path, body in (
        ("PUT", "/v1/customers/ada", {"metadata": {"note": "a\u0000"}}),
        ("POST", "/v1/customers", {"source_id": "b", "address": {"city": "\u0000"}}),
        ("POST", "/v1/segments", {"name": "a\u0000", "type": "static", "customers": ["ada"]}),
    ):
        response = await api.request(method, path, json=body, headers=headers)
        assert "NUL" in assert_error(response, 400, "invalid_payload")["details"]
    # Credentials come first: a stranger learns nothing from a NUL.
    assert_error(await api.get("/v1/customers/%00"), 401, "unauthorized")
    assert await customer_count(api, workspace) == 1


async def test_unknown_customers_and_jobs_are_404_with_the_resource(
    api: httpx.AsyncClient, workspace: WorkspaceKeys, app_services: tuple[object, Services]
) -> None:
    headers = workspace.app_headers
    for method, path in (
        ("GET", "/v1/customers/nobody"),
        ("PUT", "/v1/customers/nobody"),
        ("DELETE", "/v1/customers/nobody"),
        ("POST", "/v1/customers/nobody/permanent-deletion"),
        ("GET", "/v1/customers/nobody/activity"),
        ("GET", "/v1/customers/nobody/redeemables"),
    ):
        response = await api.request(method, path, json={}, headers=headers)
        body = assert_error(response, 404, "not_found")
        assert (body["resource_type"], body["resource_id"]) == ("customer", "nobody")
    body = assert_error(
        await api.get("/v1/async-actions/aa_nope", headers=headers), 404, "not_found"
    )
    assert body["resource_type"] == "async_action"

    # Another workspace's job is as unknown as a job that does not exist.
    other = await make_workspace(app_services[1])
    accepted = await api.post(
        "/v1/customers/metadata/async",
        json={"source_ids": ["s"], "metadata": {"a": 1}},
        headers=other.app_headers,
    )
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()["async_action_id"]
    assert_error(await api.get(f"/v1/async-actions/{job}", headers=headers), 404, "not_found")


async def test_bulk_requests_over_10_mb_are_413_and_store_nothing(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    headers = workspace.app_headers
    big_csv = b"Source_id,Note\n" + b"s,%s\n" % (b"x" * (TEN_MB + 100_000))
    response = await api.post(
        "/v1/customers/importCSV", files={"file": ("c.csv", big_csv, "text/csv")}, headers=headers
    )
    assert_error(response, 413, "request_too_large")
    just_over = b"Source_id,Note\n" + b"s,%s\n" % (b"x" * (TEN_MB - 17))  # 10 MB + 1 byte
    response = await api.post(
        "/v1/customers/importCSV", files={"file": ("c.csv", just_over, "text/csv")}, headers=headers
    )
    assert_error(response, 413, "request_too_large")
    body = [{"source_id": f"s{i}", "description": "x" * 1000} for i in range(11_000)]
    response = await api.post("/v1/customers/bulk/async", json=body, headers=headers)
    assert_error(response, 413, "request_too_large")
    listed = await api.get("/v1/async-actions", headers=headers)
    assert listed.json()["async_actions"] == []


async def test_bad_bulk_requests_are_400_and_store_no_job(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    headers = workspace.app_headers
    for path, payload in (
        ("/v1/customers/bulk/async", [{"source_id": "a"}, {"name": "no source id"}]),
        ("/v1/customers/bulk/async", {"source_id": "a"}),
        ("/v1/customers/metadata/async", {"source_ids": [], "metadata": {"a": 1}}),
        ("/v1/customers/metadata/async", {"source_ids": ["a"]}),
    ):
        response = await api.post(path, json=payload, headers=headers)
        assert_error(response, 400, "invalid_payload")
    # A list body is read as strictly as an object: NUL was stored as a job (and failed
    # on PostgreSQL) when only objects were checked for it.
    for raw in (
        b'[{"source_id": "a\\u0000"}]',
        b'[{"source_id": "a", "metadata": {"\\u0000": 1}}]',
    ):
        response = await api.post("/v1/customers/bulk/async", content=raw, headers=headers)
        assert_error(response, 400, "invalid_payload")
    response = await api.post("/v1/customers/importCSV", content=b"a,b\n1,2\n", headers=headers)
    assert_error(response, 400, "invalid_payload")
    response = await api.post(
        "/v1/customers/importCSV", files={"other": ("c.csv", b"Name\nx\n")}, headers=headers
    )
    assert_error(response, 400, "invalid_payload")
    response = await api.post(
        "/v1/customers/importCSV", files={"file": ("c.csv", b"\xff\xfe")}, headers=headers
    )
    assert_error(response, 400, "invalid_payload")
    listed = await api.get("/v1/async-actions", headers=headers)
    assert listed.json()["async_actions"] == []


async def test_segments_refuse_bad_filters_and_take_behaviour(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    headers = workspace.app_headers
    for body in (
        {"name": "x", "type": "auto-update"},
        {"name": "x", "type": "auto-update", "filter": {"events.Bought": {"conditions": {}}}},
        {"name": "x", "type": "passive", "filter": {"email": {"conditions": {"$soundex": ["a"]}}}},
        {"name": "x", "type": "static", "customers": ["nobody"], "colour": "red"},
        {"name": "", "type": "static", "customers": []},
    ):
        response = await api.post("/v1/segments", json=body, headers=headers)
        assert_error(response, 400, "invalid_payload")
    response = await api.post(
        "/v1/segments",
        json={"name": "x", "type": "static", "customers": ["nobody"]},
        headers=headers,
    )
    assert_error(response, 404, "not_found")
    assert (await api.get("/v1/segments", headers=headers)).json()["total"] == 0

    behaviour = {"events.Bought": {"conditions": {"$more_than_equal": [2]}, "days": 7}}
    created = await api.post(
        "/v1/segments",
        json={"name": "Repeat buyers", "type": "auto-update", "filter": behaviour},
        headers=headers,
    )
    assert created.status_code == 200, created.text
    assert created.json()["filter"] == behaviour


# -- the error contract: one shape for every status --------------------------------------

SHAPE = {"code", "key", "message", "details", "request_id"}


async def test_error_shape_for_400_401_404_and_405(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    headers = workspace.app_headers
    invalid = await api.post("/v1/customers", json={"email": 5}, headers=headers)
    assert set(assert_error(invalid, 400, "invalid_payload")) == SHAPE | {"errors"}
    refused = await api.get("/v1/customers")
    assert set(assert_error(refused, 401, "unauthorized")) == SHAPE

    unknown_id = assert_error(
        await api.get("/v1/segments/seg_x", headers=headers), 404, "not_found"
    )
    assert set(unknown_id) == SHAPE | {"resource_type", "resource_id"}
    assert (unknown_id["resource_type"], unknown_id["resource_id"]) == ("segment", "seg_x")

    # Unknown routes under /v1 are Voucherify's, with credentials or without.
    for method, path, sent in (
        ("GET", "/v1/vouchers", headers),
        ("GET", "/v1/vouchers", {}),
        ("GET", "/v1", headers),
        ("POST", "/v1/customers/ada/nope", headers),
        ("GET", "/v1/segments/seg_x/customers", {"Authorization": "Basic eDo="}),
    ):
        response = await api.request(method, path, headers=sent)
        body = assert_error(response, 404, "not_found")
        assert set(body) == SHAPE, (method, path)
        assert body["request_id"] == response.headers["x-request-id"]

    for method, path in (("PATCH", "/v1/customers"), ("POST", "/v1/customers/ada/segments")):
        response = await api.request(method, path, headers=headers)
        assert set(assert_error(response, 405, "method_not_allowed")) == SHAPE
        assert response.headers["allow"]


async def test_an_unexpected_error_is_a_500_with_a_request_id(
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, services = app_services
    monkeypatch.setattr(services.customers, "list", fail)
    headers = workspace.app_headers
    crash = await crash_then_continue(
        app,
        caplog,
        lambda client: client.get("/v1/customers", headers=headers),
        lambda client: client.get("/v1/segments", headers=headers),
    )
    body = assert_error(crash.failed, 500, "internal_server_error")
    assert set(body) == SHAPE
    assert body["request_id"] == crash.request_id
    assert crash.request_id.startswith("v-")
    assert crash.request_id in body["details"]
    assert crash.after.json()["object"] == "list"


# -- what the official JavaScript SDK sends ----------------------------------------------


async def test_an_update_may_name_its_own_customer_in_the_body(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    """The JavaScript SDK's ``customers.update`` sends the whole customer, ``source_id`` too."""
    headers = workspace.app_headers
    ada = (await api.post("/v1/customers", json={"source_id": "ada"}, headers=headers)).json()
    await api.post("/v1/customers", json={"source_id": "bob"}, headers=headers)
    for path, body in (
        ("/v1/customers/ada", {"source_id": "ada", "name": "Ada"}),
        (f"/v1/customers/{ada['id']}", {"source_id": "ada", "email": "ada@example.com"}),
        ("/v1/customers/ada", {"id": ada["id"], "source_id": "ada", "phone": "+44 1"}),
        ("/v1/customers/ada", {"id": None, "source_id": None, "description": "first"}),
    ):
        response = await api.put(path, json=body, headers=headers)
        assert response.status_code == 200, (path, body, response.text)
        assert (response.json()["id"], response.json()["source_id"]) == (ada["id"], "ada")
    current = (await api.get("/v1/customers/ada", headers=headers)).json()
    assert (current["name"], current["email"], current["phone"], current["description"]) == (
        "Ada",
        "ada@example.com",
        "+44 1",
        "first",
    )

    for body, fields in (
        ({"source_id": "bob", "name": "Not Ada"}, {"source_id"}),
        ({"id": "cust_someone_else", "name": "Not Ada"}, {"id"}),
        ({"id": ada["id"], "source_id": "nobody", "name": "Not Ada"}, {"source_id"}),
    ):
        response = await api.put("/v1/customers/ada", json=body, headers=headers)
        problems = assert_error(response, 400, "invalid_payload")["errors"]
        assert {problem["field"] for problem in problems} == fields
    assert (await api.get("/v1/customers/ada", headers=headers)).json()["name"] == "Ada"
    assert (await api.get("/v1/customers/bob", headers=headers)).json()["name"] is None


async def test_permanent_deletion_answers_the_object_the_sdks_expect(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    headers = workspace.app_headers
    await api.post("/v1/customers", json={"source_id": "gone"}, headers=headers)
    response = await api.post("/v1/customers/gone/permanent-deletion", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "pernament_deletion"  # sic, as Voucherify spells it
