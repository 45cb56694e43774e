"""The official Segment and RudderStack Python libraries, unmodified, against a real server.

Every call type goes through the library to a ``patron serve`` process; the
results are read back with the ``patron`` CLI, as an operator would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rudderstack.analytics import Client as RudderClient
from rudderstack.analytics.request import APIError as RudderError
from segment.analytics import Client as SegmentClient
from segment.analytics.request import APIError as SegmentError

from tests.patron_server import Server, patron_cli, running_server

pytestmark = pytest.mark.server

Sdk = Callable[..., Any]
SDKS = {"segment": SegmentClient, "rudderstack": RudderClient}
# What each library raises for an error answer; it decides retries from .status and .code.
API_ERRORS: dict[Sdk, type[Exception]] = {SegmentClient: SegmentError, RudderClient: RudderError}


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    with running_server(database_url) as running:
        yield running


@pytest.fixture
def write_key(database_url: str, server: Server) -> str:
    created = json.loads(patron_cli(database_url, "workspace", "create", "shop", "--json"))
    key: str = created["credentials"]["tracking_write_key"]
    return key


def read(database_url: str, *args: str) -> Any:
    return json.loads(patron_cli(database_url, *args, "--workspace", "shop", "--json"))


def send_every_call(client: Any, prefix: str) -> None:
    """The calls a shop's back end makes, in the order a visitor's journey makes them."""
    visitor, person = f"{prefix}-anon", f"{prefix}-user"
    client.page(anonymous_id=visitor, name="Pricing", properties={"path": "/pricing"})
    client.track(anonymous_id=visitor, event="Viewed Plan", properties={"plan": "pro"})
    client.identify(
        person,
        {"email": f"{prefix}@example.com", "name": "Ada Lovelace", "plan": "pro"},
        anonymous_id=visitor,
    )
    client.track(person, "Order Completed", {"total": 42.5, "currency": "EUR"})
    client.screen(person, name="Settings", properties={"tab": "billing"})
    client.group(person, "acme", {"name": "Acme Inc", "seats": 12})
    client.track(anonymous_id=f"{prefix}-old-device", event="Opened App")
    client.alias(f"{prefix}-old-device", person)


def check_every_call(database_url: str, prefix: str, library: str) -> None:
    person = f"{prefix}-user"
    customer = read(database_url, "customers", "get", person)
    assert customer["external_id"] == person
    assert customer["email"] == f"{prefix}@example.com"
    assert customer["name"] == "Ada Lovelace"
    assert customer["attributes"] == {"plan": "pro"}
    identities = {(i["kind"], i["value"]) for i in customer["identities"]}
    assert {("user_id", person), ("anonymous_id", f"{prefix}-anon")} <= identities
    assert ("anonymous_id", f"{prefix}-old-device") in identities  # by alias
    assert customer["groups"] == [{"group_id": "acme", "traits": {"name": "Acme Inc", "seats": 12}}]
    events = read(database_url, "events", "list", "--customer", person)
    assert sorted(e["type"] for e in events) == [
        "alias",
        "group",
        "identify",
        "page",
        "screen",
        "track",
        "track",
        "track",
    ]
    assert {e["customer_id"] for e in events} == {customer["id"]}  # the visitor's history moved
    names = {e["name"] for e in events if e["type"] in ("track", "page", "screen")}
    assert names == {"Pricing", "Viewed Plan", "Order Completed", "Settings", "Opened App"}
    order = next(e for e in events if e["name"] == "Order Completed")
    assert order["document"]["properties"] == {"total": 42.5, "currency": "EUR"}
    assert order["document"]["context"]["library"]["name"] == library
    assert order["sent_at"] is not None
    assert len({e["message_id"] for e in events}) == len(events)


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_segment_library_sends_every_call(
    database_url: str, server: Server, write_key: str, gzip: bool
) -> None:
    errors: list[Exception] = []
    # A host with a path prefix, as behind a reverse proxy: posts go to /segment/v1/batch.
    client = SegmentClient(
        write_key, host=f"{server.url}/segment", gzip=gzip, on_error=lambda e, _: errors.append(e)
    )
    send_every_call(client, "seg")
    client.flush()
    client.shutdown()
    assert errors == []
    check_every_call(database_url, "seg", "analytics-python")


def test_rudderstack_library_sends_every_call(
    database_url: str, server: Server, write_key: str
) -> None:
    errors: list[Exception] = []
    client = RudderClient(write_key, host=server.url, on_error=lambda e, _: errors.append(e))
    assert client.gzip  # RudderStack compresses by default; Patron inflates
    send_every_call(client, "rud")  # its identify sends traits only in context.traits
    client.flush()
    client.shutdown()
    assert errors == []
    check_every_call(database_url, "rud", "analytics-python")


@pytest.mark.parametrize("sdk", SDKS.values(), ids=SDKS.keys())
def test_a_resent_message_is_stored_once(
    database_url: str, server: Server, write_key: str, sdk: Sdk
) -> None:
    client = sdk(write_key, host=server.url, sync_mode=True)
    message_id = str(uuid.uuid4())
    for _ in range(2):  # what a library does when an acknowledgement is lost
        client.track("dup-user", "Paid", {"total": 1}, message_id=message_id)
    events = read(database_url, "events", "list", "--customer", "dup-user")
    assert [e["message_id"] for e in events] == [message_id]


@pytest.mark.parametrize("sdk", SDKS.values(), ids=SDKS.keys())
def test_errors_reach_the_library_with_code_and_message(
    database_url: str, server: Server, write_key: str, sdk: Sdk
) -> None:
    api_error = API_ERRORS[sdk]
    wrong = sdk("not-a-write-key", host=server.url, sync_mode=True)
    with pytest.raises(api_error) as refused:
        wrong.track("u1", "Paid")
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")  # type: ignore[attr-defined]

    client = sdk(write_key, host=server.url, sync_mode=True)
    with pytest.raises(api_error) as invalid:
        client.track("undefined", "Paid")  # a placeholder id the library lets through
    assert invalid.value.status == 400  # type: ignore[attr-defined]
    assert invalid.value.code == "invalid_request"  # type: ignore[attr-defined]
    assert "placeholder" in invalid.value.message  # type: ignore[attr-defined]
    client.track("real-user", "Paid")  # the server is fine, and so is the next call
    assert read(database_url, "events", "list", "--customer", "real-user")
    with pytest.raises(AssertionError, match="no customer 'undefined'"):
        read(database_url, "customers", "get", "undefined")
