"""Two deductions at once of a balance that covers one: exactly one succeeds.

SQLite runs one writer at a time; on PostgreSQL the second deduction waits
for the ledger's account row that the first one locked, then reads what it
left — also between two processes.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Connection

from patron.store.database import Database
from patron.store.unit import SqlUnit
from tests.store.people.test_merge_holds import in_thread, wait_until_blocked
from tests.store.promotions.loyalty_support import NOW, Ledger, make_program, open_database


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    yield from open_database(database_url)


def deduct(connection: Connection, program_id: int, customer: str, uuid: str) -> bool:
    return SqlUnit(connection).deduct_points(
        program_id=program_id,
        integration_id=customer,
        subledger_id="",
        amount=Decimal(10),
        transaction_uuid=uuid,
        now=NOW,
    )


def test_two_deductions_at_once_spend_the_points_once(database: Database) -> None:
    program = make_program(database)
    for round_ in range(5):
        ledger = Ledger(database, program.id, customer=f"racer-{round_}")
        ledger.add("6")
        ledger.add("6")
        start = threading.Barrier(2)
        results: list[bool] = []

        def race(
            name: str,
            customer: str = ledger.customer,
            start: threading.Barrier = start,
            results: list[bool] = results,
        ) -> None:
            start.wait()
            with database.writer.begin() as connection:
                results.append(deduct(connection, program.id, customer, name))

        threads = [threading.Thread(target=race, args=(f"r{round_}-{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results) == [False, True]
        assert ledger.balance().current == Decimal(2)
        assert ledger.balance().spent == Decimal(10)


@pytest.mark.postgres
def test_on_postgresql_a_second_deduction_waits_for_the_first(postgres_url: str) -> None:
    database = next(open_database(postgres_url))
    try:
        program = make_program(database)
        Ledger(database, program.id).add("15")
        with database.writer.connect() as first, first.begin():
            assert deduct(first, program.id, "cust-1", "first")
            thread, pid, result = in_thread(
                database, lambda c: deduct(c, program.id, "cust-1", "second")
            )
            wait_until_blocked(database, pid)
            assert thread.is_alive()
        thread.join(timeout=30)
        assert result == [False]  # it read what the first one left: 5
        assert Ledger(database, program.id).balance().current == Decimal(5)
    finally:
        database.dispose()


def _deduct_in_a_process(url: str, program_id: int, name: str, start: object) -> bool:
    database = Database(url)
    try:
        start.wait()  # type: ignore[attr-defined]
        with database.writer.begin() as connection:
            return deduct(connection, program_id, "cust-1", name)
    finally:
        database.dispose()


@pytest.mark.postgres
def test_on_postgresql_two_processes_deduct_the_same_points_once(postgres_url: str) -> None:
    database = next(open_database(postgres_url))
    try:
        program = make_program(database)
        ledger = Ledger(database, program.id)
        context = multiprocessing.get_context("spawn")
        for round_ in range(3):
            ledger.add("10")
            with context.Manager() as manager, context.Pool(2) as pool:
                start = manager.Barrier(2)
                calls = [(postgres_url, program.id, f"p{round_}-{i}", start) for i in range(2)]
                results = pool.starmap(_deduct_in_a_process, calls)
            assert sorted(results) == [False, True]
            assert ledger.balance().current == 0
        assert ledger.balance().spent == Decimal(30)
    finally:
        database.dispose()
