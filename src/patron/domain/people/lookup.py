"""Finding a customer by any of its references, following merges."""

from __future__ import annotations

from patron.domain.errors import NotFound
from patron.domain.people.ports import CustomerReader
from patron.domain.people.profiles import IdentityKind, Profile

MAX_MERGE_HOPS = 32


def resolve_customer(
    reader: CustomerReader, workspace_id: str, ref: str, *, deleted: bool = False
) -> Profile:
    """Find a customer by Patron id, userId or anonymousId; follow merges to the survivor.

    A deleted customer is found (by its Patron id only) when ``deleted`` is set.
    """
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
    if profile is None or (profile.deleted_at is not None and not deleted):
        raise NotFound("customer", ref)
    return profile
