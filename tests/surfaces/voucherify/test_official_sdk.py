"""The official ``voucherify`` Python SDK (6.1.1), unmodified, against a real server.

Every operation of the Customers API and of the async actions it starts goes
through the SDK to a ``patron serve`` process, as a shop's back office would
call it. What the SDK cannot send (a wrongly typed body, the deprecated
``/activities`` listing, a body past the size limits) goes through ``httpx``.

How the SDK behaves (read from its source, ``voucherify/api/customers_api.py``,
``api_client.py`` and ``exceptions.py``):

* it checks arguments with pydantic before sending anything: ``limit`` outside
  1..100 raises ``pydantic.ValidationError`` with no request made;
* it reads only 2xx answers into its models; any other status raises an
  ``ApiException`` subclass (400 ``BadRequestException``, 401
  ``UnauthorizedException``, 404 ``NotFoundException``, others ``ApiException``)
  carrying ``.status`` and the answer's JSON text in ``.body``;
* it sends date-time query parameters as ``%Y-%m-%dT%H:%M:%S.%f%z``.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
import voucherify
from voucherify.exceptions import (
    ApiException,
    BadRequestException,
    NotFoundException,
    UnauthorizedException,
)

from tests.patron_server import Server, patron_cli, running_server

pytestmark = pytest.mark.server

MB = 1024 * 1024
JOB_TIMEOUT = 60  # seconds an async action may take to finish


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    with running_server(database_url) as running:
        yield running


@dataclass(frozen=True)
class Shop:
    """A workspace's credentials and the SDK's API objects configured with them."""

    url: str
    write_key: str
    app_id: str
    app_token: str
    customers: voucherify.CustomersApi
    actions: voucherify.AsyncActionsApi

    @property
    def headers(self) -> dict[str, str]:
        return {"X-App-Id": self.app_id, "X-App-Token": self.app_token}


def sdk_client(url: str, app_id: str, app_token: str) -> voucherify.ApiClient:
    config = voucherify.Configuration(
        host=url, api_key={"X-App-Id": app_id, "X-App-Token": app_token}
    )
    return voucherify.ApiClient(config)


@pytest.fixture
def shop(database_url: str, server: Server) -> Shop:
    created = json.loads(patron_cli(database_url, "workspace", "create", "shop", "--json"))
    credentials = created["credentials"]
    app_id, app_token = credentials["voucherify_app_id"], credentials["voucherify_app_token"]
    client = sdk_client(server.url, app_id, app_token)
    return Shop(
        url=server.url,
        write_key=credentials["tracking_write_key"],
        app_id=app_id,
        app_token=app_token,
        customers=voucherify.CustomersApi(client),
        actions=voucherify.AsyncActionsApi(client),
    )


def read(database_url: str, *args: str) -> Any:
    return json.loads(patron_cli(database_url, *args, "--workspace", "shop", "--json"))


# -- helpers ---------------------------------------------------------------------------


def new_customer(shop: Shop, **fields: Any) -> voucherify.CustomersCreateResponseBody:
    customer = shop.customers.create_customer(voucherify.CustomersCreateRequestBody(**fields))
    assert customer is not None
    return customer


def error_body(error: ApiException, status: int, key: str) -> dict[str, Any]:
    """The error answer the SDK raised, in Voucherify's shape with this status and key."""
    assert error.status == status, error.body
    assert error.body is not None
    body: dict[str, Any] = json.loads(error.body)
    assert body["code"] == status
    assert body["key"] == key
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["request_id"].startswith("v-")
    return body


def raw_error(response: httpx.Response, status: int, key: str) -> dict[str, Any]:
    """The same, for an answer ``httpx`` received."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert (body["code"], body["key"]) == (status, key)
    assert body["message"]
    return body


def assert_customer_missing(shop: Shop, ref: str) -> dict[str, Any]:
    with pytest.raises(NotFoundException) as missing:
        shop.customers.get_customer(ref)
    body = error_body(missing.value, 404, "not_found")
    assert body["resource_type"] == "customer"
    assert body["resource_id"] == ref
    return body


def track(shop: Shop, user_id: str, event: str, properties: dict[str, Any]) -> None:
    body = {"userId": user_id, "event": event, "properties": properties}
    answer = httpx.post(f"{shop.url}/v1/track", auth=(shop.write_key, ""), json=body)
    assert answer.status_code == 200, answer.text


def wait_until_done(shop: Shop, action_id: str) -> voucherify.AsyncActionGetResponseBody:
    """Poll the async action, as a client would, until it has finished."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        action = shop.actions.get_async_action(action_id)
        assert action is not None
        assert action.id == action_id
        assert action.status in ("ENQUEUED", "IN_PROGRESS", "DONE", "FAILED")
        if action.status in ("DONE", "FAILED"):
            return action
        assert time.monotonic() < deadline, f"{action_id} still {action.status}"
        time.sleep(0.1)


def midpoint(earlier: datetime | None, later: datetime | None) -> datetime:
    assert earlier is not None
    assert later is not None
    assert earlier < later
    return earlier + (later - earlier) / 2


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def ids(customers: list[Any] | None) -> list[str]:
    assert customers is not None
    return [customer.id for customer in customers]


# -- creating, reading, updating, deleting -----------------------------------------------


def test_create_reads_back_and_upserts_by_source_id_and_by_id(shop: Shop) -> None:
    ada = new_customer(
        shop,
        source_id="ada",
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+44 20 7946 0000",
        description="first programmer",
        birthdate=date(1815, 12, 10),
        address=voucherify.CustomersCreateRequestBodyAddress(
            city="London", country="GB", line_1="12 St James's Square", postal_code="SW1Y 4JH"
        ),
        metadata={"plan": "pro", "score": 3},
    )
    assert ada.id is not None
    assert ada.id.startswith("cust_")
    assert (ada.object, ada.source_id, ada.name) == ("customer", "ada", "Ada Lovelace")
    assert (ada.email, ada.phone) == ("ada@example.com", "+44 20 7946 0000")
    assert (ada.description, ada.birthdate) == ("first programmer", date(1815, 12, 10))
    assert ada.address is not None
    assert (ada.address.city, ada.address.country) == ("London", "GB")
    assert (ada.address.line_1, ada.address.postal_code) == ("12 St James's Square", "SW1Y 4JH")
    assert ada.metadata == {"plan": "pro", "score": 3}
    assert ada.created_at is not None
    assert ada.updated_at is not None
    assert ada.summary is not None
    assert ada.referrals is not None
    assert ada.referrals.total == 0

    by_id = shop.customers.get_customer(ada.id)
    by_source_id = shop.customers.get_customer("ada")
    assert by_id.to_dict() == by_source_id.to_dict()
    assert (by_id.id, by_id.source_id, by_id.metadata) == (ada.id, "ada", ada.metadata)
    assert by_id.birthdate == date(1815, 12, 10)

    # The same source_id again: that customer is updated, its metadata merged.
    again = new_customer(
        shop, source_id="ada", name="Ada King", metadata={"score": 4, "plan": None, "team": "x"}
    )
    assert (again.id, again.name, again.email) == (ada.id, "Ada King", "ada@example.com")
    assert again.metadata == {"score": 4, "team": "x"}
    assert again.created_at == ada.created_at

    # By id: the customer with that id, whatever else is sent.
    by_id_again = new_customer(shop, id=ada.id, email="countess@example.com")
    assert (by_id_again.id, by_id_again.source_id) == (ada.id, "ada")
    assert (by_id_again.email, by_id_again.name) == ("countess@example.com", "Ada King")
    assert shop.customers.get_customer("ada").email == "countess@example.com"

    # Neither: a new customer, without a source_id.
    nameless = new_customer(shop, name="Walk-in")
    assert nameless.id not in (None, ada.id)
    assert nameless.source_id is None
    assert shop.customers.get_customer(str(nameless.id)).name == "Walk-in"

    # An id that does not exist is not created.
    with pytest.raises(NotFoundException) as unknown:
        new_customer(shop, id="cust_doesnotexist", name="Ghost")
    assert error_body(unknown.value, 404, "not_found")["resource_type"] == "customer"
    assert shop.customers.list_customers().total == 2


def test_update_replaces_fields_merges_metadata_and_never_creates(shop: Shop) -> None:
    grace = new_customer(
        shop,
        source_id="grace",
        name="Grace Hopper",
        email="grace@example.com",
        phone="555-0100",
        birthdate=date(1906, 12, 9),
        address=voucherify.CustomersCreateRequestBodyAddress(city="New York", country="US"),
        metadata={"rank": "captain", "ship": "Harvard Mark I"},
    )
    assert grace.id is not None
    time.sleep(0.01)
    changes = voucherify.CustomersUpdateRequestBody(
        name="Rear Admiral Hopper",
        phone=None,  # null clears the field
        birthdate=date(1906, 12, 10),
        address=voucherify.CustomersUpdateRequestBodyAddress(city="Arlington"),
        metadata={"rank": "rear admiral", "ship": None, "navy": True},
    )
    updated = shop.customers.update_customer(grace.id, changes)
    assert (updated.id, updated.source_id) == (grace.id, "grace")
    assert (updated.name, updated.email, updated.phone) == (
        "Rear Admiral Hopper",
        "grace@example.com",  # not sent: unchanged
        None,
    )
    assert updated.birthdate == date(1906, 12, 10)
    assert updated.address is not None
    assert updated.address.city == "Arlington"
    assert updated.metadata == {"rank": "rear admiral", "navy": True}
    assert updated.created_at == grace.created_at
    assert updated.updated_at is not None
    assert grace.updated_at is not None
    assert updated.updated_at > grace.updated_at
    assert shop.customers.get_customer(grace.id).to_dict() == updated.to_dict()

    # By source_id too.
    by_source_id = shop.customers.update_customer(
        "grace", voucherify.CustomersUpdateRequestBody(email="hopper@navy.example")
    )
    assert by_source_id.id == grace.id
    assert shop.customers.get_customer(grace.id).email == "hopper@navy.example"
    assert shop.customers.get_customer(grace.id).metadata == {"rank": "rear admiral", "navy": True}

    # An unknown customer is not created by an update.
    with pytest.raises(NotFoundException) as unknown:
        shop.customers.update_customer(
            "nobody", voucherify.CustomersUpdateRequestBody(name="Nobody")
        )
    body = error_body(unknown.value, 404, "not_found")
    assert (body["resource_type"], body["resource_id"]) == ("customer", "nobody")
    assert_customer_missing(shop, "nobody")
    assert shop.customers.list_customers().total == 1


def test_delete_answers_204_then_404_and_frees_the_source_id(shop: Shop) -> None:
    gone = new_customer(shop, source_id="gone", name="Gone Soon", metadata={"secret": "s"})
    kept = new_customer(shop, source_id="kept")
    assert gone.id is not None
    answer = shop.customers.delete_customer_with_http_info(gone.id)
    assert answer.status_code == 204
    assert answer.data is None
    assert answer.raw_data == b""

    assert_customer_missing(shop, gone.id)
    assert_customer_missing(shop, "gone")
    listed = shop.customers.list_customers()
    assert (ids(listed.customers), listed.total) == ([kept.id], 1)
    with pytest.raises(NotFoundException):
        shop.customers.delete_customer(gone.id)
    with pytest.raises(NotFoundException):
        shop.customers.update_customer(gone.id, voucherify.CustomersUpdateRequestBody(name="x"))

    # The source_id is free again: a new customer, with nothing of the old one.
    back = new_customer(shop, source_id="gone", name="Someone Else")
    assert back.id not in (None, gone.id)
    assert back.metadata in ({}, None)
    assert shop.customers.get_customer("gone").id == back.id
    assert shop.customers.list_customers().total == 2


def test_permanent_deletion_erases_the_customer_and_their_events(
    database_url: str, shop: Shop
) -> None:
    erased = new_customer(shop, source_id="erase-me", email="erase@example.com")
    assert erased.id is not None
    track(shop, "erase-me", "Order Completed", {"total": 10})
    track(shop, "erase-me", "Order Refunded", {"total": 10})
    assert len(read(database_url, "events", "list", "--customer", "erase-me")) == 2
    activity = shop.customers.list_customer_activity(erased.id, limit=100).data or []
    assert len(activity) == 3  # created, and the two events tracked

    report = shop.customers.customer_permanently_deletion(erased.id)
    assert report.id is not None
    assert report.id.startswith("del_")
    assert report.created_at is not None
    assert (report.related_object_id, report.related_object) == (erased.id, "customer")
    assert (report.status, report.object) == ("DONE", "pernament_deletion")  # sic
    counts = report.data_json
    assert counts is not None
    assert (counts.events, counts.customer) == (2, 1)
    assert counts.customer_events == len(activity)
    assert (counts.daily_events, counts.orders, counts.order_events) == (0, 0, 0)
    assert counts.segments == 0

    assert_customer_missing(shop, erased.id)
    assert_customer_missing(shop, "erase-me")
    with pytest.raises(NotFoundException):
        shop.customers.list_customer_activity(erased.id)
    assert shop.customers.list_customers().total == 0

    # The same user tracked again starts from nothing: a new customer, one event.
    track(shop, "erase-me", "Signed Up", {})
    assert shop.customers.get_customer("erase-me").id != erased.id
    events = read(database_url, "events", "list", "--customer", "erase-me")
    assert [event["name"] for event in events] == ["Signed Up"]

    # A customer already deleted can still be erased, by its id.
    deleted = new_customer(shop, source_id="deleted-first")
    assert deleted.id is not None
    shop.customers.delete_customer(deleted.id)
    second = shop.customers.customer_permanently_deletion(deleted.id)
    assert (second.related_object_id, second.status) == (deleted.id, "DONE")
    assert_customer_missing(shop, deleted.id)


# -- listing -----------------------------------------------------------------------------


def make_five(shop: Shop) -> list[voucherify.CustomersCreateResponseBody]:
    """Five customers, created apart in time; a longer pause after the second."""
    people = [
        ("list-c", "Ada", "ada@example.com", "London"),
        ("list-a", "Bob", "bob@example.com", "Paris"),
        ("list-d", "Ada", "ada2@example.com", "London"),
        ("list-b", "Cy", None, "Berlin"),
        ("list-e", None, None, None),
    ]
    made = []
    for n, (source_id, name, email, city) in enumerate(people):
        address = voucherify.CustomersCreateRequestBodyAddress(city=city) if city else None
        made.append(
            new_customer(shop, source_id=source_id, name=name, email=email, address=address)
        )
        time.sleep(0.2 if n == 1 else 0.02)
    return made


def test_list_customers_pages_filters_and_orders(shop: Shop) -> None:
    c1, c2, c3, c4, c5 = made = make_five(shop)
    newest_first = [c.id for c in reversed(made)]
    first = shop.customers.list_customers()
    assert (first.object, first.data_ref) == ("list", "customers")
    assert (ids(first.customers), first.total, first.has_more) == (newest_first, 5, False)
    assert first.customers is not None
    assert first.customers[4].source_id == "list-c"
    assert first.customers[4].address is not None
    assert first.customers[4].address.city == "London"

    pages = [shop.customers.list_customers(limit=2, page=page) for page in (1, 2, 3)]
    assert [ids(p.customers) for p in pages] == [newest_first[:2], newest_first[2:4], [c1.id]]
    assert [(p.total, p.has_more) for p in pages] == [(5, True), (5, True), (5, False)]

    by_email = shop.customers.list_customers(email="ada@example.com")
    assert (ids(by_email.customers), by_email.total) == ([c1.id], 1)
    by_name = shop.customers.list_customers(name="Ada")
    assert (sorted(ids(by_name.customers)), by_name.total) == (sorted([c1.id, c3.id]), 2)
    by_city = shop.customers.list_customers(city="London", limit=1)
    assert (ids(by_city.customers), by_city.total, by_city.has_more) == ([c3.id], 2, True)
    nobody = shop.customers.list_customers(email="nobody@example.com")
    assert (nobody.customers, nobody.total, nobody.has_more) == ([], 0, False)

    order = voucherify.ParameterOrderListCustomers
    by_source = shop.customers.list_customers(order=order.SOURCE_ID)
    assert [c.source_id for c in by_source.customers or []] == [
        "list-a",
        "list-b",
        "list-c",
        "list-d",
        "list-e",
    ]
    by_source_desc = shop.customers.list_customers(order=order.MINUS_SOURCE_ID)
    assert ids(by_source_desc.customers) == list(reversed(ids(by_source.customers)))
    oldest_first = shop.customers.list_customers(order=order.CREATED_AT)
    assert ids(oldest_first.customers) == [c.id for c in made]
    newest = shop.customers.list_customers(order=order.MINUS_CREATED_AT)
    assert ids(newest.customers) == newest_first

    check_date_filters(shop, made)
    assert c4.id is not None
    shop.customers.delete_customer(c4.id)
    after_delete = shop.customers.list_customers()
    assert (after_delete.total, c4.id in ids(after_delete.customers)) == (4, False)
    assert c2.id in ids(after_delete.customers)
    assert c5.id in ids(after_delete.customers)


def check_date_filters(shop: Shop, made: list[voucherify.CustomersCreateResponseBody]) -> None:
    c1, c2, c3, c4, c5 = made
    order = voucherify.ParameterOrderListCustomers.CREATED_AT
    cut = midpoint(c2.created_at, c3.created_at)
    after = shop.customers.list_customers(created_at_after=cut, order=order)
    assert (ids(after.customers), after.total) == ([c3.id, c4.id, c5.id], 3)
    before = shop.customers.list_customers(created_at_before=cut, order=order)
    assert (ids(before.customers), before.total) == ([c1.id, c2.id], 2)
    window = shop.customers.list_customers(
        created_at_after=midpoint(c1.created_at, c2.created_at),
        created_at_before=midpoint(c3.created_at, c4.created_at),
        order=order,
    )
    assert ids(window.customers) == [c2.id, c3.id]

    time.sleep(0.1)
    assert c2.id is not None
    bobby = shop.customers.update_customer(
        c2.id, voucherify.CustomersUpdateRequestBody(name="Bobby")
    )
    changed = midpoint(c5.updated_at, bobby.updated_at)
    recently = shop.customers.list_customers(updated_at_after=changed)
    assert (ids(recently.customers), recently.total) == ([c2.id], 1)
    earlier = shop.customers.list_customers(updated_at_before=changed, order=order)
    assert ids(earlier.customers) == [c1.id, c3.id, c4.id, c5.id]
    by_update = voucherify.ParameterOrderListCustomers
    latest = shop.customers.list_customers(order=by_update.MINUS_UPDATED_AT, limit=1)
    assert ids(latest.customers) == [c2.id]
    oldest = shop.customers.list_customers(order=by_update.UPDATED_AT)
    assert ids(oldest.customers)[-1] == c2.id


def walk(shop: Shop, order: voucherify.ParameterOrderListCustomers) -> list[str]:
    """Every customer, three at a time, each page starting after the last one's created_at."""
    seen: list[str] = []
    cursor: datetime | None = None
    for _ in range(10):
        page = shop.customers.list_customers(limit=3, order=order, starting_after=cursor)
        assert page.customers is not None
        seen.extend(ids(page.customers))
        if not page.has_more:
            return seen
        assert len(page.customers) == 3
        cursor = page.customers[-1].created_at
    raise AssertionError(f"still has_more after ten pages: {seen}")


def test_list_customers_walks_with_the_starting_after_cursor(shop: Shop) -> None:
    made = []
    for n in range(8):
        made.append(new_customer(shop, source_id=f"walk-{n}", metadata={"n": n}))
        time.sleep(0.005)  # created_at is the cursor: keep them apart
    in_order = [c.id for c in made]
    order = voucherify.ParameterOrderListCustomers
    assert walk(shop, order.CREATED_AT) == in_order
    assert walk(shop, order.MINUS_CREATED_AT) == list(reversed(in_order))
    # Starting after the fourth, in each direction.
    fourth = made[3].created_at
    later = shop.customers.list_customers(order=order.CREATED_AT, starting_after=fourth)
    assert ids(later.customers) == in_order[4:]
    earlier = shop.customers.list_customers(order=order.MINUS_CREATED_AT, starting_after=fourth)
    assert ids(earlier.customers) == list(reversed(in_order[:3]))


def test_page_sizes_are_enforced_by_the_sdk_and_by_the_server(shop: Shop) -> None:
    new_customer(shop, source_id="only")
    for limit in (0, 101):  # the SDK refuses them before sending anything
        with pytest.raises(pydantic.ValidationError):
            shop.customers.list_customers(limit=limit)
    with pytest.raises(pydantic.ValidationError):
        shop.customers.list_customers(page=0)
    full = shop.customers.list_customers(limit=100)
    assert (len(full.customers or []), full.total, full.has_more) == (1, 1, False)

    # What the SDK would not send, the server refuses too.
    for query in ("limit=101", "limit=0", "limit=ten", "page=0", "order=email"):
        answer = httpx.get(f"{shop.url}/v1/customers?{query}", headers=shop.headers)
        body = raw_error(answer, 400, "invalid_query_params")
        assert body["details"], query
    answer = httpx.get(f"{shop.url}/v1/customers?limit=100", headers=shop.headers)
    assert answer.status_code == 200
    assert answer.json()["total"] == 1


# -- activity ----------------------------------------------------------------------------


def test_customer_activity_records_changes_and_tracked_events(shop: Shop) -> None:
    kim = new_customer(shop, source_id="kim", name="Kim")
    assert kim.id is not None
    time.sleep(0.1)
    shop.customers.update_customer("kim", voucherify.CustomersUpdateRequestBody(name="Kimberly"))
    time.sleep(0.1)
    track(shop, "kim", "Order Completed", {"total": 42.5})
    time.sleep(0.02)
    track(shop, "kim", "Order Shipped", {"carrier": "post"})

    everything = shop.customers.list_customer_activity(kim.id, limit=100)
    assert (everything.object, everything.data_ref, everything.has_more) == ("list", "data", False)
    items = everything.data or []
    assert [a.type for a in items] == [
        "customer.custom_event",
        "customer.custom_event",
        "customer.updated",
        "customer.created",
    ]  # newest first
    assert len({a.id for a in items}) == 4
    assert all(a.created_at is not None for a in items)
    shipped, completed = items[0].data or {}, items[1].data or {}
    assert shipped["event"]["type"] == "track"
    assert shipped["event"]["name"] == "Order Shipped"
    assert completed["event"]["name"] == "Order Completed"
    assert completed["event"]["properties"] == {"total": 42.5}
    assert completed["event"]["message_id"]
    by_source_id = shop.customers.list_customer_activity("kim", limit=100)
    assert [a.id for a in by_source_id.data or []] == [a.id for a in items]

    oldest_first = shop.customers.list_customer_activity(
        kim.id, order=voucherify.ParameterOrderCreatedAt.CREATED_AT
    )
    assert [a.id for a in oldest_first.data or []] == [a.id for a in reversed(items)]

    # One at a time, following more_starting_after.
    walked: list[str | None] = []
    cursor: str | None = None
    for _ in range(6):
        page = shop.customers.list_customer_activity(kim.id, limit=1, starting_after_id=cursor)
        walked.extend(a.id for a in page.data or [])
        if not page.has_more:
            assert page.more_starting_after is None
            break
        assert page.more_starting_after == walked[-1]
        cursor = page.more_starting_after
    assert walked == [a.id for a in items]

    check_activity_filters(shop, kim.id, items)


def check_activity_filters(shop: Shop, customer_id: str, items: list[Any]) -> None:
    """``items``: the customer's activity, newest first (two events, updated, created)."""
    created, updated = items[3], items[2]
    since_update = midpoint(created.created_at, updated.created_at)
    recent = shop.customers.list_customer_activity(customer_id, start_date=since_update)
    assert [a.id for a in recent.data or []] == [a.id for a in items[:3]]
    before = shop.customers.list_customer_activity(customer_id, end_date=since_update)
    assert [a.type for a in before.data or []] == ["customer.created"]
    window = shop.customers.list_customer_activity(
        customer_id,
        start_date=since_update,
        end_date=midpoint(updated.created_at, items[1].created_at),
    )
    assert [a.type for a in window.data or []] == ["customer.updated"]
    events = shop.customers.list_customer_activity(
        customer_id, type=voucherify.ParameterCustomerEvent.CUSTOMER_DOT_CUSTOM_EVENT
    )
    assert [a.id for a in events.data or []] == [items[0].id, items[1].id]
    with pytest.raises(NotFoundException) as unknown:
        shop.customers.list_customer_activity("nobody")
    assert error_body(unknown.value, 404, "not_found")["resource_type"] == "customer"


def test_deprecated_activities_listing_serves_the_same_items(shop: Shop) -> None:
    lin = new_customer(shop, source_id="lin", name="Lin")
    assert lin.id is not None
    time.sleep(0.1)
    shop.customers.update_customer("lin", voucherify.CustomersUpdateRequestBody(name="Lin Yu"))
    time.sleep(0.1)
    track(shop, "lin", "Viewed Product", {"sku": "A-1"})
    current = shop.customers.list_customer_activity(lin.id, limit=100).data or []
    assert len(current) == 3

    url = f"{shop.url}/v1/customers/{lin.id}/activities"
    answer = httpx.get(url, headers=shop.headers)
    assert answer.status_code == 200, answer.text
    listing = answer.json()
    assert (listing["object"], listing["data_ref"]) == ("list", "data")
    assert (listing["total"], listing["has_more"]) == (3, False)
    assert [a["id"] for a in listing["data"]] == [a.id for a in current]
    assert [a["type"] for a in listing["data"]] == [a.type for a in current]

    first_two = httpx.get(url, headers=shop.headers, params={"limit": 2}).json()
    assert (len(first_two["data"]), first_two["total"], first_two["has_more"]) == (2, 3, True)

    created, updated = current[2], current[1]
    cut = iso(midpoint(created.created_at, updated.created_at))
    later = httpx.get(
        url, headers=shop.headers, params={"order": "created_at", "starting_after": cut}
    ).json()
    assert [a["type"] for a in later["data"]] == ["customer.updated", "customer.custom_event"]

    by_source_id = httpx.get(f"{shop.url}/v1/customers/lin/activities", headers=shop.headers)
    assert [a["id"] for a in by_source_id.json()["data"]] == [a.id for a in current]
    missing = httpx.get(f"{shop.url}/v1/customers/nobody/activities", headers=shop.headers)
    raw_error(missing, 404, "not_found")


def test_redeemables_are_an_empty_list(shop: Shop) -> None:
    max_ = new_customer(shop, source_id="max")
    assert max_.id is not None
    for ref in (max_.id, "max"):
        redeemables = shop.customers.list_customer_redeemables(ref)
        assert (redeemables.object, redeemables.data_ref) == ("list", "data")
        assert (redeemables.data, redeemables.total, redeemables.has_more) == ([], 0, False)
    filtered = shop.customers.list_customer_redeemables(
        max_.id, limit=5, filters=voucherify.ParameterFiltersListCustomerRedeemables()
    )
    assert (filtered.data, filtered.total) == ([], 0)
    with pytest.raises(NotFoundException) as unknown:
        shop.customers.list_customer_redeemables("nobody")
    assert error_body(unknown.value, 404, "not_found")["resource_id"] == "nobody"


# -- async actions -----------------------------------------------------------------------


def test_csv_import_creates_updates_and_reports_each_row(shop: Shop, tmp_path: Path) -> None:
    existing = new_customer(
        shop, source_id="csv-existing", name="Old Name", metadata={"keep": "yes"}
    )
    path = tmp_path / "customers.csv"
    path.write_text(
        "Source_id,Name,EMAIL,Birthdate,Address_City,address_country,Description,Loyalty_Tier\n"
        "csv-1,Ada Lovelace,ada@example.com,1815-12-10,London,GB,first,gold\n"
        "csv-2,Alan Turing,alan@example.com,,Manchester,GB,,silver\n"
        "csv-existing,New Name,old@example.com,,,,,\n"
        "csv-bad,Bad Row,bad@example.com,not-a-date,,,,bronze\n",
        encoding="utf-8",
    )
    accepted = shop.customers.import_customers_using_csv(file=str(path))
    assert accepted.async_action_id is not None
    assert accepted.async_action_id.startswith("aa_")

    action = wait_until_done(shop, accepted.async_action_id)
    assert (action.type, action.status, action.progress) == ("CUSTOMERS_IMPORT_CSV", "DONE", 100)
    assert action.object == "async_action"
    assert action.created_at is not None
    assert action.result is not None
    result = action.result
    assert (result["count"], result["done_count"], result["failed_count"]) == (4, 3, 1)
    rows = result["results"]
    assert [(r["row"], r["status"], r["source_id"]) for r in rows] == [
        (0, "CREATED", "csv-1"),
        (1, "CREATED", "csv-2"),
        (2, "UPDATED", "csv-existing"),
        (3, "FAILED", "csv-bad"),
    ]
    assert [r["found"] for r in rows[:3]] == [False, False, True]
    assert rows[2]["updated"] is True
    assert rows[2]["id"] == existing.id
    assert rows[3]["id"] is None
    assert "birthdate" in rows[3]["reason"].lower()
    assert all("reason" not in r or not r["reason"] for r in rows[:3])

    ada = shop.customers.get_customer("csv-1")
    assert ada.id == rows[0]["id"]
    assert (ada.name, ada.email, ada.birthdate) == (
        "Ada Lovelace",
        "ada@example.com",
        date(1815, 12, 10),
    )
    assert ada.description == "first"
    assert ada.address is not None
    assert (ada.address.city, ada.address.country) == ("London", "GB")
    assert ada.metadata == {"Loyalty_Tier": "gold"}  # an unknown column is metadata
    alan = shop.customers.get_customer("csv-2")
    assert (alan.id, alan.name, alan.birthdate) == (rows[1]["id"], "Alan Turing", None)
    assert alan.metadata == {"Loyalty_Tier": "silver"}
    updated = shop.customers.get_customer("csv-existing")
    assert (updated.id, updated.name, updated.email) == (
        existing.id,
        "New Name",
        "old@example.com",
    )
    assert updated.metadata is not None
    assert updated.metadata["keep"] == "yes"
    assert_customer_missing(shop, "csv-bad")
    assert shop.customers.list_customers().total == 3


def test_bulk_updates_run_as_async_actions(shop: Shop) -> None:
    one = new_customer(shop, source_id="b-1", name="Bee", metadata={"a": "1"})
    new_customer(shop, source_id="b-2", email="b2@example.com")
    items = [
        voucherify.CustomersUpdateInBulkRequestBody(
            source_id="b-1", name="Bee One", metadata={"tier": "gold"}
        ),
        voucherify.CustomersUpdateInBulkRequestBody(
            source_id="b-2",
            phone="555-0199",
            address=voucherify.CustomersUpdateInBulkRequestBodyAddress(city="Oslo"),
        ),
    ]
    bulk = shop.customers.update_customers_in_bulk(items)
    assert bulk.async_action_id is not None
    done = wait_until_done(shop, bulk.async_action_id)
    assert (done.type, done.status, done.progress) == ("CUSTOMERS_BULK_UPDATE", "DONE", 100)
    assert done.result is not None
    assert (done.result["count"], done.result["failed_count"]) == (2, 0)
    statuses = [(r["source_id"], r["status"]) for r in done.result["results"]]
    assert statuses == [("b-1", "UPDATED"), ("b-2", "UPDATED")]
    bee = shop.customers.get_customer("b-1")
    assert (bee.id, bee.name, bee.metadata) == (one.id, "Bee One", {"a": "1", "tier": "gold"})
    b2 = shop.customers.get_customer("b-2")
    assert (b2.phone, b2.email) == ("555-0199", "b2@example.com")
    assert b2.address is not None
    assert b2.address.city == "Oslo"
    types = [a.type for a in shop.customers.list_customer_activity("b-1").data or []]
    assert types[0] == "customer.updated"

    body = voucherify.CustomersMetadataUpdateInBulkRequestBody(
        source_ids=["b-1", "b-2"], metadata={"newsletter": True, "a": "2"}
    )
    meta = shop.customers.update_customers_metadata_in_bulk(body)
    assert meta.async_action_id is not None
    meta_done = wait_until_done(shop, meta.async_action_id)
    assert (meta_done.type, meta_done.status) == ("CUSTOMERS_METADATA_UPDATE", "DONE")
    assert meta_done.result is not None
    assert meta_done.result["failed_count"] == 0
    assert shop.customers.get_customer("b-1").metadata == {
        "a": "2",
        "tier": "gold",
        "newsletter": True,
    }
    assert shop.customers.get_customer("b-2").metadata == {"newsletter": True, "a": "2"}

    check_async_action_listing(shop, [bulk.async_action_id, meta.async_action_id])


def check_async_action_listing(shop: Shop, action_ids: list[str]) -> None:
    listed = shop.actions.list_async_actions()
    assert (listed.object, listed.data_ref, listed.has_more) == ("list", "async_actions", False)
    actions = {a.id: a for a in listed.async_actions or []}
    assert set(actions) == set(action_ids)
    assert actions[action_ids[0]].type == "CUSTOMERS_BULK_UPDATE"
    assert actions[action_ids[1]].type == "CUSTOMERS_METADATA_UPDATE"
    assert {a.status for a in actions.values()} == {"DONE"}
    one = shop.actions.list_async_actions(limit=1)
    assert (len(one.async_actions or []), one.has_more) == (1, True)
    first_created = actions[action_ids[0]].created_at
    assert first_created is not None
    none_yet = shop.actions.list_async_actions(end_date=first_created - timedelta(seconds=5))
    assert (none_yet.async_actions, none_yet.has_more) == ([], False)
    raw = httpx.get(f"{shop.url}/v1/async-actions", headers=shop.headers).json()
    assert all("result" not in action for action in raw["async_actions"])

    with pytest.raises(NotFoundException) as unknown:
        shop.actions.get_async_action("aa_doesnotexist")
    body = error_body(unknown.value, 404, "not_found")
    assert (body["resource_type"], body["resource_id"]) == ("async_action", "aa_doesnotexist")

    # A bulk update with one bad item is refused whole, naming the item: no job, no change.
    bad = [
        voucherify.CustomersUpdateInBulkRequestBody(source_id="b-1", name="Changed"),
        voucherify.CustomersUpdateInBulkRequestBody(name="no source_id"),
    ]
    with pytest.raises(BadRequestException) as refused:
        shop.customers.update_customers_in_bulk(bad)
    error_body(refused.value, 400, "invalid_payload")
    assert "[1]" in str(refused.value.body)  # the item at fault
    assert len(shop.actions.list_async_actions().async_actions or []) == 2
    assert shop.customers.get_customer("b-1").name == "Bee One"


# -- errors ------------------------------------------------------------------------------


def test_wrong_credentials_are_unauthorized(shop: Shop) -> None:
    new_customer(shop, source_id="private")
    for app_id, token in ((shop.app_id, "wrong-token"), ("wrong-id", shop.app_token)):
        client = sdk_client(shop.url, app_id, token)
        with pytest.raises(UnauthorizedException) as refused:
            voucherify.CustomersApi(client).get_customer("private")
        error_body(refused.value, 401, "unauthorized")
        with pytest.raises(UnauthorizedException):
            voucherify.CustomersApi(client).list_customers()
        with pytest.raises(UnauthorizedException):
            voucherify.AsyncActionsApi(client).list_async_actions()
        with pytest.raises(UnauthorizedException):
            voucherify.CustomersApi(client).create_customer(
                voucherify.CustomersCreateRequestBody(source_id="intruder")
            )
    # No credentials at all, and the tracking write key in their place.
    raw_error(httpx.get(f"{shop.url}/v1/customers"), 401, "unauthorized")
    as_write_key = {"X-App-Id": shop.write_key, "X-App-Token": shop.write_key}
    raw_error(httpx.get(f"{shop.url}/v1/customers", headers=as_write_key), 401, "unauthorized")
    assert_customer_missing(shop, "intruder")
    assert shop.customers.list_customers().total == 1


BAD_BODIES: list[Any] = [
    {"source_id": "keep", "email": 5},
    {"source_id": "keep", "name": ["Keep"]},
    {"source_id": "keep", "birthdate": "not-a-date"},
    {"source_id": "keep", "metadata": ["not", "an", "object"]},
    {"source_id": "keep", "address": "Main Street 1"},
    {"source_id": "keep", "favourite_colour": "red"},
    {"source_id": 7},
    ["not", "an", "object"],
]


def test_bad_bodies_are_refused_with_400_and_change_nothing(shop: Shop) -> None:
    keep = new_customer(shop, source_id="keep", email="keep@example.com", metadata={"k": 1})
    before = shop.customers.get_customer("keep").to_dict()
    create, update = f"{shop.url}/v1/customers", f"{shop.url}/v1/customers/keep"
    for body in BAD_BODIES:
        refused = httpx.post(create, headers=shop.headers, json=body)
        assert raw_error(refused, 400, "invalid_payload")["details"], body
        changes = dict(body) if isinstance(body, dict) else {}
        changes.pop("source_id", None)
        if changes:  # the same change as an update
            refused = httpx.put(update, headers=shop.headers, json=changes)
            raw_error(refused, 400, "invalid_payload")
    for text in ("{", "null", '{"email": "a@b.example"'):
        headers = {**shop.headers, "Content-Type": "application/json"}
        refused = httpx.post(create, headers=headers, content=text)
        raw_error(refused, 400, "invalid_payload")
    fresh = httpx.post(create, headers=shop.headers, json={"source_id": "fresh", "email": 5})
    raw_error(fresh, 400, "invalid_payload")

    assert shop.customers.get_customer("keep").to_dict() == before
    assert_customer_missing(shop, "fresh")
    listed = shop.customers.list_customers()
    assert (ids(listed.customers), listed.total) == ([keep.id], 1)
    assert [a.type for a in shop.customers.list_customer_activity("keep").data or []] == [
        "customer.created"
    ]
    # The server is fine, and so is the next request.
    good = httpx.put(update, headers=shop.headers, json={"email": "kept@example.com"})
    assert good.status_code == 200, good.text
    assert shop.customers.get_customer("keep").email == "kept@example.com"


def big_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Source_id", "Name", "Description"])
    n = 0
    while out.tell() < 10.5 * MB:
        writer.writerow([f"big-{n}", f"Customer {n}", "x" * 1000])
        n += 1
    return out.getvalue().encode()


def test_bodies_over_10_mb_are_refused_with_413(shop: Shop) -> None:
    data = big_csv()
    assert len(data) > 10.5 * MB
    refused = httpx.post(
        f"{shop.url}/v1/customers/importCSV",
        headers=shop.headers,
        files={"file": ("big.csv", data, "text/csv")},
        timeout=60,
    )
    raw_error(refused, 413, "request_too_large")

    items = [
        voucherify.CustomersUpdateInBulkRequestBody(source_id=f"big-{n}", description="x" * 1000)
        for n in range(11_000)
    ]
    with pytest.raises(ApiException) as too_large:
        shop.customers.update_customers_in_bulk(items)
    error_body(too_large.value, 413, "request_too_large")

    assert shop.actions.list_async_actions().async_actions == []
    assert shop.customers.list_customers().total == 0
    # A small file right after is fine.
    small = b"Source_id,Name\nsmall-1,Small\n"
    accepted = httpx.post(
        f"{shop.url}/v1/customers/importCSV",
        headers=shop.headers,
        files={"file": ("small.csv", small, "text/csv")},
    )
    assert accepted.status_code == 202, accepted.text
    action = wait_until_done(shop, accepted.json()["async_action_id"])
    assert action.status == "DONE"
    assert shop.customers.get_customer("small-1").name == "Small"


# -- the tracking API and the customers API are one model -------------------------------


def test_an_identified_user_is_a_customer_with_traits_as_metadata(shop: Shop) -> None:
    traits = {"email": "ada@example.com", "name": "Ada Lovelace", "plan": "pro"}
    identified = httpx.post(
        f"{shop.url}/v1/identify",
        auth=(shop.write_key, ""),
        json={"userId": "user-42", "traits": traits},
    )
    assert identified.status_code == 200, identified.text

    ada = shop.customers.get_customer("user-42")
    assert ada.id is not None
    assert ada.id.startswith("cust_")
    assert (ada.source_id, ada.email, ada.name) == ("user-42", "ada@example.com", "Ada Lovelace")
    assert ada.metadata == {"plan": "pro"}
    found = shop.customers.list_customers(email="ada@example.com")
    assert ids(found.customers) == [ada.id]
    activity = shop.customers.list_customer_activity(ada.id).data or []
    assert "customer.created" in [a.type for a in activity]
    identify = [a for a in activity if a.type == "customer.custom_event"]
    assert [(a.data or {})["event"]["type"] for a in identify] == ["identify"]

    # And back: what the customers API changes is the same customer for the tracking API.
    shop.customers.update_customer(
        "user-42", voucherify.CustomersUpdateRequestBody(metadata={"plan": "enterprise"})
    )
    track(shop, "user-42", "Upgraded", {"to": "enterprise"})
    same = shop.customers.get_customer("user-42")
    assert (same.id, same.metadata, same.email) == (ada.id, {"plan": "enterprise"}, ada.email)
    names = [
        (a.data or {})["event"]["name"]
        for a in shop.customers.list_customer_activity(ada.id).data or []
        if a.type == "customer.custom_event" and (a.data or {})["event"]["type"] == "track"
    ]
    assert names == ["Upgraded"]


def test_segments_follow_their_filters_through_the_sdk(shop: Shop) -> None:
    segments = voucherify.SegmentsApi(shop.customers.api_client)
    gold = new_customer(shop, source_id="gold-1", metadata={"tier": "gold"})
    new_customer(shop, source_id="plain-1")

    created = segments.create_segment(
        voucherify.SegmentsCreateRequestBody(
            name="Gold",
            type="auto-update",
            filter={"junction": "and", "metadata.tier": {"conditions": {"$is": ["gold"]}}},
        )
    )
    assert (created.type, created.object, created.initial_sync_status) == (
        "auto-update",
        "segment",
        "DONE",
    )
    static = segments.create_segment(
        voucherify.SegmentsCreateRequestBody(name="Picked", type="static", customers=["plain-1"])
    )
    fetched = segments.get_segment(created.id)
    assert (fetched.name, fetched.filter) == ("Gold", created.filter)

    in_gold = shop.customers.list_customers(segment_id=created.id)
    assert [c.source_id for c in in_gold.customers or []] == ["gold-1"]
    mine = shop.customers.list_customer_segments(gold.id)
    assert [(s.id, s.name, s.object) for s in mine.data or []] == [(created.id, "Gold", "segment")]
    # A customer Patron does not know would be in no filter segment here.
    assert shop.customers.list_customer_segments("stranger").total == 0

    # A tracked trait change moves the customer in, with the activity record.
    response = httpx.post(
        f"{shop.url}/v1/identify",
        auth=(shop.write_key, ""),
        json={"userId": "plain-1", "traits": {"tier": "gold"}},
    )
    assert response.status_code == 200, response.text
    in_gold = shop.customers.list_customers(segment_id=created.id, order="source_id")
    assert [c.source_id for c in in_gold.customers or []] == ["gold-1", "plain-1"]
    activity = shop.customers.list_customer_activity("plain-1", type="customer.segment.entered")
    assert [a.data["segment"]["id"] for a in activity.data or []] == [created.id]

    listed = httpx.get(f"{shop.url}/v1/segments", headers=shop.headers).json()
    assert [s["id"] for s in listed["data"]] == [created.id, static.id]
    bad = httpx.post(
        f"{shop.url}/v1/segments",
        headers=shop.headers,
        json={"name": "Bad", "type": "auto-update", "filter": {"colour": {"conditions": {}}}},
    )
    raw_error(bad, 400, "invalid_payload")
    segments.delete_segment(created.id)
    with pytest.raises(NotFoundException) as missing:
        segments.get_segment(created.id)
    assert error_body(missing.value, 404, "not_found")["resource_type"] == "segment"


def test_behaviour_and_identity_segments_through_the_sdk(shop: Shop) -> None:
    segments = voucherify.SegmentsApi(shop.customers.api_client)
    buyers = segments.create_segment(
        voucherify.SegmentsCreateRequestBody(
            name="Two orders this week",
            type="auto-update",
            filter={"events.Order Completed": {"conditions": {"$more_than_equal": [2]}, "days": 7}},
        )
    )
    web = segments.create_segment(
        voucherify.SegmentsCreateRequestBody(
            name="Seen on the web",
            type="passive",
            filter={"identities.anonymous_id": {"conditions": {"$starts_with": ["web-"]}}},
        )
    )
    for _ in range(2):
        track(shop, "buyer", "Order Completed", {"total": 10})
    track(shop, "window-shopper", "Order Completed", {"total": 10})
    page = {"userId": "window-shopper", "anonymousId": "web-42", "name": "Home"}
    seen = httpx.post(f"{shop.url}/v1/page", auth=(shop.write_key, ""), json=page)
    assert seen.status_code == 200, seen.text

    in_buyers = shop.customers.list_customers(segment_id=buyers.id)
    assert [c.source_id for c in in_buyers.customers or []] == ["buyer"]
    on_web = shop.customers.list_customers(segment_id=web.id)
    assert [c.source_id for c in on_web.customers or []] == ["window-shopper"]
    entered = shop.customers.list_customer_activity("buyer", type="customer.segment.entered")
    assert [a.data["segment"]["id"] for a in entered.data or []] == [buyers.id]
    # Passive segments keep no entered/left records.
    quiet = shop.customers.list_customer_activity("window-shopper", type="customer.segment.entered")
    assert quiet.data == []

    bad = httpx.post(
        f"{shop.url}/v1/segments",
        headers=shop.headers,
        json={
            "name": "Bad",
            "type": "auto-update",
            "filter": {"identities.anonymous_id": {"conditions": {"$more_than": [1]}}},
        },
    )
    body = raw_error(bad, 400, "invalid_payload")
    assert "identities.anonymous_id" in body["details"]
