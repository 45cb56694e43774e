"""The points ledger in the store, on both databases: pending and expiring points,
the order deductions spend them in, rollbacks, subledgers, exact decimals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from patron.domain.promotions.loyalty import Program
from patron.store.database import Database
from patron.store.unit import SqlUnit
from tests.store.promotions.loyalty_support import (
    NOW,
    WORKSPACE,
    Ledger,
    balance,
    make_program,
    open_database,
)

DAY = timedelta(days=1)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    yield from open_database(database_url)


@pytest.fixture
def program(database: Database) -> Program:
    return make_program(database, allow_subledger=True)


@pytest.fixture
def ledger(database: Database, program: Program) -> Ledger:
    return Ledger(database, program.id)


def test_points_are_pending_then_active_then_expired(ledger: Ledger) -> None:
    ledger.add("100", start=NOW + DAY, expiry=NOW + 10 * DAY)
    ledger.add("5")
    assert ledger.balance() == balance(current="5", pending="100")
    assert ledger.balance(NOW + DAY) == balance(current="105")
    assert ledger.balance(NOW + 10 * DAY) == balance(current="5", expired="100")
    # Pending points cannot be spent; expired ones neither.
    assert ledger.deduct("6") is None
    assert ledger.deduct("6", at=NOW + 10 * DAY) is None
    assert ledger.deduct("6", at=NOW + 2 * DAY) is not None
    assert ledger.balance(NOW + 2 * DAY) == balance(current="99", spent="6")


def test_deductions_take_the_earliest_expiring_points_first_and_unlimited_last(
    ledger: Ledger,
) -> None:
    ledger.add("10")  # never expires
    ledger.add("10", expiry=NOW + 30 * DAY)
    ledger.add("10", expiry=NOW + 5 * DAY)
    assert ledger.deduct("15") is not None  # 10 from the 5-day points, 5 from the 30-day ones
    assert ledger.balance(NOW + 6 * DAY) == balance(current="15", spent="15")
    assert ledger.balance(NOW + 31 * DAY) == balance(current="10", expired="5", spent="15")
    assert ledger.deduct("12") is not None  # 5 from the 30-day points, then 7 unlimited
    assert ledger.balance(NOW + 31 * DAY) == balance(current="3", spent="27")


def test_a_deduction_larger_than_the_balance_changes_nothing(ledger: Ledger) -> None:
    ledger.add("7.25")
    assert ledger.deduct("7.26") is None
    assert ledger.balance() == balance(current="7.25")
    assert ledger.deduct("7.25") is not None
    assert ledger.balance() == balance(spent="7.25")


def test_points_are_exact_decimals(ledger: Ledger) -> None:
    for _ in range(10):
        ledger.add("0.1")
    assert ledger.deduct("0.3") is not None
    assert ledger.deduct("0.7") is not None
    assert ledger.balance() == balance(spent="1")
    assert ledger.balance().spent == Decimal("1")
    ledger.add("999999999999.99")
    assert ledger.balance().current == Decimal("999999999999.99")


def test_a_rolled_back_deduction_gives_each_share_back_where_it_came_from(
    ledger: Ledger,
) -> None:
    ledger.add("10", expiry=NOW + 2 * DAY)
    ledger.add("10", expiry=NOW + 20 * DAY)
    spent = ledger.deduct("15")
    assert spent is not None
    ledger.reverse(spent)
    assert ledger.balance() == balance(current="20")
    # The shares came back to their additions: the 2-day points expire again.
    assert ledger.balance(NOW + 3 * DAY) == balance(current="10", expired="10")
    ledger.reverse(spent)  # a second rollback finds nothing left to do
    assert ledger.balance() == balance(current="20")


def test_points_given_back_after_their_expiry_come_back_expired(ledger: Ledger) -> None:
    ledger.add("10", expiry=NOW + DAY)
    spent = ledger.deduct("4")
    assert spent is not None
    ledger.reverse(spent, at=NOW + 2 * DAY)
    assert ledger.balance(NOW + 2 * DAY) == balance(expired="10")


def test_a_rolled_back_addition_removes_what_is_left_of_it(ledger: Ledger) -> None:
    ledger.add("5")
    earned = ledger.add("30", start=NOW + DAY)
    assert ledger.balance() == balance(current="5", pending="30")
    ledger.reverse(earned)
    assert ledger.balance() == balance(current="5")
    assert ledger.balance(NOW + DAY) == balance(current="5")


def test_a_rolled_back_addition_already_spent_takes_other_points_then_goes_negative(
    ledger: Ledger,
) -> None:
    earned = ledger.add("50")
    assert ledger.deduct("40") is not None
    ledger.add("15", start=NOW + DAY)  # pending
    ledger.add("10")
    # 50 back: the 10 left of it, then 10 active and 15 pending points, then 15 owed.
    ledger.reverse(earned)
    assert ledger.balance() == balance(spent="40", negative="15")
    assert ledger.balance(NOW + DAY) == balance(spent="40", negative="15")
    assert ledger.deduct("1") is None
    # New points pay off the debt first.
    ledger.add("20")
    assert ledger.balance() == balance(current="5", spent="40")


def test_a_rolled_back_deduction_pays_off_a_negative_balance_first(ledger: Ledger) -> None:
    earned = ledger.add("50")
    spent = ledger.deduct("40")
    assert spent is not None
    ledger.reverse(earned)
    assert ledger.balance() == balance(spent="40", negative="40")
    ledger.reverse(spent)
    assert ledger.balance() == balance()


def test_subledgers_are_separate_ledgers(ledger: Ledger, database: Database) -> None:
    ledger.add("10")
    ledger.add("3", subledger="shoes")
    assert ledger.deduct("4", subledger="shoes") is None
    assert ledger.deduct("2", subledger="shoes") is not None
    assert ledger.balances() == {"": balance(current="10"), "shoes": balance("1", spent="2")}
    with database.reader.connect() as connection:
        unit = SqlUnit(connection)
        other = unit.loyalty_balances(ledger.program_id, "someone-else", NOW)
    assert other == {"": balance()}


def test_the_engine_sees_the_programs_of_the_application(database: Database) -> None:
    program = make_program(
        database, name="club", default_validity="1M", default_pending="2D", timezone="UTC"
    )
    ledger = Ledger(database, program.id)
    ledger.add("12.5")
    ledger.add("4", subledger="shoes")
    application_id = program.subscribed_applications[0]
    with database.reader.connect() as connection:
        unit = SqlUnit(connection)
        found = unit.loyalty_for_profile(WORKSPACE, application_id, "cust-1", NOW)
        assert unit.loyalty_for_profile(WORKSPACE, application_id + 1, "cust-1", NOW) == {}
    engine = found[str(program.id)]
    assert (engine.id, engine.name, engine.title) == (program.id, "club", "Points")
    assert engine.balance.current == Decimal("12.5")
    assert engine.ledger("shoes") is not None
    assert engine.ledger("shoes").current == Decimal(4)  # type: ignore[union-attr]
    # Two days pending, then a calendar month (3 March to 3 April).
    assert engine.default_pending == 2 * DAY
    assert engine.default_validity == 31 * DAY


def test_entries_list_every_change_and_its_rollback(ledger: Ledger, database: Database) -> None:
    earned = ledger.add("8", expiry=NOW + DAY)
    ledger.reverse(earned)
    with database.reader.connect() as connection:
        entries = SqlUnit(connection).loyalty_entries(ledger.program_id, ledger.customer)
    assert [(e.type, e.amount, e.rolled_back) for e in entries] == [
        ("addition", Decimal(8), True),
        ("subtraction", Decimal(8), False),
    ]
    assert entries[0].expiry == NOW + DAY
    assert entries[1].transaction_uuid == earned
