"""Holds and merges (``hold_customers``, ``move_customer_data``) between transactions.

On PostgreSQL a transaction that writes for an existing customer holds it
first; a merge of that customer waits for the hold and then moves what the
holder wrote, and a hold taken during a merge waits and finds the survivor.
(SQLite runs one writer at a time: there, only what a hold reports matters.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select, text, update

from patron.domain.people.profiles import IdentityKind, Profile
from patron.domain.people.records import EventRecord
from patron.store.database import Database
from patron.store.schema import customers, events, workspaces
from patron.store.unit import SqlUnit

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
WORKSPACE = "ws_holds"
ANON = IdentityKind.ANONYMOUS_ID


def profile(customer_id: str, workspace_id: str = WORKSPACE) -> Profile:
    return Profile(customer_id, workspace_id, None, NOW, NOW)


def event(customer_id: str, message_id: str) -> EventRecord:
    return EventRecord(
        WORKSPACE, customer_id, message_id, "track", "E", None, "a", NOW, None, None, NOW, {}
    )


def open_database(url: str) -> Iterator[Database]:
    database = Database(url)
    database.migrate()
    with database.writer.begin() as connection:
        for workspace_id in (WORKSPACE, "ws_other"):
            row = {"id": workspace_id, "name": workspace_id, "created_at": NOW}
            connection.execute(insert(workspaces).values(row))
        unit = SqlUnit(connection)
        unit.create_profiles(
            [profile("cust_p"), profile("cust_q"), profile("cust_r"), profile("cust_x", "ws_other")]
        )
        unit.add_identities(WORKSPACE, [((ANON, "a-p"), "cust_p"), ((ANON, "a-r"), "cust_r")], NOW)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    yield from open_database(database_url)


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Database]:
    yield from open_database(postgres_url)


def merge(connection: Connection, source: str, target: str) -> None:
    SqlUnit(connection).move_customer_data(WORKSPACE, source_id=source, target_id=target)
    connection.execute(update(customers).where(customers.c.id == source).values(merged_into=target))


def test_holding_identities_finds_their_customers_and_any_merge(database: Database) -> None:
    with database.writer.begin() as connection:
        unit = SqlUnit(connection)
        keys = [(ANON, "a-p"), (ANON, "a-r"), (ANON, "a-unknown")]
        assert unit.hold_identities(WORKSPACE, keys) == {
            (ANON, "a-p"): ("cust_p", None),
            (ANON, "a-r"): ("cust_r", None),
        }
        # What a transaction that read before a concurrent merge sees: the old
        # owner, now merged (here staged: identities left as they were).
        connection.execute(
            update(customers).where(customers.c.id == "cust_r").values(merged_into="cust_q")
        )
        assert unit.hold_identities(WORKSPACE, keys)[(ANON, "a-r")] == ("cust_r", "cust_q")


def test_a_hold_reports_customers_merged_away_or_erased(database: Database) -> None:
    with database.writer.begin() as connection:
        merge(connection, "cust_r", "cust_q")
    with database.writer.begin() as connection:
        unit = SqlUnit(connection)
        assert unit.hold_customers(WORKSPACE, ["cust_p", "cust_q"]) == {}
        held = unit.hold_customers(WORKSPACE, ["cust_p", "cust_r", "cust_gone", "cust_x"])
    assert held == {"cust_r": "cust_q", "cust_gone": None, "cust_x": None}


# -- PostgreSQL: two transactions at once ----------------------------------------------


def backend_pid(connection: Connection) -> int:
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def wait_until_blocked(database: Database, pid: int) -> None:
    """Until the backend ``pid`` waits for a lock (the test fails if it never does)."""
    query = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
    deadline = time.monotonic() + 30
    with database.reader.connect() as observer:
        while time.monotonic() < deadline:
            if observer.execute(query, {"pid": pid}).scalar() == "Lock":
                return
            observer.rollback()
            time.sleep(0.01)
    raise AssertionError("the second transaction never waited for the first")


def in_thread(
    database: Database, work: Callable[[Connection], Any]
) -> tuple[threading.Thread, int, list[Any]]:
    """Start ``work`` in its own transaction on another thread; its backend pid, its result."""
    connection = database.writer.connect()
    pid = backend_pid(connection)
    connection.commit()
    result: list[Any] = []

    def run() -> None:
        try:
            with connection.begin():
                result.append(work(connection))
        except BaseException as error:  # reported by the test, not lost in the thread
            result.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, pid, result


def events_of(database: Database, customer_id: str) -> int:
    with database.reader.connect() as connection:
        query = select(func.count()).select_from(events).where(events.c.customer_id == customer_id)
        return int(connection.execute(query).scalar_one())


@pytest.mark.postgres
def test_a_merge_waits_for_a_hold_and_moves_what_the_holder_wrote(postgres: Database) -> None:
    with postgres.writer.connect() as holder, holder.begin():
        unit = SqlUnit(holder)
        assert unit.hold_identities(WORKSPACE, [(ANON, "a-p")]) == {(ANON, "a-p"): ("cust_p", None)}
        unit.add_events([event("cust_p", "m1")])
        thread, pid, result = in_thread(postgres, lambda c: merge(c, "cust_p", "cust_q"))
        wait_until_blocked(postgres, pid)
        assert thread.is_alive()
    thread.join(timeout=30)
    assert result == [None]
    assert (events_of(postgres, "cust_p"), events_of(postgres, "cust_q")) == (0, 1)


@pytest.mark.postgres
@pytest.mark.parametrize("hold", ["identities", "customers"])
def test_a_hold_waits_for_a_merge_and_finds_the_survivor(postgres: Database, hold: str) -> None:
    def holding(connection: Connection) -> Any:
        unit = SqlUnit(connection)
        if hold == "identities":
            return unit.hold_identities(WORKSPACE, [(ANON, "a-p"), (ANON, "a-r")])
        return unit.hold_customers(WORKSPACE, ["cust_p", "cust_r"])

    with postgres.writer.connect() as merger, merger.begin():
        merge(merger, "cust_p", "cust_q")
        thread, pid, result = in_thread(postgres, holding)
        wait_until_blocked(postgres, pid)
    thread.join(timeout=30)
    if hold == "identities":  # read before the merge committed: the old owner, merged
        assert result == [{(ANON, "a-p"): ("cust_p", "cust_q"), (ANON, "a-r"): ("cust_r", None)}]
    else:
        assert result == [{"cust_p": "cust_q"}]


@pytest.mark.postgres
def test_holds_wait_neither_for_each_other_nor_for_profile_changes(postgres: Database) -> None:
    with postgres.writer.connect() as first, first.begin():
        unit = SqlUnit(first)
        unit.hold_identities(WORKSPACE, [(ANON, "a-p")])
        unit.load_profiles(WORKSPACE, ["cust_q"])  # a profile change in progress
        with postgres.reader.connect() as second, second.begin():
            # Waiting would fail the statement instead of hanging the test.
            second.execute(text("SET LOCAL lock_timeout = '5s'"))
            other = SqlUnit(second)
            assert other.hold_customers(WORKSPACE, ["cust_p", "cust_q"]) == {}
            assert [p.id for p in other.load_profiles(WORKSPACE, ["cust_p"])] == ["cust_p"]
