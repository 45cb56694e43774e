"""The queries of loyalty programs and their points ledgers (a mixin of ``SqlUnit``).

Every change to a customer's (sub)ledger first locks its ``loyalty_accounts``
row (creating it if new), then reads the ledger and writes what
:mod:`patron.domain.promotions.loyalty` computed: on PostgreSQL a second
change of the same ledger waits for the first to commit and then reads what
it left, so two deductions never spend the same points; SQLite runs one
writer at a time.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, insert, select, type_coerce, update

from patron.domain.promotions import loyalty
from patron.domain.promotions.loyalty import Addition, Balance, Program
from patron.domain.promotions.loyalty_service import LedgerEntry
from patron.domain.promotions.model import LoyaltyProgram
from patron.store.promotions.tables import loyalty_accounts, loyalty_ledger, loyalty_programs
from patron.store.types import Amount
from patron.store.unit_base import UnitBase

ADDITION = "addition"
SUBTRACTION = "subtraction"
# The rows a rollback writes (history only: balances read the rows they change).
ADDITION_ROLLBACK = "addition_rollback"
SUBTRACTION_ROLLBACK = "subtraction_rollback"
ZERO = Decimal(0)
L = loyalty_ledger.c


class LoyaltyQueries(UnitBase):
    """Implements :class:`~patron.domain.promotions.loyalty_service.LoyaltyUnit`
    (with ``ApplicationQueries`` and ``TenancyQueries``)."""

    # -- programs ----------------------------------------------------------------------

    def create_loyalty_program(self, program: Program) -> Program:
        values = _program_values(program)
        new_id = self.connection.execute(
            insert(loyalty_programs).values(values).returning(loyalty_programs.c.id)
        ).scalar_one()
        return _program({**values, "id": new_id})

    def get_loyalty_program(self, workspace_id: str, program_id: int) -> Program | None:
        query = select(loyalty_programs).where(
            loyalty_programs.c.workspace_id == workspace_id, loyalty_programs.c.id == program_id
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _program(row)

    def update_loyalty_program(self, program: Program) -> None:
        values = _program_values(program)
        values.pop("created_at", None)
        self.connection.execute(
            update(loyalty_programs).where(loyalty_programs.c.id == program.id).values(values)
        )

    def list_loyalty_programs(self, workspace_id: str) -> list[Program]:
        query = (
            select(loyalty_programs)
            .where(loyalty_programs.c.workspace_id == workspace_id)
            .order_by(loyalty_programs.c.id)
        )
        return [_program(row) for row in self.connection.execute(query).mappings()]

    def loyalty_for_profile(
        self, workspace_id: str, application_id: int, integration_id: str, now: datetime
    ) -> dict[str, LoyaltyProgram]:
        found = {}
        for program in self.list_loyalty_programs(workspace_id):
            if application_id not in program.subscribed_applications:
                continue
            balances = self.loyalty_balances(program.id, integration_id, now)
            main = balances.pop("").engine()
            found[str(program.id)] = program.for_engine(now, main, balances)
        return found

    # -- balances and history --------------------------------------------------------

    def loyalty_balances(
        self, program_id: int, integration_id: str, now: datetime
    ) -> dict[str, Balance]:
        """By subledger ("" first, always there): sums over the ledger rows, in SQL."""
        mine = and_(L.program_id == program_id, L.integration_id == integration_id)
        added = L.type == ADDITION
        expired = and_(added, L.expiry_date.is_not(None), L.expiry_date <= now)
        pending = and_(added, L.start_date.is_not(None), L.start_date > now, ~expired)
        spent = and_(L.type == SUBTRACTION, L.reversed_at.is_(None))

        def total(condition: Any, column: Any = L.remaining) -> Any:
            summed = func.coalesce(func.sum(case((condition, column), else_=0)), 0)
            return type_coerce(summed, Amount())  # exact: whole millionths, summed

        query = (
            select(
                L.subledger_id,
                total(added),
                total(pending),
                total(expired),
                total(spent, L.amount),
            )
            .where(mine)
            .group_by(L.subledger_id)
        )
        owed = self._negatives(program_id, integration_id)
        balances: dict[str, Balance] = {"": Balance()}
        for subledger, remaining, waiting, gone, used in self.connection.execute(query):
            balances[subledger] = Balance(
                current=remaining - waiting - gone,
                pending=waiting,
                expired=gone,
                spent=used,
                negative=owed.pop(subledger, ZERO),
            )
        for subledger, negative in owed.items():
            balances[subledger] = Balance(negative=negative)
        return balances

    def _negatives(self, program_id: int, integration_id: str) -> dict[str, Decimal]:
        accounts = loyalty_accounts.c
        query = select(accounts.subledger_id, accounts.negative).where(
            accounts.program_id == program_id,
            accounts.integration_id == integration_id,
            accounts.negative > 0,
        )
        return {row.subledger_id: row.negative for row in self.connection.execute(query)}

    def loyalty_entries(self, program_id: int, integration_id: str) -> list[LedgerEntry]:
        query = (
            select(loyalty_ledger)
            .where(L.program_id == program_id, L.integration_id == integration_id)
            .order_by(L.id)
        )
        return [_entry(row) for row in self.connection.execute(query).mappings()]

    # -- changes -----------------------------------------------------------------------

    def add_points(
        self,
        *,
        program_id: int,
        integration_id: str,
        subledger_id: str,
        amount: Decimal,
        transaction_uuid: str,
        now: datetime,
        start: datetime | None = None,
        expiry: datetime | None = None,
        name: str = "",
        application_id: int | None = None,
        session_id: str | None = None,
    ) -> None:
        """Add ``amount`` points (pending until ``start``, expiring at ``expiry``);
        they first pay off what the customer owes."""
        key = (program_id, integration_id, subledger_id)
        negative = self._lock_account(key, now)
        paid = loyalty.settle(amount, negative)
        if paid:
            self._set_negative(key, negative - paid, now)
        row = _row(
            key,
            ADDITION,
            amount,
            transaction_uuid,
            now,
            name=name,
            application_id=application_id,
            session_id=session_id,
        )
        row.update(remaining=amount - paid, start_date=start, expiry_date=expiry)
        self.connection.execute(insert(loyalty_ledger).values(row))

    def deduct_points(
        self,
        *,
        program_id: int,
        integration_id: str,
        subledger_id: str,
        amount: Decimal,
        transaction_uuid: str,
        now: datetime,
        name: str = "",
        application_id: int | None = None,
        session_id: str | None = None,
    ) -> bool:
        """Spend ``amount`` active points, earliest-expiring first; False (and nothing
        changed) when the customer's active points do not cover it."""
        key = (program_id, integration_id, subledger_id)
        self._lock_account(key, now)
        taken = loyalty.take(self._additions(key), amount, now)
        if sum(taken.values(), ZERO) < amount:
            return False
        for row_id, share in taken.items():
            self._update_remaining(row_id, L.remaining - share)
        row = _row(
            key,
            SUBTRACTION,
            amount,
            transaction_uuid,
            now,
            name=name,
            application_id=application_id,
            session_id=session_id,
        )
        row.update(remaining=ZERO, sources={str(i): str(share) for i, share in taken.items()})
        self.connection.execute(insert(loyalty_ledger).values(row))
        return True

    def reverse_transaction(self, transaction_uuid: str, now: datetime) -> None:
        """Roll back every addition and deduction of the transaction (a second call
        finds nothing left to roll back)."""
        query = select(L.id, L.program_id, L.integration_id, L.subledger_id).where(
            L.transaction_uuid == transaction_uuid,
            L.type.in_((ADDITION, SUBTRACTION)),
            L.reversed_at.is_(None),
        )
        for row_id, *key in self.connection.execute(query.order_by(L.id)).all():
            self._reverse(row_id, (key[0], key[1], key[2]), now)

    def _reverse(self, row_id: int, key: tuple[int, str, str], now: datetime) -> None:
        negative = self._lock_account(key, now)
        row = self.connection.execute(select(loyalty_ledger).where(L.id == row_id)).mappings().one()
        if row["reversed_at"] is not None:
            return  # rolled back meanwhile
        additions = {a.id: a for a in self._additions(key, every=True)}
        if row["type"] == ADDITION:
            reversal = loyalty.reverse_addition(
                additions[row_id], additions.values(), negative, now
            )
        else:
            sources = {int(i): Decimal(v) for i, v in (row["sources"] or {}).items()}
            reversal = loyalty.reverse_deduction(sources, additions, negative)
        for addition_id, value in reversal.remaining.items():
            self._update_remaining(addition_id, value)
        if reversal.negative != negative:
            self._set_negative(key, reversal.negative, now)
        self.connection.execute(
            update(loyalty_ledger).where(L.id == row_id).values(reversed_at=now)
        )
        kind = ADDITION_ROLLBACK if row["type"] == ADDITION else SUBTRACTION_ROLLBACK
        history = _row(
            key,
            kind,
            row["amount"],
            row["transaction_uuid"],
            now,
            name=row["name"],
            application_id=row["application_id"],
            session_id=row["session_integration_id"],
        )
        history["remaining"] = ZERO
        self.connection.execute(insert(loyalty_ledger).values(history))

    # -- helpers -----------------------------------------------------------------------

    def _lock_account(self, key: tuple[int, str, str], now: datetime) -> Decimal:
        """Lock the ledger's account row (made if new); return what the customer owes."""
        accounts = loyalty_accounts.c
        where = and_(
            accounts.program_id == key[0],
            accounts.integration_id == key[1],
            accounts.subledger_id == key[2],
        )
        query = select(accounts.negative).where(where)
        if self.is_postgres:
            query = query.with_for_update()
        negative = self.connection.execute(query).scalar()
        if negative is not None:
            return Decimal(negative)
        row = {
            "program_id": key[0],
            "integration_id": key[1],
            "subledger_id": key[2],
            "negative": ZERO,
            "created_at": now,
            "updated_at": now,
        }
        # A concurrent first change of the same ledger: this insert waits for it
        # and then inserts nothing, and the lock below waits for it to commit.
        self.connection.execute(self._insert_ignoring_conflicts(loyalty_accounts).values(row))
        return Decimal(self.connection.execute(query).scalar_one())

    def _set_negative(self, key: tuple[int, str, str], negative: Decimal, now: datetime) -> None:
        accounts = loyalty_accounts.c
        self.connection.execute(
            update(loyalty_accounts)
            .where(
                accounts.program_id == key[0],
                accounts.integration_id == key[1],
                accounts.subledger_id == key[2],
            )
            .values(negative=negative, updated_at=now)
        )

    def _additions(self, key: tuple[int, str, str], *, every: bool = False) -> list[Addition]:
        """The ledger's additions with points left (``every``: all of them)."""
        query = select(L.id, L.amount, L.remaining, L.start_date, L.expiry_date, L.reversed_at)
        query = query.where(
            L.program_id == key[0],
            L.integration_id == key[1],
            L.subledger_id == key[2],
            L.type == ADDITION,
        )
        if not every:
            query = query.where(L.remaining > 0)
        return [
            Addition(row_id, amount, remaining, start, expiry, reversed_at is not None)
            for row_id, amount, remaining, start, expiry, reversed_at in self.connection.execute(
                query
            )
        ]

    def _update_remaining(self, row_id: int, value: Any) -> None:
        self.connection.execute(
            update(loyalty_ledger).where(L.id == row_id).values(remaining=value)
        )


def _row(
    key: tuple[int, str, str],
    kind: str,
    amount: Decimal,
    transaction_uuid: str,
    now: datetime,
    *,
    name: str,
    application_id: int | None = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    return {
        "program_id": key[0],
        "integration_id": key[1],
        "subledger_id": key[2],
        "type": kind,
        "amount": amount,
        "name": name,
        "application_id": application_id,
        "session_integration_id": session_id,
        "transaction_uuid": transaction_uuid,
        "created_at": now,
    }


def _program_values(program: Program) -> dict[str, Any]:
    return {
        "workspace_id": program.workspace_id,
        "name": program.name,
        "title": program.title,
        "description": program.description,
        "subscribed_applications": list(program.subscribed_applications),
        "default_validity": program.default_validity,
        "default_pending": program.default_pending,
        "allow_subledger": int(program.allow_subledger),
        "timezone": program.timezone,
        "created_at": program.created_at,
        "updated_at": program.updated_at,
    }


def _program(row: Any) -> Program:
    return Program(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        title=row["title"],
        description=row["description"],
        subscribed_applications=tuple(int(i) for i in row["subscribed_applications"]),
        default_validity=row["default_validity"],
        default_pending=row["default_pending"],
        allow_subledger=bool(row["allow_subledger"]),
        timezone=row["timezone"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _entry(row: Any) -> LedgerEntry:
    kind = row["type"]
    undo = {ADDITION_ROLLBACK: SUBTRACTION, SUBTRACTION_ROLLBACK: ADDITION}
    return LedgerEntry(
        id=row["id"],
        created=row["created_at"],
        program_id=row["program_id"],
        integration_id=row["integration_id"],
        subledger_id=row["subledger_id"],
        type=undo.get(kind, kind),
        amount=row["amount"],
        name=row["name"] or ("rollback" if kind in undo else ""),
        transaction_uuid=row["transaction_uuid"],
        start=row["start_date"],
        expiry=row["expiry_date"],
        session_id=row["session_integration_id"],
        application_id=row["application_id"],
        rolled_back=row["reversed_at"] is not None,
    )
