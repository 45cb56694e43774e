"""The official Segment and RudderStack Python libraries, unmodified, against a real server.

Every call type goes through the library to a ``patron serve`` process; the
results are read back with the ``patron`` CLI, as an operator would.

How each library cuts its requests (read from its installed source,
``segment/analytics`` 2.4 and ``rudderstack/analytics`` 2.1, ``consumer.py``
and ``client.py``); both measure a call as ``json.dumps`` writes it, with
``", "`` separators and ``\\uXXXX`` for every non-ASCII character:

* segment-analytics-python raises ``RuntimeError`` for a call over 32 KB when
  it is made, and puts up to ``upload_size`` (100) calls in a request, closing
  it once they reach 475,000 bytes: a request stays under 500 KB.
* rudder-sdk-python refuses only calls over 4 MB. It puts up to
  ``upload_size`` (100) calls in a request and closes it once they reach
  4 MiB, so the last call takes the request past 4 MiB.

Both drop a batch answered with a 4xx other than 429, after reporting it to
``on_error``: a refused request loses every call in it.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import rudderstack.analytics.request as rudder_request
import segment.analytics.request as segment_request
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


# -- the largest requests the libraries build ----------------------------------------------

KB = 1024
MESSAGE_LIMIT = 32 * KB  # Patron's, on a call as compact UTF-8 JSON
# The libraries' upload_interval: a request opens when the client starts and
# closes when full or after this long, so that every call made at once is in
# full requests. (Shutting down waits as long for the next, empty, one.)
WINDOW = 3


@dataclass(frozen=True)
class Posted:
    """A request a library posted, as it went: its calls, its JSON's size, the answer."""

    calls: int
    size: int  # bytes, inflated
    status: int


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[Posted]:
    """Every request either library posts, seen on its ``requests`` session (unchanged)."""
    seen: list[Posted] = []
    for module in (segment_request, rudder_request):
        session = module._session  # the module-level session each library posts with
        original = session.post

        def post(url: str, *, _original: Any = original, **kwargs: Any) -> Any:
            data = kwargs["data"]
            zipped = kwargs["headers"].get("Content-Encoding") == "gzip"
            body = gzip.decompress(data) if zipped else data.encode()
            response = _original(url, **kwargs)
            seen.append(Posted(len(json.loads(body)["batch"]), len(body), response.status_code))
            return response

        monkeypatch.setattr(session, "post", post)
    return seen


def library_size(message: dict[str, Any]) -> int:
    """A call's size as both libraries measure it."""
    return len(json.dumps(message, cls=segment_request.DatetimeSerializer).encode())


def patron_size(message: dict[str, Any]) -> int:
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())


# The largest calls each library sends whole requests of. Segment's cannot pass
# 32 KB as it measures them; RudderStack's, at Patron's 32 KB, are 3 MB for 100
# plain ones, and past 4 MiB per request when the text is accented: the library
# counts an "é" as the six bytes of "\\u00e9".
LARGEST = {
    "segment": (SegmentClient, "x" * 32_300),
    "rudderstack-ascii": (RudderClient, "x" * 32_000),
    "rudderstack-accented": (RudderClient, "é" * 16_000),
}


@pytest.mark.parametrize("case", LARGEST.values(), ids=LARGEST.keys())
def test_the_largest_requests_each_library_builds_from_valid_calls_are_stored(
    database_url: str, server: Server, write_key: str, posted: list[Posted], case: tuple[Sdk, str]
) -> None:
    sdk, note = case
    refused: list[tuple[Exception, list[Any]]] = []
    client = sdk(
        write_key,
        host=server.url,
        upload_interval=WINDOW,
        on_error=lambda e, batch: refused.append((e, batch)),
    )
    calls = [client.track("big-user", "Report", {"n": n, "note": note})[1] for n in range(100)]
    client.flush()
    client.shutdown()
    assert refused == []
    assert max(patron_size(call) for call in calls) <= MESSAGE_LIMIT  # each valid for Patron
    assert sum(p.calls for p in posted) == 100
    assert {p.status for p in posted} == {200}
    largest = max(p.size for p in posted)
    if sdk is SegmentClient:
        assert max(library_size(call) for call in calls) <= MESSAGE_LIMIT
        assert 475_000 < largest < 500 * KB
    elif note.isascii():
        assert [p.calls for p in posted] == [100]  # 3 MB in one request
    else:
        assert largest > 4 * KB * KB  # the library's own 4 MiB, passed by its last call
    events = read(database_url, "events", "list", "--customer", "big-user", "--limit", "200")
    assert sorted(e["message_id"] for e in events) == sorted(c["messageId"] for c in calls)


def test_rudderstack_requests_of_more_than_2500_calls_are_stored(
    database_url: str, server: Server, write_key: str, posted: list[Posted]
) -> None:
    # upload_size is the library's option (default 100); 4 MiB holds ~16,000 small calls.
    refused: list[Exception] = []
    client = RudderClient(
        write_key,
        host=server.url,
        upload_size=5_000,
        upload_interval=WINDOW,
        on_error=lambda e, _: refused.append(e),
    )
    for n in range(5_000):
        client.track(f"small-{n % 10}", "Ping")
    client.flush()
    client.shutdown()
    assert refused == []
    assert [(p.calls, p.status) for p in posted] == [(5_000, 200)]
    events = read(database_url, "events", "list", "--customer", "small-0", "--limit", "1000")
    assert len(events) == 500


@pytest.mark.parametrize("sdk", SDKS.values(), ids=SDKS.keys())
def test_a_call_over_32_kb(
    database_url: str, server: Server, write_key: str, posted: list[Posted], sdk: Sdk
) -> None:
    refused: list[tuple[Any, list[Any]]] = []
    client = sdk(
        write_key,
        host=server.url,
        upload_size=3,  # the three calls go in one request
        upload_interval=WINDOW,
        on_error=lambda e, batch: refused.append((e, batch)),
    )
    client.track("neighbour", "Before")
    big = {"note": "x" * MESSAGE_LIMIT}
    if sdk is SegmentClient:  # refused by the library itself, before anything is sent
        with pytest.raises(RuntimeError, match="Message exceeds"):
            client.track("big", "Too Big", big)
        client.track("neighbour", "After")
        client.flush()
        client.shutdown()
        assert refused == []
        assert [(p.calls, p.status) for p in posted] == [(2, 200)]
        events = read(database_url, "events", "list", "--customer", "neighbour")
        assert sorted(e["name"] for e in events) == ["After", "Before"]
        return
    # RudderStack's library sends it (it refuses only calls over 4 MB): the batch
    # is all or nothing, so the server refuses it whole, naming the call, and
    # the library drops all three, reporting them to on_error.
    client.track("big", "Too Big", big)
    client.track("neighbour", "After")
    client.flush()
    client.shutdown()
    assert [(p.calls, p.status) for p in posted] == [(3, 400)]
    [(error, batch)] = refused
    assert (error.status, error.code) == (400, "invalid_request")
    assert error.message == "batch[1]: message is larger than 32 KB"
    assert [call["event"] for call in batch] == ["Before", "Too Big", "After"]
    with pytest.raises(AssertionError, match="no customer 'neighbour'"):
        read(database_url, "customers", "get", "neighbour")
