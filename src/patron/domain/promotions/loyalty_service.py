"""Loyalty programs and their points, for the Management API and the CLI.

The arithmetic lives in :mod:`.loyalty`; the store's ledger methods
(``add_points``, ``deduct_points``, ``reverse_transaction``) apply it in one
transaction each, holding the customer's (sub)ledger so that two deductions
at once never spend the same points. A session's close (or cancel) calls
those store methods itself, inside its own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, NotFound, Problem
from patron.domain.promotions import loyalty
from patron.domain.promotions.applications import ApplicationUnit
from patron.domain.promotions.loyalty import Balance, Program
from patron.domain.promotions.model import LoyaltyProgram
from patron.domain.store import Store
from patron.domain.tenancy.service import require_workspace


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One row of a customer's ledger, as Talon lists transactions."""

    id: int
    created: datetime
    program_id: int
    integration_id: str
    subledger_id: str
    type: str  # addition, subtraction (a rollback is the opposite of what it undoes)
    amount: Decimal
    name: str
    transaction_uuid: str
    start: datetime | None = None
    expiry: datetime | None = None
    session_id: str | None = None
    application_id: int | None = None
    rolled_back: bool = False


@dataclass(frozen=True, slots=True)
class PointsChange:
    """What the Management API asks for (``AddLoyaltyPoints``/``DeductLoyaltyPoints``)."""

    points: Decimal
    name: str = ""
    subledger_id: str = ""
    application_id: int | None = None
    validity: str | None = None  # a duration, or "unlimited"; None: the program's
    valid_until: datetime | None = None
    pending: str | None = None  # a duration, or "immediate"; None: the program's
    pending_until: datetime | None = None


class PointsLedger(Protocol):
    """What evaluating and closing sessions need of the ledger (sessions use it too)."""

    def loyalty_for_profile(
        self, workspace_id: str, application_id: int, integration_id: str, now: datetime
    ) -> dict[str, LoyaltyProgram]:
        """The programs the application subscribes to, by id as text, with the
        customer's balances (the rule engine's view)."""
        ...

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
    ) -> None: ...

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
    ) -> bool: ...

    def reverse_transaction(self, transaction_uuid: str, now: datetime) -> None: ...


class LoyaltyUnit(ApplicationUnit, PointsLedger, Protocol):
    """Storage of loyalty programs and ledgers."""

    def create_loyalty_program(self, program: Program) -> Program: ...

    def get_loyalty_program(self, workspace_id: str, program_id: int) -> Program | None: ...

    def update_loyalty_program(self, program: Program) -> None: ...

    def list_loyalty_programs(self, workspace_id: str) -> list[Program]: ...

    def loyalty_balances(
        self, program_id: int, integration_id: str, now: datetime
    ) -> dict[str, Balance]:
        """The customer's balances by subledger ("" = the main ledger, always there)."""
        ...

    def loyalty_entries(self, program_id: int, integration_id: str) -> list[LedgerEntry]: ...


class LoyaltyService:
    def __init__(
        self, store: Store[LoyaltyUnit], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.clock = clock

    # -- programs ----------------------------------------------------------------------

    async def create(self, *, workspace: str, program: Program) -> Program:
        """Create ``program`` in the named workspace (its id and workspace are assigned)."""
        problems = loyalty.validate_program(program)
        if problems:
            raise Invalid.of(problems)
        now = self.clock()

        def work(unit: LoyaltyUnit) -> Program:
            found = require_workspace(unit, workspace)
            if any(p.name == program.name for p in unit.list_loyalty_programs(found.id)):
                raise Conflict(f"a loyalty program named {program.name!r} already exists")
            for index, application_id in enumerate(program.subscribed_applications):
                if unit.get_application(found.id, application_id) is None:
                    field = f"subscribedApplications.{index}"
                    raise Invalid.of([Problem(f"no application {application_id}", field)])
            new = replace(program, workspace_id=found.id, created_at=now, updated_at=now)
            return unit.create_loyalty_program(new)

        return await self.store.write(work)

    async def update(self, *, workspace_id: str, program: Program) -> Program:
        """Change a program's settings (its name, id and ledgers stay)."""
        problems = loyalty.validate_program(program)
        if problems:
            raise Invalid.of(problems)
        now = self.clock()

        def work(unit: LoyaltyUnit) -> Program:
            current = unit.get_loyalty_program(workspace_id, program.id)
            if current is None:
                raise NotFound("loyalty program", program.id)
            for index, application_id in enumerate(program.subscribed_applications):
                if unit.get_application(workspace_id, application_id) is None:
                    field = f"subscribedApplications.{index}"
                    raise Invalid.of([Problem(f"no application {application_id}", field)])
            updated = replace(
                program,
                workspace_id=workspace_id,
                name=current.name,
                created_at=current.created_at,
                updated_at=now,
            )
            unit.update_loyalty_program(updated)
            return updated

        return await self.store.write(work)

    async def of_named_workspace(self, *, workspace: str) -> list[Program]:
        def work(unit: LoyaltyUnit) -> list[Program]:
            return unit.list_loyalty_programs(require_workspace(unit, workspace).id)

        return await self.store.read(work)

    async def of_workspace(self, *, workspace_id: str) -> list[Program]:
        return await self.store.read(lambda unit: unit.list_loyalty_programs(workspace_id))

    async def of_application(self, *, workspace_id: str, application_id: int) -> list[Program]:
        programs = await self.of_workspace(workspace_id=workspace_id)
        return [p for p in programs if application_id in p.subscribed_applications]

    async def get(self, *, workspace_id: str, program_id: int) -> Program:
        found = await self.store.read(
            lambda unit: unit.get_loyalty_program(workspace_id, program_id)
        )
        if found is None:
            raise NotFound("loyalty program", program_id)
        return found

    # -- points ------------------------------------------------------------------------

    async def add_points(
        self, *, workspace_id: str, program_id: int, integration_id: str, change: PointsChange
    ) -> str:
        """Add points to the customer's ledger; return the transaction's uuid."""
        program = await self.get(workspace_id=workspace_id, program_id=program_id)
        _check(program, integration_id, change)
        now = self.clock()
        start, expiry = _dates(program, now, change)
        transaction = str(uuid.uuid4())

        def work(unit: LoyaltyUnit) -> None:
            unit.add_points(
                program_id=program.id,
                integration_id=integration_id,
                subledger_id=change.subledger_id,
                amount=change.points,
                transaction_uuid=transaction,
                now=now,
                start=start,
                expiry=expiry,
                name=change.name,
                application_id=change.application_id,
            )

        await self.store.write(work)
        return transaction

    async def deduct_points(
        self, *, workspace_id: str, program_id: int, integration_id: str, change: PointsChange
    ) -> str:
        """Spend the customer's active points (earliest-expiring first), or Invalid."""
        program = await self.get(workspace_id=workspace_id, program_id=program_id)
        _check(program, integration_id, change)
        now = self.clock()
        transaction = str(uuid.uuid4())

        def work(unit: LoyaltyUnit) -> bool:
            return unit.deduct_points(
                program_id=program.id,
                integration_id=integration_id,
                subledger_id=change.subledger_id,
                amount=change.points,
                transaction_uuid=transaction,
                now=now,
                name=change.name,
                application_id=change.application_id,
            )

        if not await self.store.write(work):
            raise Invalid.of([Problem("more points than the customer's active balance", "points")])
        return transaction

    async def balances(
        self, *, workspace_id: str, program_id: int, integration_id: str, at: datetime | None = None
    ) -> dict[str, Balance]:
        program = await self.get(workspace_id=workspace_id, program_id=program_id)
        moment = at or self.clock()
        return await self.store.read(
            lambda unit: unit.loyalty_balances(program.id, integration_id, moment)
        )

    async def ledger(
        self, *, workspace_id: str, program_id: int, integration_id: str
    ) -> tuple[dict[str, Balance], list[LedgerEntry]]:
        program = await self.get(workspace_id=workspace_id, program_id=program_id)
        now = self.clock()

        def work(unit: LoyaltyUnit) -> tuple[dict[str, Balance], list[LedgerEntry]]:
            balances = unit.loyalty_balances(program.id, integration_id, now)
            return balances, unit.loyalty_entries(program.id, integration_id)

        return await self.store.read(work)

    async def balances_in_named_workspace(
        self, *, workspace: str, program_id: int, integration_id: str
    ) -> dict[str, Balance]:
        """For the CLI: the workspace by name."""
        now = self.clock()

        def work(unit: LoyaltyUnit) -> dict[str, Balance]:
            found = require_workspace(unit, workspace)
            if unit.get_loyalty_program(found.id, program_id) is None:
                raise NotFound("loyalty program", program_id)
            return unit.loyalty_balances(program_id, integration_id, now)

        return await self.store.read(work)


def _check(program: Program, integration_id: str, change: PointsChange) -> None:
    problems = loyalty.validate_points(change.points)
    if not integration_id or len(integration_id) > 1000:
        problems.append(Problem("1 to 1000 characters", "integrationId"))
    if change.subledger_id and not program.allow_subledger:
        problems.append(Problem("this loyalty program has no subledgers", "subledgerId"))
    if len(change.subledger_id) > loyalty.MAX_SUBLEDGER:
        problems.append(Problem(f"at most {loyalty.MAX_SUBLEDGER} characters", "subledgerId"))
    if len(change.name) > 1000:
        problems.append(Problem("at most 1000 characters", "name"))
    problems += _duration_problems(change)
    if problems:
        raise Invalid.of(problems)


def _duration_problems(change: PointsChange) -> list[Problem]:
    problems = []
    for text, word, where in (
        (change.validity, loyalty.UNLIMITED, "validityDuration"),
        (change.pending, loyalty.IMMEDIATE, "pendingDuration"),
    ):
        if text is None:
            continue
        try:
            loyalty.parse_duration(text, none_word=word)
        except ValueError as error:
            problems.append(Problem(str(error), where))
    if change.validity is not None and change.valid_until is not None:
        problems.append(Problem("either validityDuration or validUntil", "validUntil"))
    if change.pending is not None and change.pending_until is not None:
        problems.append(Problem("either pendingDuration or pendingUntil", "pendingUntil"))
    return problems


def _dates(
    program: Program, now: datetime, change: PointsChange
) -> tuple[datetime | None, datetime | None]:
    """When the points become active (None: at once) and expire (None: never): the
    request's dates or durations, else the program's defaults."""
    zone = program.timezone
    if change.pending_until is not None:
        start = change.pending_until if change.pending_until > now else None
    else:
        text = change.pending if change.pending is not None else program.default_pending
        pending = loyalty.parse_duration(text, none_word=loyalty.IMMEDIATE)
        start = pending.after(now, zone) if pending else None
    if change.valid_until is not None:
        if change.valid_until <= now:
            raise Invalid.of([Problem("a moment in the future", "validUntil")])
        return start, change.valid_until
    text = change.validity if change.validity is not None else program.default_validity
    validity = loyalty.parse_duration(text, none_word=loyalty.UNLIMITED)
    return start, validity.after(start or now, zone) if validity else None
