"""Reading customers: profiles with their identities, groups and events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patron.domain.errors import NotFound
from patron.domain.ports import CustomerReader, IdentityKey, Store
from patron.domain.profiles import IdentityKind, Profile

MAX_MERGE_HOPS = 32


@dataclass(frozen=True, slots=True)
class CustomerView:
    profile: Profile
    identities: list[IdentityKey]
    groups: list[dict[str, Any]]


def resolve_customer(reader: CustomerReader, workspace_id: str, ref: str) -> Profile:
    """Find a customer by Patron id, userId or anonymousId; follow merges to the survivor."""
    customer_id: str | None = ref
    profile = reader.get_profile(workspace_id, ref)
    if profile is None:
        for kind in (IdentityKind.USER_ID, IdentityKind.ANONYMOUS_ID):
            customer_id = reader.find_customer_id(workspace_id, (kind, ref))
            if customer_id is not None:
                profile = reader.get_profile(workspace_id, customer_id)
                break
    hops = 0
    while profile is not None and profile.merged_into is not None and hops < MAX_MERGE_HOPS:
        profile = reader.get_profile(workspace_id, profile.merged_into)
        hops += 1
    if profile is None:
        raise NotFound(f"no customer {ref!r}")
    return profile


class CustomerService:
    """Read access to customers for the CLI and the API surfaces."""

    def __init__(self, store: Store) -> None:
        self.store = store

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

    async def list_events(
        self, *, workspace_id: str, ref: str, limit: int = 100
    ) -> list[dict[str, Any]]:
        """A customer's events, newest first, with every stored field."""

        def work(reader: CustomerReader) -> list[dict[str, Any]]:
            profile = resolve_customer(reader, workspace_id, ref)
            return reader.list_events(workspace_id, profile.id, limit=limit)

        return await self.store.read(work)
