"""The Talon profile service: profile updates, inventory, customer data deletion,
and the customer's holdings for Voucherify's redeemables."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from patron.domain.clock import utcnow
from patron.domain.customers.model import DeletionReport
from patron.domain.customers.ports import CustomerUnit
from patron.domain.customers.service import erase_customer
from patron.domain.people.lookup import resolve_customer
from patron.domain.people.profiles import Profile
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.inventory import (
    Holdings,
    InventoryReader,
    ProgramBalance,
    program_balances,
    read_holdings,
)
from patron.domain.promotions.locks import LockUnit, lock_profiles
from patron.domain.promotions.profiles import (
    AudienceChanges,
    ProfileWriter,
    TalonProfile,
    change_audiences,
    find_profile,
    require_profile,
    talon_profile,
    update_profiles,
)
from patron.domain.store import Store
from patron.ids import new_id


class ProfileUnit(ProfileWriter, CustomerUnit, InventoryReader, LockUnit, Protocol):
    """Everything the profile service reads and writes."""


@dataclass(frozen=True, slots=True)
class Inventory:
    """A Talon inventory: the profile (if asked for) and the customer's holdings."""

    profile: TalonProfile | None
    holdings: Holdings


@dataclass(frozen=True, slots=True)
class CustomerHoldings:
    """A customer (by Patron id or source_id) and what they hold in every application."""

    profile: Profile
    holdings: Holdings


class ProfileService:
    """Talon profiles are customers: read, updated and erased as such."""

    def __init__(
        self,
        store: Store[ProfileUnit],
        *,
        lock_wait_ms: int = 200,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.lock_wait_ms = lock_wait_ms
        self.clock = clock

    async def update(
        self,
        *,
        caller: Caller,
        integration_id: str,
        attributes: Mapping[str, Any],
        audiences: AudienceChanges | None = None,
    ) -> TalonProfile:
        """Create or update one profile (and its audiences); return it as saved."""
        now = self.clock()

        def work(unit: ProfileUnit) -> TalonProfile:
            lock_profiles(unit, caller.workspace_id, [integration_id], self.lock_wait_ms)
            (profile,) = update_profiles(
                unit, caller.workspace_id, [(integration_id, attributes)], now
            )
            if audiences is not None:
                change_audiences(unit, profile, audiences, now)
            return talon_profile(unit, profile, integration_id)

        return await self.store.write(work)

    async def update_many(
        self, *, caller: Caller, changes: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[TalonProfile]:
        """Create or update many profiles in one transaction; one answer per change."""
        now = self.clock()

        def work(unit: ProfileUnit) -> list[TalonProfile]:
            ids = [integration_id for integration_id, _ in changes]
            lock_profiles(unit, caller.workspace_id, ids, self.lock_wait_ms)
            profiles = update_profiles(unit, caller.workspace_id, changes, now)
            return [
                talon_profile(unit, profile, integration_id)
                for profile, (integration_id, _) in zip(profiles, changes, strict=True)
            ]

        return await self.store.write(work)

    async def preview(
        self, *, caller: Caller, integration_id: str, attributes: Mapping[str, Any]
    ) -> TalonProfile:
        """The profile as an update would leave it, saving nothing (a dry run)."""
        now = self.clock()

        def work(unit: ProfileUnit) -> TalonProfile:
            found = find_profile(unit, caller.workspace_id, integration_id)
            if found is None:
                profile = Profile(new_id("cust"), caller.workspace_id, integration_id, now, now)
            else:
                profile = replace(found, attributes=dict(found.attributes))
            profile.apply_traits(dict(attributes), now=now)
            return talon_profile(unit, profile, integration_id)

        return await self.store.read(work)

    async def get(self, *, workspace_id: str, integration_id: str) -> TalonProfile:
        """The profile of an integration id; NotFound if no customer has it."""

        def work(unit: ProfileUnit) -> TalonProfile:
            profile = require_profile(unit, workspace_id, integration_id)
            return talon_profile(unit, profile, integration_id)

        return await self.store.read(work)

    async def inventory(
        self,
        *,
        caller: Caller,
        integration_id: str,
        profile: bool,
        coupons: bool,
        referrals: bool,
        loyalty: bool,
    ) -> Inventory:
        """What the profile holds in the caller's application; NotFound for no profile."""
        now = self.clock()

        def work(unit: ProfileUnit) -> Inventory:
            found = require_profile(unit, caller.workspace_id, integration_id)
            holdings = read_holdings(
                unit,
                caller.workspace_id,
                integration_id,
                now,
                application_id=caller.application_id,
                coupons=coupons,
                referrals=referrals,
                loyalty=loyalty,
            )
            shown = talon_profile(unit, found, integration_id) if profile else None
            return Inventory(shown, holdings)

        return await self.store.read(work)

    async def loyalty(self, *, caller: Caller, integration_id: str) -> list[ProgramBalance]:
        """The profile's balances in the programs the caller's application subscribes to
        (none for an unknown profile)."""
        now = self.clock()

        def work(unit: ProfileUnit) -> list[ProgramBalance]:
            ledgers = unit.loyalty_ledgers(caller.workspace_id, integration_id)
            return program_balances(ledgers, now, caller.application_id)

        return await self.store.read(work)

    async def holdings(self, *, workspace_id: str, ref: str) -> CustomerHoldings:
        """A customer's holdings in every application (by Patron id, source_id or
        anonymousId); a customer without an external id holds nothing."""
        now = self.clock()

        def work(unit: ProfileUnit) -> CustomerHoldings:
            profile = resolve_customer(unit, workspace_id, ref)
            if profile.external_id is None:
                return CustomerHoldings(profile, Holdings([], [], []))
            holdings = read_holdings(
                unit, workspace_id, profile.external_id, now, application_id=None
            )
            return CustomerHoldings(profile, holdings)

        return await self.store.read(work)

    async def delete_customer_data(
        self, *, workspace_id: str, integration_id: str
    ) -> DeletionReport:
        """Erase the profile's customer as Voucherify's permanent deletion does:
        the profile, identities, events, sessions, reservations, ledger entries,
        referrals… (anonymous counters stay). NotFound for no profile."""
        now = self.clock()

        def work(unit: ProfileUnit) -> DeletionReport:
            profile = require_profile(unit, workspace_id, integration_id)
            return erase_customer(unit, profile, now)

        return await self.store.write(work)
