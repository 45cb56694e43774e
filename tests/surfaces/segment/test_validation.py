"""Bad input over HTTP: a clear 400 in Segment's error shape, never a 500, nothing stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx
import pytest

from patron.domain.errors import NotFound
from patron.services import Services
from tests.conftest import WorkspaceKeys
from tests.surfaces.segment.support import (
    assert_invalid,
    assert_nothing_stored,
    assert_ok,
    events_of,
    fields,
    only_event,
    post,
    post_raw,
)

pytestmark = pytest.mark.anyio


async def check_each(cases: Iterable[Any], check: Callable[[Any], Awaitable[None]]) -> None:
    """Run ``check`` on every case (one app, one workspace) and report every failing case."""
    failures = []
    for case in cases:
        try:
            await check(case)
        except AssertionError as error:
            failures.append(f"{case!r}: {error}")
    assert not failures, "\n".join(failures)


# -- required fields and shapes ------------------------------------------------

INVALID_SINGLE_CALLS = [
    ("track", {"event": "E"}, "userId"),
    ("track", {"userId": None, "anonymousId": None, "event": "E"}, "userId"),
    ("identify", {"traits": {"email": "x@example.com"}}, "userId"),
    ("page", {"name": "Home"}, "userId"),
    ("screen", {"name": "Home"}, "userId"),
    ("group", {"groupId": "g1"}, "userId"),
    ("track", {"userId": "u1"}, "event"),
    ("track", {"userId": "u1", "event": None}, "event"),
    ("track", {"userId": "u1", "event": ""}, "event"),
    ("track", {"userId": "u1", "event": "   "}, "event"),
    ("track", {"userId": "u1", "event": 42}, "event"),
    ("track", {"userId": "u1", "event": ["E"]}, "event"),
    ("group", {"userId": "u1"}, "groupId"),
    ("group", {"userId": "u1", "groupId": ""}, "groupId"),
    ("alias", {"userId": "u1"}, "previousId"),
    ("alias", {"previousId": "p1"}, "userId"),
    ("alias", {"previousId": "p1", "anonymousId": "a1"}, "userId"),
    ("alias", {"previousId": "undefined", "userId": "u1"}, "previousId"),
    ("group", {"userId": "u1", "groupId": "null"}, "groupId"),
    ("track", {"userId": "u1", "event": "E", "properties": [1, 2]}, "properties"),
    ("track", {"userId": "u1", "event": "E", "properties": "x"}, "properties"),
    ("page", {"userId": "u1", "properties": 3}, "properties"),
    ("track", {"userId": "u1", "event": "E", "context": "x"}, "context"),
    ("track", {"userId": "u1", "event": "E", "context": []}, "context"),
    ("track", {"userId": "u1", "event": "E", "integrations": True}, "integrations"),
    ("identify", {"userId": "u1", "traits": ["email"]}, "traits"),
    ("identify", {"userId": "u1", "traits": "x", "context": {"traits": {"a": 1}}}, "traits"),
    ("group", {"userId": "u1", "groupId": "g1", "traits": "x"}, "traits"),
    ("track", {"userId": "u1", "event": "E", "timestamp": "yesterday"}, "timestamp"),
    ("track", {"userId": "u1", "event": "E", "timestamp": "2024-02-30T00:00:00Z"}, "timestamp"),
    ("track", {"userId": "u1", "event": "E", "timestamp": True}, "timestamp"),
    ("track", {"userId": "u1", "event": "E", "timestamp": {}}, "timestamp"),
    ("track", {"userId": "u1", "event": "E", "sentAt": "not a date"}, "sentAt"),
    ("track", {"userId": "u1", "event": "E", "sentAt": ""}, "sentAt"),
    ("track", {"userId": {"id": 1}, "event": "E"}, "userId"),
    ("track", {"userId": True, "event": "E"}, "userId"),
    ("track", {"anonymousId": ["a"], "event": "E"}, "anonymousId"),
    ("track", {"userId": "x" * 1001, "event": "E"}, "userId"),
    ("track", {"userId": "u1", "event": "E", "messageId": {"id": 1}}, "messageId"),
]


async def test_an_invalid_call_gets_400_naming_the_field_and_stores_nothing(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]

    async def check(case: tuple[str, dict[str, Any], str]) -> None:
        type_, body, field = case
        errors = assert_invalid(await post(api, workspace.write_key, f"/v1/{type_}", body))
        assert (None, field) in fields(errors), errors
        await assert_nothing_stored(services, workspace.id)

    await check_each(INVALID_SINGLE_CALLS, check)


async def test_the_same_rules_apply_inside_a_batch(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]

    async def check(case: tuple[str, dict[str, Any], str]) -> None:
        type_, body, field = case
        batch = [{"type": "track", "userId": "ok", "event": "Fine"}, {**body, "type": type_}]
        response = await post(api, workspace.write_key, "/v1/batch", {"batch": batch})
        errors = assert_invalid(response)
        assert (1, field) in fields(errors), errors
        await assert_nothing_stored(services, workspace.id)

    await check_each(INVALID_SINGLE_CALLS, check)


async def test_every_problem_of_a_call_is_listed(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    body = {"properties": [], "timestamp": "nope"}
    errors = assert_invalid(await post(api, workspace.write_key, "/v1/track", body))
    assert {"userId", "event", "properties", "timestamp"} <= {e["field"] for e in errors}


# -- identifiers ---------------------------------------------------------------


SENTINELS = ["null", "NULL", "Null", "undefined", "UNDEFINED", "0", "", "   ", "anonymous"]
SENTINELS += ["Anonymous", "NaN", "nan", "NAN"]


async def test_placeholder_ids_are_refused(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]

    async def check(case: tuple[str, str]) -> None:
        field, sentinel = case
        body = {field: sentinel, "event": "E"}
        errors = assert_invalid(await post(api, workspace.write_key, "/v1/track", body))
        assert (None, field) in fields(errors), errors
        await assert_nothing_stored(services, workspace.id)

    await check_each([(f, s) for f in ("userId", "anonymousId") for s in SENTINELS], check)


async def test_a_placeholder_id_is_refused_even_beside_a_real_one(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]

    async def check(sentinel: str) -> None:
        body = {"userId": sentinel, "anonymousId": "a-real-one", "event": "E"}
        errors = assert_invalid(await post(api, workspace.write_key, "/v1/track", body))
        assert (None, "userId") in fields(errors), errors
        await assert_nothing_stored(services, workspace.id)

    await check_each(["undefined", "null", "0"], check)


async def test_numeric_ids_are_accepted_as_strings(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]
    assert_ok(await post(api, workspace.write_key, "/v1/track", {"userId": 42, "event": "E"}))
    assert_ok(await post(api, workspace.write_key, "/v1/page", {"anonymousId": 9007199254740993}))
    assert_ok(await post(api, workspace.write_key, "/v1/group", {"userId": 42, "groupId": 7}))
    view = await services.customers.get(workspace_id=workspace.id, ref="42")
    assert view.profile.external_id == "42"
    assert [g["group_id"] for g in view.groups] == ["7"]
    events = await services.customers.list_events(workspace_id=workspace.id, ref="42", limit=10)
    assert {e["user_id"] for e in events} == {"42"}
    anonymous = await services.customers.list_events(
        workspace_id=workspace.id, ref="9007199254740993", limit=10
    )
    assert anonymous[0]["anonymous_id"] == "9007199254740993"


async def test_a_numeric_user_id_beyond_64_bits_is_refused_not_mangled(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    # JSON numbers beyond 64 bits arrive as floats; storing one as an id would lose digits.
    content = b'{"userId": 123456789012345678901234567890, "anonymousId": "a1", "event": "E"}'
    errors = assert_invalid(await post_raw(api, workspace.write_key, "/v1/track", content))
    assert (None, "userId") in fields(errors)
    await assert_nothing_stored(app_services[1], workspace.id)


# -- null means absent -----------------------------------------------------------


async def test_null_fields_are_treated_as_absent(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = {
        "userId": None,
        "anonymousId": "a1",
        "event": "E",
        "properties": None,
        "context": None,
        "integrations": None,
        "timestamp": None,
        "sentAt": None,
        "messageId": None,
    }
    assert_ok(await post(api, workspace.write_key, "/v1/track", body))
    events_ = await app_services[1].customers.list_events(
        workspace_id=workspace.id, ref="a1", limit=10
    )
    assert len(events_) == 1
    assert events_[0]["user_id"] is None
    assert events_[0]["anonymous_id"] == "a1"
    assert events_[0]["message_id"]
    identify = {"userId": "u1", "anonymousId": None, "traits": None}
    assert_ok(await post(api, workspace.write_key, "/v1/identify", identify))


# -- bodies ----------------------------------------------------------------------


NOT_JSON_OBJECTS = [b"", b"{", b"not json", b'{"userId": "u1", "event": "E",}', b"\xff\xfe\x00"]
NOT_JSON_OBJECTS += [b"[]", b'[{"userId": "u1", "event": "E"}]', b'"track"', b"42", b"null"]


async def test_a_body_that_is_not_a_json_object_gets_400(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]

    async def check(case: tuple[str, bytes]) -> None:
        path, content = case
        assert_invalid(await post_raw(api, workspace.write_key, path, content))
        await assert_nothing_stored(services, workspace.id)

    paths = ["/v1/track", "/v1/batch"]
    await check_each([(p, c) for p in paths for c in NOT_JSON_OBJECTS], check)


async def test_a_batch_that_is_not_a_list_gets_400(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    async def check(body: dict[str, Any]) -> None:
        errors = assert_invalid(await post(api, workspace.write_key, "/v1/batch", body))
        assert (None, "batch") in fields(errors), errors

    bodies = [{}, {"batch": None}, {"batch": {"type": "track"}}, {"batch": "[]"}, {"batch": 3}]
    await check_each(bodies, check)


async def test_a_batch_item_of_unknown_type_gets_400(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]

    async def check(type_: Any) -> None:
        item = {"userId": "u1", "event": "E"} if type_ is ... else {"type": type_, "userId": "u1"}
        batch = [{"type": "track", "userId": "ok", "event": "Fine"}, item]
        response = await post(api, workspace.write_key, "/v1/batch", {"batch": batch})
        errors = assert_invalid(response)
        assert (1, "type") in fields(errors), errors
        await assert_nothing_stored(services, workspace.id)

    await check_each(["purchase", "Track", "TRACK", "", None, 1, True, ...], check)


async def test_a_batch_item_that_is_not_an_object_gets_400(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]

    async def check(item: Any) -> None:
        batch = [{"type": "track", "userId": "ok", "event": "Fine"}, item]
        response = await post(api, workspace.write_key, "/v1/batch", {"batch": batch})
        errors = assert_invalid(response)
        assert 1 in {e["index"] for e in errors}, errors
        await assert_nothing_stored(services, workspace.id)

    await check_each(["track", 1, None, ["track"], True], check)


async def test_one_bad_message_refuses_the_whole_batch(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]
    batch = [
        {"type": "identify", "userId": "u0", "traits": {"email": "u0@example.com"}},
        {"type": "track", "userId": "u1", "event": "Fine"},
        {"type": "track", "userId": "u2"},  # no event
        {"type": "group", "userId": "u3", "groupId": "g"},
        {"type": "alias", "userId": "u4", "previousId": "p4"},
    ]
    response = await post(api, workspace.write_key, "/v1/batch", {"batch": batch})
    errors = assert_invalid(response)
    assert fields(errors) == {(2, "event")}
    assert "2" in response.json()["message"]
    await assert_nothing_stored(services, workspace.id)
    for ref in ("u0", "u1", "u2", "u3", "u4", "p4"):
        with pytest.raises(NotFound):
            await services.customers.get(workspace_id=workspace.id, ref=ref)


async def test_every_bad_message_of_a_batch_is_listed_by_index(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    batch = [
        {"type": "track", "userId": "u1", "event": "Fine"},
        {"type": "track", "anonymousId": "undefined", "event": "E"},
        {"type": "page", "userId": "u1"},
        {"type": "group", "userId": "u1"},
        {"type": "identify", "userId": "u1", "traits": 5},
        {"type": "unknown", "userId": "u1"},
    ]
    errors = assert_invalid(await post(api, workspace.write_key, "/v1/batch", {"batch": batch}))
    assert fields(errors) == {(1, "anonymousId"), (3, "groupId"), (4, "traits"), (5, "type")}
    await assert_nothing_stored(app_services[1], workspace.id)


@pytest.mark.parametrize(
    ("batch_level", "field"),
    [
        ({"sentAt": "not a date"}, "sentAt"),
        ({"context": "x"}, "context"),
        ({"integrations": ["All"]}, "integrations"),
        ({"context": {"page": {"title": "a\u0000b"}}}, "context"),
    ],
    ids=["sentAt", "context", "integrations", "nul-in-context"],
)
async def test_a_bad_batch_level_field_is_reported_once_for_the_batch(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    batch_level: dict[str, Any],
    field: str,
) -> None:
    body = {
        **batch_level,
        "batch": [
            {"type": "track", "userId": "u1", "event": "A"},
            {"type": "track", "userId": "u1", "event": "B", field: None},
            {"type": "track", "userId": "undefined", "event": "C"},
        ],
    }
    errors = assert_invalid(await post(api, workspace.write_key, "/v1/batch", body))
    assert fields(errors) == {(None, field), (2, "userId")}
    assert len(errors) == 2
    await assert_nothing_stored(app_services[1], workspace.id)


async def test_a_good_batch_level_field_applies_to_every_item(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = {
        "sentAt": "2024-01-01T00:00:10Z",
        "context": {"ip": "203.0.113.7", "page": {"path": "/a"}},
        "batch": [
            {"type": "track", "userId": "u1", "event": "A", "timestamp": "2024-01-01T00:00:00Z"},
            {"type": "track", "userId": "u1", "event": "B", "context": {"ip": "198.51.100.1"}},
        ],
    }
    assert_ok(await post(api, workspace.write_key, "/v1/batch", body))
    found = {e["name"]: e for e in await events_of(app_services[1], workspace.id, "u1")}
    assert found["A"]["document"]["context"] == {"ip": "203.0.113.7", "page": {"path": "/a"}}
    assert found["B"]["document"]["context"] == {"ip": "198.51.100.1", "page": {"path": "/a"}}
    assert found["A"]["sent_at"] == found["B"]["sent_at"]
    assert str(found["A"]["sent_at"]).startswith("2024-01-01")


async def test_an_invalid_body_is_reported_before_anything_is_stored_even_unauthenticated(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    response = await api.post("/v1/track", content=b"{oops", headers={"Content-Type": "text/plain"})
    assert response.status_code in (400, 401)
    assert response.json()["success"] is False
    await assert_nothing_stored(app_services[1], workspace.id)


# -- bugs: odd but well-formed input must not end in a 500 ----------------------------


def assert_clean_outcome(response: httpx.Response) -> None:
    """Either accepted, or refused with a 4xx in Segment's shape: never a 500."""
    assert response.status_code != 500, response.text
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body["success"] is (response.status_code == 200)


async def test_a_lone_surrogate_in_an_id_is_not_a_500(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    content = b'{"userId": "u\\ud800", "event": "E"}'
    assert_clean_outcome(await post_raw(api, workspace.write_key, "/v1/track", content))


async def test_a_lone_surrogate_in_properties_is_not_a_500(
    api: httpx.AsyncClient,
    workspace: WorkspaceKeys,
) -> None:
    content = b'{"userId": "u1", "event": "E", "properties": {"a": "\\ud800"}}'
    assert_clean_outcome(await post_raw(api, workspace.write_key, "/v1/track", content))


@pytest.mark.parametrize(
    "content",
    [
        b'{"userId": "u\\u0000x", "event": "E"}',
        b'{"userId": "u1", "event": "E\\u0000"}',
        b'{"userId": "u1", "event": "E", "properties": {"a": "x\\u0000y"}}',
    ],
    ids=["userId", "event", "properties"],
)
async def test_a_nul_character_is_not_a_500(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    content: bytes,
) -> None:
    # PostgreSQL cannot store NUL; it is refused on both stores alike.
    assert_invalid(await post_raw(api, workspace.write_key, "/v1/track", content))
    await assert_nothing_stored(app_services[1], workspace.id)


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/import", "/v1/b"])
async def test_a_nul_character_in_a_batch_names_the_message_holding_it(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    path: str,
) -> None:
    batch = [
        b'{"type": "track", "userId": "u1", "event": "Fine"}',
        b'{"type": "track", "userId": "u1", "event": "E", "properties": {"a": ["x\\u0000y"]}}',
        b'{"type": "track", "userId": "u1", "event": "Text, not NUL: \\\\u0000"}',
        b'{"type": "identify", "userId": "u\\u0000", "traits": {"b": 1}}',
        b'{"type": "track", "userId": "u1", "event": "E", "properties": {"k\\u0000": 1}}',
        b'{"type": "track", "userId": "u1", "event": "E", "x\\u0000": 1}',
    ]
    content = b'{"batch": [' + b", ".join(batch) + b"]}"
    errors = assert_invalid(await post_raw(api, workspace.write_key, path, content))
    assert fields(errors) == {(1, "properties"), (3, "userId"), (4, "properties"), (5, None)}
    assert all("NUL" in error["message"] for error in errors)
    await assert_nothing_stored(app_services[1], workspace.id)


async def test_the_text_backslash_u0000_is_not_a_nul_character(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    content = b'{"batch": [{"type": "track", "userId": "u1", "event": "\\\\u0000"}]}'
    assert_ok(await post_raw(api, workspace.write_key, "/v1/batch", content))
    event = await only_event(app_services[1], workspace.id, "u1")
    assert event["name"] == "\\u0000"


@pytest.mark.parametrize("type_", [{}, ["track"]], ids=["object", "list"])
async def test_a_batch_item_with_an_unhashable_type_gets_400(
    api: httpx.AsyncClient, workspace: WorkspaceKeys, type_: Any
) -> None:
    batch = [{"type": type_, "userId": "u1", "event": "E"}]
    errors = assert_invalid(await post(api, workspace.write_key, "/v1/batch", {"batch": batch}))
    assert (0, "type") in fields(errors)


@pytest.mark.parametrize(
    "dates",
    [
        {"timestamp": "0001-01-01T00:00:00+01:00"},
        {"timestamp": "9999-12-31T23:00:00Z", "sentAt": "0001-01-01T00:00:00Z"},
        {"timestamp": "0001-01-01T00:00:00Z", "sentAt": "9999-12-31T23:00:00Z"},
    ],
    ids=["before-year-1-in-utc", "skew-past-9999", "skew-before-year-1"],
)
async def test_timestamps_out_of_range_get_400(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    dates: dict[str, str],
) -> None:
    body = {"userId": "u1", "event": "E", **dates}
    assert_invalid(await post(api, workspace.write_key, "/v1/track", body))
    await assert_nothing_stored(app_services[1], workspace.id)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_a_body_nested_too_deep_gets_400(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    content = f'{{"userId": "u1", "event": "E", "properties": {{"x": {nested(1100)}}}}}'
    assert_invalid(await post_raw(api, workspace.write_key, "/v1/track", content.encode()))
    await assert_nothing_stored(app_services[1], workspace.id)


async def test_nesting_up_to_the_limit_is_accepted_and_beyond_refused(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    # The message object is level 1 and properties level 2: 250 more stay within 254.
    deep_enough = f'{{"userId": "u1", "event": "E", "properties": {{"x": {nested(250)}}}}}'
    assert_ok(await post_raw(api, workspace.write_key, "/v1/track", deep_enough.encode()))
    too_deep = f'{{"userId": "u1", "event": "E", "properties": {{"x": {nested(300)}}}}}'
    assert_invalid(await post_raw(api, workspace.write_key, "/v1/track", too_deep.encode()))


async def test_a_batch_item_nested_too_deep_is_refused_like_a_single_call(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    item = (
        f'{{"type": "track", "userId": "u1", "event": "E", "properties": {{"x": {nested(300)}}}}}'
    )
    content = f'{{"batch": [{item}]}}'.encode()
    errors = assert_invalid(await post_raw(api, workspace.write_key, "/v1/batch", content))
    assert errors[0]["index"] == 0
