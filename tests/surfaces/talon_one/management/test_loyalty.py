"""Loyalty: a program made with ``patron loyalty create``, points added, spent and
read with the official SDK (Management API, and the Integration API's balances)."""

from __future__ import annotations

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.patron_server import Server
from tests.surfaces.talon_one.support import (
    TalonShop,
    open_shop,
    raw_talon_error,
    server,
    shop,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures


def make_program(shop: TalonShop, *flags: str) -> int:
    created = shop.cli(
        "loyalty", "create", "club", "--application", str(shop.application_id), *flags
    )
    return int(created["programId"])


def test_points_added_spent_and_read_with_the_sdk(shop: TalonShop) -> None:
    program_id = make_program(shop, "--title", "Club", "--validity", "1Y", "--subledgers")
    program = shop.management.get_loyalty_program(str(program_id))
    assert (program.id, program.name, program.title) == (program_id, "club", "Club")
    assert (program.default_validity, program.default_pending) == ("1Y", "immediate")
    assert program.subscribed_applications == [shop.application_id]
    assert program.allow_subledger is True
    assert [p.id for p in shop.management.get_loyalty_programs().data] == [program_id]
    application = shop.management.get_application(shop.application_id)
    assert [p.id for p in application.loyalty_programs] == [program_id]

    add = shop.management.add_loyalty_points
    add(str(program_id), "cust-1", talon_one.AddLoyaltyPoints(points=100.5, name="welcome"))
    add(str(program_id), "cust-1", talon_one.AddLoyaltyPoints(points=20, pending_duration="2D"))
    add(str(program_id), "cust-1", talon_one.AddLoyaltyPoints(points=7, subledger_id="shoes"))
    deduct = talon_one.DeductLoyaltyPoints(points=30.25, name="gift")
    shop.management.remove_loyalty_points(str(program_id), "cust-1", deduct)

    ledger = shop.management.get_loyalty_points(str(program_id), "cust-1")
    main = ledger.ledger
    assert (main.total_active_points, main.total_pending_points) == (70.25, 20)
    assert (main.total_spent_points, main.total_expired_points) == (30.25, 0)
    assert [(t.type, t.amount) for t in main.transactions] == [
        ("addition", 100.5),
        ("addition", 20),
        ("subtraction", 30.25),
    ]
    assert main.transactions[0].expiry_date.year == main.transactions[0].created.year + 1
    assert ledger.sub_ledgers["shoes"].total_active_points == 7

    balances = shop.integration.get_loyalty_balances(program_id, "cust-1")
    assert balances.balance.active_points == 70.25
    assert balances.subledger_balances["shoes"].active_points == 7
    shoes = shop.integration.get_loyalty_balances(program_id, "cust-1", subledger_id="shoes")
    assert shoes.subledger_balances["shoes"].active_points == 7
    cli = shop.cli("loyalty", "balance", str(program_id), "cust-1")
    assert cli[""] == {
        "current": "70.25",
        "pending": "20",
        "expired": "0",
        "spent": "30.25",
        "negative": "0",
    }


def test_what_cannot_be_done_is_a_talon_error(
    database_url: str, server: Server, shop: TalonShop
) -> None:
    program_id = make_program(shop)
    points = talon_one.AddLoyaltyPoints(points=10)
    shop.management.add_loyalty_points(str(program_id), "cust-1", points)
    with pytest.raises(ApiException) as too_many:
        shop.management.remove_loyalty_points(
            str(program_id), "cust-1", talon_one.DeductLoyaltyPoints(points=10.01)
        )
    body = talon_error(too_many.value, 400)
    assert body["errors"][0]["source"] == {"pointer": "/points"}
    with pytest.raises(ApiException) as no_subledgers:
        shop.management.add_loyalty_points(
            str(program_id), "cust-1", talon_one.AddLoyaltyPoints(points=1, subledger_id="x")
        )
    talon_error(no_subledgers.value, 400)
    with pytest.raises(ApiException) as unknown:
        shop.management.get_loyalty_program("999")
    talon_error(unknown.value, 404)

    url = f"{shop.url}/v1/loyalty_programs/{program_id}/profile/cust-1/add_points"
    for body, pointer in [
        ({"points": "ten"}, "/points"),
        ({"points": 0}, "/points"),
        ({"points": 1.001}, "/points"),
        ({"points": 1, "validityDuration": "3X"}, "/validityDuration"),
        ({"points": 1, "pendingUntil": "tomorrow"}, "/pendingUntil"),
        ({"points": 1, "validUntil": "9999-12-31T23:59:59-14:00"}, "/validUntil"),
        ({"points": 1, "validUntil": "2020-01-01T00:00:00Z"}, "/validUntil"),
        ({"points": 1, "validityDuration": "999999Y"}, "/validityDuration"),
    ]:
        response = httpx.put(url, json=body, headers=shop.management_headers())
        error = raw_talon_error(response, 400)
        assert error["errors"][0]["source"] == {"pointer": pointer}, body
    assert shop.management.get_loyalty_points(str(program_id), "cust-1").ledger.total == 10
    balances = f"{shop.url}/v1/loyalty_programs/{program_id}/profile/cust-1/balances"
    for end in ("soon", "9999-12-31T23:59:59-14:00"):
        response = httpx.get(balances, params={"endDate": end}, headers=shop.integration_headers())
        raw_talon_error(response, 400)

    # Another workspace's key reaches none of it.
    other = open_shop(database_url, server, workspace="other", name="Elsewhere")
    with pytest.raises(ApiException) as hidden:
        other.management.add_loyalty_points(str(program_id), "cust-1", points)
    talon_error(hidden.value, 404)
    assert other.management.get_loyalty_programs().data == []
