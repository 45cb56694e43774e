"""The tracking endpoints over HTTP: paths, answers, authentication, isolation,
what is stored, batch defaults, deduplication and timestamps."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from patron.services import Services
from tests.conftest import WorkspaceKeys, make_workspace
from tests.surfaces.segment.support import (
    assert_error,
    assert_no_customer,
    assert_ok,
    events_of,
    only_event,
    post,
)

pytestmark = pytest.mark.anyio

OK_BODY = {"success": True}


def iso(moment: datetime) -> str:
    """A client-style ISO-8601 timestamp with milliseconds and a Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def at_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# -- paths -----------------------------------------------------------------

SINGLE_CALLS = [
    ("identify", {"userId": "u1", "traits": {"plan": "pro"}}),
    ("track", {"userId": "u1", "event": "Order Completed"}),
    ("page", {"userId": "u1", "name": "Home"}),
    ("screen", {"userId": "u1", "name": "Settings"}),
    ("group", {"userId": "u1", "groupId": "g1"}),
    ("alias", {"userId": "u1", "previousId": "old-1"}),
]
BATCH_NAMES = ("batch", "b", "import")
SHORT = {"identify": "i", "track": "t", "page": "p", "screen": "s", "group": "g", "alias": "a"}


@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
@pytest.mark.parametrize("call", SINGLE_CALLS, ids=[t for t, _ in SINGLE_CALLS])
async def test_each_single_call_is_accepted_and_stored_with_its_type(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    call: tuple[str, dict[str, Any]],
    short: bool,
) -> None:
    type_, body = call
    path = f"/v1/{SHORT[type_] if short else type_}"
    assert_ok(await post(api, workspace.write_key, path, {**body, "type": "track"}))
    event = await only_event(app_services[1], workspace.id, "u1")
    assert event["type"] == type_  # the path decides the type, not the body
    assert event["user_id"] == "u1"


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/b", "/v1/import"])
async def test_each_batch_path_accepts_every_message_type(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    path: str,
) -> None:
    batch = [{**body, "type": type_} for type_, body in SINGLE_CALLS]
    assert_ok(await post(api, workspace.write_key, path, {"batch": batch}))
    events = await events_of(app_services[1], workspace.id, "u1")
    assert sorted(e["type"] for e in events) == sorted(t for t, _ in SINGLE_CALLS)


PREFIXED_PATHS = [
    "/anything/v1/batch",
    "/segment/proxy/v1/batch",
    "/anything/v1/b",
    "/anything/v1/import",
    "/anything/v1/track",
    "/collect/v1/t",
    "/x/v1/identify",
]


async def test_paths_work_behind_any_prefix(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    for number, path in enumerate(PREFIXED_PATHS):
        user = f"u{number}"
        last = path.rsplit("/", 1)[1]
        message = {"userId": user, "event": "Signed Up", "traits": {"n": number}}
        body = {"batch": [{**message, "type": "track"}]} if last in BATCH_NAMES else message
        assert_ok(await post(api, workspace.write_key, path, body))
        event = await only_event(app_services[1], workspace.id, user)
        expected = "identify" if last == "identify" else "track"
        assert event["type"] == expected, path


async def test_an_empty_batch_succeeds_and_stores_nothing(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    assert_ok(await post(api, workspace.write_key, "/v1/batch", {"batch": []}))


# -- authentication ----------------------------------------------------------


async def test_the_write_key_as_basic_auth_user_with_an_empty_password(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    token = base64.b64encode(f"{workspace.write_key}:".encode()).decode()
    response = await api.post(
        "/v1/track",
        headers={"Authorization": f"Basic {token}"},
        json={"userId": "u1", "event": "E"},
    )
    assert_ok(response)
    await only_event(app_services[1], workspace.id, "u1")


@pytest.mark.parametrize("path", ["/v1/t", "/v1/track", "/v1/p"])
async def test_the_browser_sends_the_write_key_in_a_text_plain_body(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    path: str,
) -> None:
    body = {"writeKey": workspace.write_key, "anonymousId": "a1", "event": "Clicked"}
    response = await api.post(
        path, content=orjson.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert_ok(response)
    event = await only_event(app_services[1], workspace.id, "a1")
    assert event["anonymous_id"] == "a1"
    assert "writeKey" not in event["document"]


async def test_a_browser_batch_carries_its_write_key_in_the_body(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = {
        "writeKey": workspace.write_key,
        "batch": [
            {"type": "track", "anonymousId": "a1", "event": "A", "writeKey": workspace.write_key},
            {"type": "page", "anonymousId": "a1", "name": "Home"},
        ],
    }
    response = await api.post(
        "/v1/b", content=orjson.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert_ok(response)
    events = await events_of(app_services[1], workspace.id, "a1")
    assert sorted(e["type"] for e in events) == ["page", "track"]
    for event in events:
        assert "writeKey" not in event["document"]
        assert workspace.write_key not in orjson.dumps(event["document"]).decode()


def _no_key(_: str) -> dict[str, Any]:
    return {"json": {"userId": "u1", "event": "E"}}


def _wrong_basic_key(_: str) -> dict[str, Any]:
    return {"json": {"userId": "u1", "event": "E"}, "auth": ("not-a-real-write-key", "")}


def _wrong_body_key(_: str) -> dict[str, Any]:
    return {"json": {"userId": "u1", "event": "E", "writeKey": "not-a-real-write-key"}}


def _non_string_body_key(_: str) -> dict[str, Any]:
    return {"json": {"userId": "u1", "event": "E", "writeKey": 12345678}}


def _empty_basic_user(_: str) -> dict[str, Any]:
    return {"json": {"userId": "u1", "event": "E"}, "auth": ("", "")}


def _wrong_header_right_body(key: str) -> dict[str, Any]:
    # A bad header is not rescued by a good key in the body.
    return {
        "json": {"userId": "u1", "event": "E", "writeKey": key},
        "auth": ("not-a-real-write-key", ""),
    }


async def test_missing_or_invalid_write_keys_get_401_and_store_nothing(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    cases = [
        _no_key,
        _wrong_basic_key,
        _wrong_body_key,
        _non_string_body_key,
        _empty_basic_user,
        _wrong_header_right_body,
    ]
    failures = []
    for path in ("/v1/track", "/v1/t"):
        for request_for in cases:
            response = await api.post(path, **request_for(workspace.write_key))
            try:
                assert_error(response, 401, "unauthorized")
            except AssertionError as error:
                failures.append(f"{path} {request_for.__name__}: {error}")
    assert not failures, "\n".join(failures)
    await assert_no_customer(app_services[1], workspace.id, "u1")


async def test_a_batch_without_a_key_gets_401(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    response = await api.post(
        "/v1/batch", json={"batch": [{"type": "track", "userId": "u1", "event": "E"}]}
    )
    assert_error(response, 401, "unauthorized")
    await assert_no_customer(app_services[1], workspace.id, "u1")


# -- workspaces are isolated --------------------------------------------------


async def test_the_same_user_id_in_two_workspaces_is_two_customers(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]
    other = await make_workspace(services)
    identify = {"userId": "shared", "traits": {"email": "a@example.com", "plan": "a"}}
    assert_ok(await post(api, workspace.write_key, "/v1/identify", identify))
    identify = {"userId": "shared", "traits": {"email": "b@example.com"}}
    assert_ok(await post(api, other.write_key, "/v1/identify", identify))

    mine = await services.customers.get(workspace_id=workspace.id, ref="shared")
    theirs = await services.customers.get(workspace_id=other.id, ref="shared")
    assert mine.profile.id != theirs.profile.id
    assert mine.profile.email == "a@example.com"
    assert theirs.profile.email == "b@example.com"
    assert "plan" not in theirs.profile.attributes
    assert len(await events_of(services, workspace.id, "shared")) == 1
    assert len(await events_of(services, other.id, "shared")) == 1


async def test_a_key_only_ever_writes_its_own_workspace(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]
    other = await make_workspace(services)
    batch = {"batch": [{"type": "track", "userId": "u1", "event": "E"}]}
    assert_ok(await post(api, workspace.write_key, "/v1/batch", batch))
    assert_ok(await post(api, workspace.write_key, "/v1/t", {"anonymousId": "a1", "event": "E"}))
    await only_event(services, workspace.id, "u1")
    await assert_no_customer(services, other.id, "u1")
    await assert_no_customer(services, other.id, "a1")
    # The header's key decides; another workspace's key in the body changes nothing.
    body = {"userId": "u2", "event": "E", "writeKey": other.write_key}
    assert_ok(await post(api, workspace.write_key, "/v1/track", body))
    assert "writeKey" not in (await only_event(services, workspace.id, "u2"))["document"]
    await assert_no_customer(services, other.id, "u2")
    # A customer id of workspace A does not resolve in workspace B either.
    customer_id = (await services.customers.get(workspace_id=workspace.id, ref="u1")).profile.id
    await assert_no_customer(services, other.id, customer_id)


# -- what is stored -----------------------------------------------------------


async def test_the_stored_document_keeps_what_the_client_sent(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = {
        "userId": "u1",
        "anonymousId": "a1",
        "messageId": "m-1",
        "event": "Order Completed",
        "properties": {"revenue": 42.5, "items": [{"sku": "X"}], "coupon": None},
        "context": {"ip": "203.0.113.9", "library": {"name": "test", "version": "1"}},
        "integrations": {"All": False, "Mixpanel": True},
        "customTopLevel": {"kept": True},
        "channel": "server",
        "writeKey": workspace.write_key,
    }
    assert_ok(await post(api, workspace.write_key, "/v1/track", body))
    event = await only_event(app_services[1], workspace.id, "u1")
    assert event["message_id"] == "m-1"
    assert event["name"] == "Order Completed"
    assert (event["user_id"], event["anonymous_id"]) == ("u1", "a1")
    document = event["document"]
    assert document["properties"] == {"revenue": 42.5, "items": [{"sku": "X"}], "coupon": None}
    assert document["context"] == body["context"]
    assert document["integrations"] == body["integrations"]
    assert document["customTopLevel"] == {"kept": True}
    assert document["channel"] == "server"
    assert document["event"] == "Order Completed"
    assert "writeKey" not in document


async def test_a_message_without_message_id_gets_one(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    for _ in range(2):  # two identical calls without ids are two events
        assert_ok(await post(api, workspace.write_key, "/v1/track", {"userId": "u", "event": "E"}))
    events = await events_of(app_services[1], workspace.id, "u")
    assert len(events) == 2
    assert all(e["message_id"] for e in events)
    assert events[0]["message_id"] != events[1]["message_id"]


async def test_batch_context_integrations_and_sent_at_apply_to_every_item(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    now = datetime.now(UTC)
    body = {
        "context": {"library": {"name": "analytics-python"}, "ip": "10.0.0.1"},
        "integrations": {"All": True, "Salesforce": False},
        "sentAt": iso(now),
        "batch": [
            {"type": "track", "userId": "u1", "event": "Inherits", "messageId": "m1"},
            {
                "type": "track",
                "userId": "u1",
                "event": "Overrides",
                "messageId": "m2",
                "context": {"ip": "10.0.0.2", "locale": "fr-FR"},
                "integrations": {"Salesforce": True},
                "sentAt": iso(now - timedelta(seconds=30)),
            },
        ],
    }
    assert_ok(await post(api, workspace.write_key, "/v1/batch", body))
    events = {e["message_id"]: e for e in await events_of(app_services[1], workspace.id, "u1")}
    inherits, overrides = events["m1"], events["m2"]
    assert inherits["document"]["context"] == body["context"]
    assert inherits["document"]["integrations"] == body["integrations"]
    assert inherits["sent_at"] == at_millis(now)
    assert overrides["document"]["context"] == {
        "library": {"name": "analytics-python"},
        "ip": "10.0.0.2",
        "locale": "fr-FR",
    }
    assert overrides["document"]["integrations"] == {"All": True, "Salesforce": True}
    assert overrides["sent_at"] == at_millis(now - timedelta(seconds=30))


# -- deduplication ------------------------------------------------------------


async def test_a_message_id_repeated_in_one_batch_is_stored_once(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    item = {"type": "track", "userId": "u1", "event": "Paid", "messageId": "dup"}
    other = {"type": "track", "userId": "u1", "event": "Other", "messageId": "unique"}
    assert_ok(await post(api, workspace.write_key, "/v1/batch", {"batch": [item, other, item]}))
    events = await events_of(app_services[1], workspace.id, "u1")
    assert sorted(e["message_id"] for e in events) == ["dup", "unique"]


async def test_a_message_id_sent_again_is_acknowledged_but_stored_once(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    first = {"userId": "u1", "event": "Paid", "messageId": "m-1", "properties": {"n": 1}}
    again = {**first, "properties": {"n": 2}}
    assert_ok(await post(api, workspace.write_key, "/v1/track", first))
    assert_ok(await post(api, workspace.write_key, "/v1/track", again))
    batch = {"batch": [{**again, "type": "track"}]}
    assert_ok(await post(api, workspace.write_key, "/v1/batch", batch))
    event = await only_event(app_services[1], workspace.id, "u1")
    assert event["document"]["properties"] == {"n": 1}  # the first one counts


async def test_the_same_message_id_in_two_workspaces_is_stored_in_both(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]
    other = await make_workspace(services)
    body = {"userId": "u1", "event": "Paid", "messageId": "same-id"}
    assert_ok(await post(api, workspace.write_key, "/v1/track", body))
    assert_ok(await post(api, other.write_key, "/v1/track", body))
    assert (await only_event(services, workspace.id, "u1"))["message_id"] == "same-id"
    assert (await only_event(services, other.id, "u1"))["message_id"] == "same-id"


# -- timestamps ---------------------------------------------------------------


async def test_received_at_is_stamped_on_arrival_and_is_the_timestamp_when_none_is_sent(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    before = datetime.now(UTC)
    body = {"userId": "u1", "event": "E", "receivedAt": "2001-01-01T00:00:00Z"}
    assert_ok(await post(api, workspace.write_key, "/v1/track", body))
    after = datetime.now(UTC)
    event = await only_event(app_services[1], workspace.id, "u1")
    assert before <= event["received_at"] <= after  # the client's receivedAt is ignored
    assert event["timestamp"] == event["received_at"]
    assert event["original_timestamp"] is None
    assert event["sent_at"] is None


async def test_a_timestamp_without_sent_at_is_kept_as_given(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = {"userId": "u1", "event": "E", "timestamp": "2024-03-01T12:30:00.250+02:00"}
    assert_ok(await post(api, workspace.write_key, "/v1/track", body))
    event = await only_event(app_services[1], workspace.id, "u1")
    expected = datetime(2024, 3, 1, 10, 30, 0, 250_000, tzinfo=UTC)
    assert event["timestamp"] == expected
    assert event["original_timestamp"] == expected
    assert event["timestamp"].tzinfo is not None


@pytest.mark.parametrize("skew", [timedelta(hours=1), timedelta(hours=-1)], ids=["ahead", "behind"])
async def test_clock_skew_is_corrected_with_sent_at(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    skew: timedelta,
) -> None:
    client_now = datetime.now(UTC) + skew  # the client's clock is an hour off
    happened = client_now - timedelta(seconds=10)
    body = {"userId": "u1", "event": "E", "timestamp": iso(happened), "sentAt": iso(client_now)}
    assert_ok(await post(api, workspace.write_key, "/v1/track", body))
    event = await only_event(app_services[1], workspace.id, "u1")
    assert event["original_timestamp"] == at_millis(happened)
    assert event["sent_at"] == at_millis(client_now)
    assert event["timestamp"] == event["received_at"] - (
        at_millis(client_now) - at_millis(happened)
    )
    expected = datetime.now(UTC) - timedelta(seconds=10)
    assert abs(event["timestamp"] - expected) < timedelta(seconds=3)


async def test_batch_sent_at_corrects_every_item(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    client_now = datetime.now(UTC) + timedelta(hours=1)
    body = {
        "sentAt": iso(client_now),
        "batch": [
            {
                "type": "track",
                "userId": "u1",
                "event": f"E{seconds}",
                "timestamp": iso(client_now - timedelta(seconds=seconds)),
            }
            for seconds in (5, 60)
        ],
    }
    assert_ok(await post(api, workspace.write_key, "/v1/batch", body))
    events = {e["name"]: e for e in await events_of(app_services[1], workspace.id, "u1")}
    now = datetime.now(UTC)
    for seconds in (5, 60):
        event = events[f"E{seconds}"]
        assert abs(event["timestamp"] - (now - timedelta(seconds=seconds))) < timedelta(seconds=3)
        assert event["original_timestamp"] == at_millis(client_now - timedelta(seconds=seconds))


async def test_rudderstack_original_timestamp_is_read_and_corrected(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    client_now = datetime.now(UTC) - timedelta(hours=1)
    happened = client_now - timedelta(seconds=20)
    body = {
        "batch": [
            {
                "type": "track",
                "userId": "u1",
                "event": "E",
                "originalTimestamp": iso(happened),
                "sentAt": iso(client_now),
            }
        ]
    }
    assert_ok(await post(api, workspace.write_key, "/v1/batch", body))
    event = await only_event(app_services[1], workspace.id, "u1")
    assert event["original_timestamp"] == at_millis(happened)
    expected = datetime.now(UTC) - timedelta(seconds=20)
    assert abs(event["timestamp"] - expected) < timedelta(seconds=3)


# -- methods and slashes ---------------------------------------------------------


async def test_a_trailing_slash_is_accepted(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    assert_ok(await post(api, workspace.write_key, "/v1/track/", {"userId": "u1", "event": "E"}))
    batch = {"batch": [{"type": "page", "userId": "u1", "name": "Home"}]}
    assert_ok(await post(api, workspace.write_key, "/prefix/v1/batch/", batch))
    assert len(await events_of(app_services[1], workspace.id, "u1")) == 2


async def test_other_methods_get_a_json_error(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        response = await api.request(method, "/v1/batch", auth=(workspace.write_key, ""))
        assert response.status_code == 405, (method, response.text)
        body = response.json()
        assert body["success"] is False
        assert body["code"]
        assert body["message"]


# -- concurrent requests -----------------------------------------------------------


async def test_concurrent_duplicates_are_stored_once(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = {"userId": "u1", "event": "Paid", "messageId": "racing"}
    responses = await asyncio.gather(
        *(post(api, workspace.write_key, "/v1/track", body) for _ in range(20))
    )
    for response in responses:
        assert_ok(response)
    await only_event(app_services[1], workspace.id, "u1")


async def test_concurrent_calls_of_one_new_person_from_many_devices_make_one_profile(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]
    devices = [f"device-{number}" for number in range(12)]
    calls = [
        post(api, workspace.write_key, "/v1/identify", {"userId": "u1", "anonymousId": device})
        for device in devices
    ] + [
        post(api, workspace.write_key, "/v1/t", {"anonymousId": device, "event": "Opened"})
        for device in devices
    ]
    for response in await asyncio.gather(*calls):
        assert_ok(response)
    person = await services.customers.get(workspace_id=workspace.id, ref="u1")
    for device in devices:
        found = await services.customers.get(workspace_id=workspace.id, ref=device)
        assert found.profile.id == person.profile.id, device
    assert len(await events_of(services, workspace.id, "u1")) == 2 * len(devices)
