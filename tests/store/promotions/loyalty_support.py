"""A database with a workspace, an application and a loyalty program, and a small
ledger driver for the store's loyalty tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert

from patron.domain.promotions.loyalty import Balance, Program
from patron.domain.promotions.model import Application
from patron.store.database import Database
from patron.store.schema import workspaces
from patron.store.unit import SqlUnit

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WORKSPACE = "ws_loyalty"


def open_database(url: str) -> Iterator[Database]:
    database = Database(url)
    database.migrate()
    with database.writer.begin() as connection:
        row = {"id": WORKSPACE, "name": WORKSPACE, "created_at": NOW}
        connection.execute(insert(workspaces).values(row))
    try:
        yield database
    finally:
        database.dispose()


@dataclass
class Ledger:
    """One customer's ledger in one program, changed one transaction at a time."""

    database: Database
    program_id: int
    customer: str = "cust-1"
    uuids: Iterator[int] = field(default_factory=itertools.count)

    def add(
        self,
        points: str,
        *,
        at: datetime = NOW,
        start: datetime | None = None,
        expiry: datetime | None = None,
        subledger: str = "",
    ) -> str:
        transaction = f"add-{next(self.uuids)}"
        with self.database.writer.begin() as connection:
            SqlUnit(connection).add_points(
                program_id=self.program_id,
                integration_id=self.customer,
                subledger_id=subledger,
                amount=Decimal(points),
                transaction_uuid=transaction,
                now=at,
                start=start,
                expiry=expiry,
                name="test",
            )
        return transaction

    def deduct(self, points: str, *, at: datetime = NOW, subledger: str = "") -> str | None:
        """The transaction's uuid, or None when the points were not there."""
        transaction = f"deduct-{next(self.uuids)}"
        with self.database.writer.begin() as connection:
            done = SqlUnit(connection).deduct_points(
                program_id=self.program_id,
                integration_id=self.customer,
                subledger_id=subledger,
                amount=Decimal(points),
                transaction_uuid=transaction,
                now=at,
            )
        return transaction if done else None

    def reverse(self, transaction: str, *, at: datetime = NOW) -> None:
        with self.database.writer.begin() as connection:
            SqlUnit(connection).reverse_transaction(transaction, at)

    def balances(self, at: datetime = NOW) -> dict[str, Balance]:
        with self.database.reader.connect() as connection:
            return SqlUnit(connection).loyalty_balances(self.program_id, self.customer, at)

    def balance(self, at: datetime = NOW, subledger: str = "") -> Balance:
        return self.balances(at).get(subledger, Balance())


def make_program(database: Database, **fields: object) -> Program:
    with database.writer.begin() as connection:
        unit = SqlUnit(connection)
        application = unit.create_application(
            Application(
                id=0,
                name=f"app-{fields.get('name', 'points')}",
                workspace_id=WORKSPACE,
                settings={},
                created_at=NOW,
                updated_at=NOW,
            )
        )
        values: dict[str, object] = {
            "id": 0,
            "workspace_id": WORKSPACE,
            "name": "points",
            "title": "Points",
            "subscribed_applications": (application.id,),
            "created_at": NOW,
            "updated_at": NOW,
            **fields,
        }
        return unit.create_loyalty_program(Program(**values))  # type: ignore[arg-type]


def balance(
    current: str = "0",
    pending: str = "0",
    expired: str = "0",
    spent: str = "0",
    negative: str = "0",
) -> Balance:
    return Balance(
        Decimal(current), Decimal(pending), Decimal(expired), Decimal(spent), Decimal(negative)
    )
