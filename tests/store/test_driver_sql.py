"""Statements run on the driver's cursor, and the writer connection kept between transactions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from patron.domain.people.profiles import IdentityKind
from patron.domain.tracking.messages import MessageType, build_message
from patron.services import Services
from patron.store.driver_sql import DriverStatement, driver_connection
from patron.store.schema import workspaces
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio

NAME = DriverStatement(
    lambda _dialect: select(workspaces.c.name).where(workspaces.c.id == bindparam("id"))
)
ADD = DriverStatement(
    lambda _dialect: insert(workspaces).values(
        id=bindparam("id"),
        name=bindparam("name"),
        created_at=datetime(2026, 12, 1, tzinfo=UTC),  # a literal: travels with the statement
    )
)


def _message(message_id: str, user_id: str):
    message, problems = build_message(
        MessageType.TRACK,
        {"messageId": message_id, "userId": user_id, "event": "Seen"},
        received_at=datetime.now(UTC),
    )
    assert message is not None, problems
    return message


async def test_statements_read_and_write_through_the_driver(services: Services) -> None:
    def work(unit):
        ADD.many(unit.connection, [{"id": "ws_a", "name": "a"}, {"id": "ws_b", "name": "b"}])
        return (
            NAME.scalar(unit.connection, {"id": "ws_b"}),
            NAME.scalar(unit.connection, {"id": "ws_none"}),
            NAME.rows(unit.connection, {"id": "ws_a"}),
        )

    found, missing, rows = await services.store.write(work)
    assert (found, missing, rows) == ("b", None, [("a",)])
    added = await services.store.read(lambda unit: unit.get_workspace_by_name("a"))
    assert added is not None
    assert added.created_at == datetime(2026, 12, 1, tzinfo=UTC)


async def test_driver_errors_arrive_as_sqlalchemy_errors(services: Services) -> None:
    """A racing insert is SQLAlchemy's IntegrityError, which the committer knows to retry."""
    with (
        services.store.database.reader.connect() as connection,
        connection.begin(),
        pytest.raises(IntegrityError),
    ):
        ADD.many(connection, [{"id": "ws_c", "name": "c"}] * 2)


async def test_lookups_take_any_number_of_values(services: Services) -> None:
    """SQLite caps bound parameters; the lookups send their values as one JSON array."""
    workspace = await make_workspace(services)
    users = [f"user-{n}" for n in range(1_500)]
    known = [_message(f"m-{n}", user) for n, user in enumerate(users)]
    await services.tracking.ingest(workspace_id=workspace.id, messages=known)
    odd = 'quote " and \\ backslash, ünïcode'
    await services.tracking.ingest(workspace_id=workspace.id, messages=[_message(odd, odd)])

    def lookups(unit):
        ids = [f"m-{n}" for n in range(0, 3_000, 2)] + [odd]
        keys = [(IdentityKind.USER_ID, user) for user in [*users, "stranger", odd]]
        return unit.existing_message_ids(workspace.id, ids), unit.find_identities(
            workspace.id, keys
        )

    seen, owners = await services.store.read(lookups)
    assert seen == {f"m-{n}" for n in range(0, 1_500, 2)} | {odd}
    assert set(owners) == {(IdentityKind.USER_ID, user) for user in [*users, odd]}

    def holds(unit):
        keys = [(IdentityKind.USER_ID, user) for user in [*users, "stranger", odd]]
        held = unit.hold_identities(workspace.id, keys)
        return held, unit.hold_customers(workspace.id, [*(c for c, _ in held.values()), "x"])

    held, gone = await services.store.write(holds)
    assert {key: customer for key, (customer, _) in held.items()} == owners
    assert gone == {"x": None}


async def test_a_lost_writer_connection_is_replaced(services: Services) -> None:
    """The writer keeps its connection between transactions; when it breaks, the next one
    is checked out and the write still commits."""
    workspace = await make_workspace(services)
    await services.tracking.ingest(workspace_id=workspace.id, messages=[_message("a", "u")])
    writer = services.store._writer
    assert writer is not None
    driver = driver_connection(writer)
    if services.store.database.is_sqlite:
        driver.close()
    else:  # the server ends the session, as a restart or an idle timeout would
        with services.store.database.reader.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({driver.info.backend_pid})")

    result = await services.tracking.ingest(
        workspace_id=workspace.id, messages=[_message("b", "u")]
    )

    assert result.stored == 1
    assert services.store._writer is not writer
    stored = await services.store.read(lambda unit: unit.existing_message_ids(workspace.id, "ab"))
    assert stored == {"a", "b"}
