"""Customers: reading, listing and changing profiles outside the tracking API.

The tracking API changes customers through identity resolution; the customers
(Voucherify) API creates, updates and deletes them here, through the same
rows as bulk jobs (:mod:`patron.domain.customers.rows`), so a customer made
either way is the same customer: its ``source_id`` is the tracking ``userId``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from patron.domain.clock import utcnow
from patron.domain.customers.model import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    ActivityPage,
    CustomerPage,
    CustomerQuery,
    CustomerView,
    DeletionReport,
)
from patron.domain.customers.ports import CustomerUnit
from patron.domain.customers.rows import apply_customer_rows
from patron.domain.errors import Conflict, Invalid, NotFound, Problem
from patron.domain.jobs.model import RowStatus
from patron.domain.people.activity import ActivityQuery, ActivityType, new_activity
from patron.domain.people.changes import CustomerDeleted, CustomerErasing
from patron.domain.people.lookup import resolve_customer
from patron.domain.people.ports import CustomerReader
from patron.domain.people.profiles import Profile
from patron.domain.store import Store
from patron.ids import new_id


def validate_page(limit: int, page: int = 1) -> None:
    problems = []
    if not 1 <= limit <= MAX_PAGE_SIZE:
        problems.append(Problem(f"must be between 1 and {MAX_PAGE_SIZE}", "limit"))
    if not 1 <= page <= MAX_PAGE:
        problems.append(Problem(f"must be between 1 and {MAX_PAGE}", "page"))
    if problems:
        raise Invalid.of(problems)


class CustomerService:
    """Customers for the CLI and the API surfaces."""

    def __init__(
        self,
        store: Store[CustomerUnit],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.clock = clock

    # -- reading ------------------------------------------------------------------

    async def get(self, *, workspace_id: str, ref: str) -> CustomerView:
        """A customer with identities and groups, by Patron id, userId or anonymousId."""

        def work(reader: CustomerReader) -> CustomerView:
            profile = resolve_customer(reader, workspace_id, ref)
            return CustomerView(
                profile=profile,
                identities=reader.list_identities(workspace_id, profile.id),
                groups=reader.list_groups(workspace_id, profile.id),
            )

        return await self.store.read(work)

    async def profile(self, *, workspace_id: str, ref: str) -> Profile:
        """Just the profile, by Patron id, userId or anonymousId."""
        return await self.store.read(lambda reader: resolve_customer(reader, workspace_id, ref))

    async def list_events(
        self, *, workspace_id: str, ref: str, limit: int = 100
    ) -> list[dict[str, Any]]:
        """A customer's events, newest first, with every stored field."""

        def work(reader: CustomerReader) -> list[dict[str, Any]]:
            profile = resolve_customer(reader, workspace_id, ref)
            return reader.list_events(workspace_id, profile.id, limit=limit)

        return await self.store.read(work)

    async def list(self, *, workspace_id: str, query: CustomerQuery) -> CustomerPage:
        """One page of the workspace's customers (not deleted, not merged away)."""
        validate_page(query.limit, query.page)

        def work(unit: CustomerUnit) -> CustomerPage:
            found, total = unit.list_customers(workspace_id, query)
            return CustomerPage(found[: query.limit], total, len(found) > query.limit)

        return await self.store.read(work)

    async def activity(self, *, workspace_id: str, ref: str, query: ActivityQuery) -> ActivityPage:
        """What happened to a customer (a deleted one too, by its Patron id)."""
        validate_page(query.limit)

        def work(unit: CustomerUnit) -> ActivityPage:
            profile = resolve_customer(unit, workspace_id, ref, deleted=True)
            found = unit.list_activity(profile, query)
            return ActivityPage(found[: query.limit], len(found) > query.limit)

        return await self.store.read(work)

    async def count_activity(self, *, workspace_id: str, ref: str, query: ActivityQuery) -> int:
        """How many activities match the query's filters (its cursor and limit aside)."""

        def work(unit: CustomerUnit) -> int:
            profile = resolve_customer(unit, workspace_id, ref, deleted=True)
            return unit.count_activity(profile, query)

        return await self.store.read(work)

    # -- changing -----------------------------------------------------------------

    async def upsert(self, *, workspace_id: str, row: dict[str, Any]) -> tuple[Profile, bool]:
        """Apply one customer row (see ``customers.rows``); return it and whether it is new.

        A row with an ``id`` updates that customer (NotFound if there is none);
        else one with a ``source_id`` updates or creates that customer; else a
        new customer is made.
        """
        now = self.clock()

        def work(unit: CustomerUnit) -> tuple[Profile, bool]:
            (outcome,) = apply_customer_rows(unit, workspace_id, [row], now)
            if outcome.status is RowStatus.FAILED:
                assert outcome.error is not None
                message = outcome.error["message"]
                if outcome.error["code"] == "not_found":
                    raise NotFound("customer", row.get("id"), message)
                raise Conflict(message)
            assert outcome.record_id is not None
            profile = unit.get_profile(workspace_id, outcome.record_id)
            assert profile is not None
            return profile, outcome.status is RowStatus.CREATED

        return await self.store.write(work)

    async def update(self, *, workspace_id: str, ref: str, row: dict[str, Any]) -> Profile:
        """Change an existing customer, found by Patron id or source_id (userId).

        The row may name the customer too (clients send the whole customer):
        its ``id`` and ``source_id`` must then be the customer's own.
        """
        now = self.clock()

        def work(unit: CustomerUnit) -> Profile:
            profile = resolve_customer(unit, workspace_id, ref)
            changes = {**_naming(profile, row, ref), "id": profile.id}
            (outcome,) = apply_customer_rows(unit, workspace_id, [changes], now)
            if outcome.status is RowStatus.FAILED:
                assert outcome.error is not None
                raise Conflict(outcome.error["message"])
            updated = unit.get_profile(workspace_id, profile.id)
            assert updated is not None
            return updated

        return await self.store.write(work)

    async def delete(self, *, workspace_id: str, ref: str) -> None:
        """Delete a customer: it is gone from every API, and its ids are free again.

        Its events and activity stay (readable by its Patron id) until a
        permanent deletion.
        """
        now = self.clock()

        def work(unit: CustomerUnit) -> None:
            profile = resolve_customer(unit, workspace_id, ref)
            unit.remove_identities(workspace_id, profile.id)
            profile.deleted_at = now
            unit.save_profiles([profile])
            unit.publish(CustomerDeleted(workspace_id, profile, now))  # it leaves its segments
            data = {"customer": {"id": profile.id, "source_id": profile.external_id}}
            unit.add_activities(
                [new_activity(workspace_id, profile.id, ActivityType.DELETED, data, now)]
            )

        await self.store.write(work)

    async def erase(self, *, workspace_id: str, ref: str) -> DeletionReport:
        """Permanently delete a customer and everything that refers to them."""
        now = self.clock()

        def work(unit: CustomerUnit) -> DeletionReport:
            profile = resolve_customer(unit, workspace_id, ref, deleted=True)
            return erase_customer(unit, profile, now)

        return await self.store.write(work)


def erase_customer(unit: CustomerUnit, profile: Profile, now: datetime) -> DeletionReport:
    """Permanently delete ``profile`` (and the profiles merged into it) in the open
    transaction: first what other capabilities keep about it (:class:`CustomerErasing`),
    then its events, activity, memberships, identities and the profiles themselves."""
    workspace_id = profile.workspace_id
    external_ids = unit.erasable_external_ids(workspace_id, profile.id)
    erasing = CustomerErasing(workspace_id, profile, external_ids, now)
    unit.publish(erasing)
    counts = unit.erase_customer(workspace_id, profile.id)
    return DeletionReport(
        id=new_id("del"),
        customer_id=profile.id,
        created_at=now,
        customers=counts.get("customers", 0),
        events=counts.get("events", 0),
        # Every entry the customer's activity listed: recorded ones, one
        # per event, and customer.created for each profile.
        activities=sum(counts.get(k, 0) for k in ("activities", "events", "customers")),
        memberships=counts.get("memberships", 0),
        related=dict(sorted(erasing.erased.items())),
    )


def _naming(profile: Profile, row: dict[str, Any], ref: str) -> dict[str, Any]:
    """The row without ``id``/``source_id``, which may only name ``profile`` (Invalid if not)."""
    own = {"id": profile.id, "source_id": profile.external_id}
    wrong = [key for key in own if row.get(key) is not None and row[key] != own[key]]
    if wrong:
        message = f"names another customer than {ref!r}; leave it out"
        raise Invalid.of([Problem(message, key) for key in wrong])
    return {key: value for key, value in row.items() if key not in own}
