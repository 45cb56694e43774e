"""What the customers capability needs from storage."""

from __future__ import annotations

from typing import Protocol

from patron.domain.customers.model import CustomerQuery
from patron.domain.people.activity import Activity, ActivityQuery
from patron.domain.people.ports import ActivityWriter, CustomerReader, IdentityUnit
from patron.domain.people.profiles import Profile


class CustomerRowsUnit(IdentityUnit, ActivityWriter, Protocol):
    """What applying customer rows (one customer, or a bulk job's chunk) needs."""


class CustomerUnit(CustomerRowsUnit, CustomerReader, Protocol):
    """What the customers API needs beyond applying rows."""

    def list_customers(self, workspace_id: str, query: CustomerQuery) -> tuple[list[Profile], int]:
        """Up to ``limit + 1`` customers of the query's page, and how many match in all."""
        ...

    def list_activity(self, profile: Profile, query: ActivityQuery) -> list[Activity]:
        """Up to ``limit + 1`` activities of the customer, in the query's order.

        Raises :class:`~patron.domain.errors.Invalid` for an unknown cursor.
        """
        ...

    def count_activity(self, profile: Profile, query: ActivityQuery) -> int:
        """How many activities of the customer match the query (cursor and limit aside)."""
        ...

    def remove_identities(self, workspace_id: str, customer_id: str) -> None:
        """Unlink every userId and anonymousId from the customer (they become free)."""
        ...

    def erasable_external_ids(self, workspace_id: str, customer_id: str) -> frozenset[str]:
        """The external ids of the customer and of the profiles merged into it that no
        other customer holds now (rows of other capabilities name the customer by them)."""
        ...

    def erase_customer(self, workspace_id: str, customer_id: str) -> dict[str, int]:
        """Delete the customer, the profiles merged into it and everything referring to them;
        return how many rows went, by kind (customers, events, activities, memberships)."""
        ...
