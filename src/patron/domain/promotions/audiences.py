"""Talon.One audiences: the workspace's static customer segments, with integer ids.

An audience is not an object of its own: it IS a static customer segment
(the Voucherify surface lists, reads and deletes the same one), and the
``audiences`` row only gives it Talon's integer id (and the integration
that created it, if one did).

* An audience created through Talon's API is a new static segment.
* A static segment created elsewhere gets its audience id the first time
  Talon's side lists audiences (``GET /v1/audiences``) — the only place a
  Talon client can learn ids from — and keeps it.
* Membership changes (``/v2/customer_audiences``, a profile's
  ``audiencesChanges``) go through the customer segments capability
  (:mod:`patron.domain.segments.customers.static`); adding an integration id
  Patron does not know creates that customer, as Talon creates the profile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.people.identity import IdentityResolver
from patron.domain.people.ports import IdentityUnit
from patron.domain.promotions.locks import LockUnit, lock_profiles
from patron.domain.segments.customers import static
from patron.domain.store import Store

MAX_ACTIONS = 1000  # Talon's bound for one /v2/customer_audiences request
MAX_INTEGRATION_ID = 1000
MAX_INTEGRATION = 100
MAX_PAGE = 1000
MAX_ID = 2**31 - 1  # Talon's ids are 32-bit integers
MAX_SKIP = 2**62
SORTS = frozenset({"id", "name", "created"})


@dataclass(frozen=True, slots=True)
class Audience:
    id: int
    workspace_id: str
    segment_id: str
    name: str
    integration: str | None
    integration_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MembershipAction:
    add: bool  # False: delete
    integration_id: str
    audience_id: int


class AudienceUnit(static.StaticSegmentUnit, IdentityUnit, LockUnit, Protocol):
    """Storage of audience ids, over customer segments and people."""

    def insert_audience(
        self,
        workspace_id: str,
        segment_id: str,
        integration: str | None,
        integration_id: str | None,
        now: datetime,
    ) -> int: ...

    def audiences_by_ids(self, workspace_id: str, ids: Iterable[int]) -> dict[int, Audience]: ...

    def find_audience(
        self, workspace_id: str, integration: str, integration_id: str
    ) -> Audience | None: ...

    def assign_audience_ids(self, workspace_id: str, now: datetime) -> None:
        """Give every static segment of the workspace that has no audience id one."""
        ...

    def list_audiences(
        self, workspace_id: str, *, sort: str, skip: int, limit: int
    ) -> list[Audience]: ...

    def count_audiences(self, workspace_id: str) -> int: ...

    def audience_ids_of(self, workspace_id: str, customer_id: str) -> tuple[int, ...]:
        """The audience ids of the static segments the customer is in, ascending."""
        ...


def apply_membership_actions(
    unit: AudienceUnit, workspace_id: str, actions: Sequence[MembershipAction], now: datetime
) -> None:
    """Apply add/delete actions in order (the last one per pair wins), in the open transaction.

    Unknown audience ids are NotFound (nothing is applied: the transaction
    fails). An added integration id Patron does not know becomes a customer;
    deleting one that is no one's member does nothing.
    """
    found = unit.audiences_by_ids(workspace_id, {a.audience_id for a in actions})
    missing = sorted({a.audience_id for a in actions} - found.keys())
    if missing:
        raise NotFound("audience", missing[0])
    resolver = IdentityResolver(unit, workspace_id, now)
    resolver.prefetch_users({a.integration_id for a in actions})
    last: dict[tuple[str, str], bool] = {}
    for action in actions:
        last[(found[action.audience_id].segment_id, action.integration_id)] = action.add
    adds, removes = [], []
    for (segment_id, integration_id), add in last.items():
        if add:
            customer_id, _ = resolver.customer_for_user(integration_id)
            adds.append((segment_id, customer_id))
        elif (owner := resolver.owner_of_user(integration_id)) is not None:
            removes.append((segment_id, owner))
    resolver.commit()  # new customers are written and published (filter segments follow)
    static.change_members(unit, workspace_id, adds, removes, now)


class AudienceService:
    """Creates, renames, deletes and lists audiences; changes their members."""

    def __init__(
        self,
        store: Store[AudienceUnit],
        clock: Callable[[], datetime] = utcnow,
        *,
        lock_wait_ms: int = 200,
    ) -> None:
        self.store = store
        self.clock = clock
        self.lock_wait_ms = lock_wait_ms

    async def create(self, workspace_id: str, body: Mapping[str, Any]) -> Audience:
        """A new audience (a new static segment), or the one this integration made already
        (``integration`` and ``integrationId`` name it), renamed."""
        name = static.valid_name(body.get("name"))
        integration, integration_id = _integration(body)
        now = self.clock()

        def work(unit: AudienceUnit) -> Audience:
            if integration is not None and integration_id is not None:
                existing = unit.find_audience(workspace_id, integration, integration_id)
                if existing is not None:
                    static.rename_static_segment(unit, workspace_id, existing.segment_id, name, now)
                    return _audience(unit, workspace_id, existing.id)
            segment = static.create_static_segment(unit, workspace_id, name, now)
            new_id = unit.insert_audience(
                workspace_id, segment.id, integration, integration_id, now
            )
            return _audience(unit, workspace_id, new_id)

        return await self.store.write(work)

    async def update(
        self, workspace_id: str, audience_id: int, body: Mapping[str, Any]
    ) -> Audience:
        name = static.valid_name(body.get("name"))
        now = self.clock()

        def work(unit: AudienceUnit) -> Audience:
            audience = _audience(unit, workspace_id, audience_id)
            static.rename_static_segment(unit, workspace_id, audience.segment_id, name, now)
            return _audience(unit, workspace_id, audience_id)

        return await self.store.write(work)

    async def delete(self, workspace_id: str, audience_id: int) -> None:
        """Delete the audience: its segment and memberships go (everywhere) with it."""

        def work(unit: AudienceUnit) -> None:
            audience = _audience(unit, workspace_id, audience_id)
            static.delete_static_segment(unit, workspace_id, audience.segment_id)

        await self.store.write(work)

    async def clear(self, workspace_id: str, audience_id: int) -> int:
        """Remove every member; return how many there were."""

        def work(unit: AudienceUnit) -> int:
            audience = _audience(unit, workspace_id, audience_id)
            return static.clear_members(unit, workspace_id, audience.segment_id)

        return await self.store.write(work)

    async def change_memberships(self, workspace_id: str, body: Mapping[str, Any]) -> None:
        """``POST /v2/customer_audiences``: all the actions, or (any error) none."""
        actions = parse_actions(body.get("data"))
        now = self.clock()

        def work(unit: AudienceUnit) -> None:
            ids = [action.integration_id for action in actions]
            lock_profiles(unit, workspace_id, ids, self.lock_wait_ms)
            apply_membership_actions(unit, workspace_id, actions, now)

        await self.store.write(work, size=max(1, len(actions)))

    async def page(
        self, workspace_id: str, *, skip: int = 0, limit: int = MAX_PAGE, sort: str = "id"
    ) -> tuple[list[Audience], int]:
        """A page of the workspace's audiences and how many there are (ids assigned first)."""
        validate_page(skip, limit, sort)
        now = self.clock()

        def work(unit: AudienceUnit) -> tuple[list[Audience], int]:
            unit.assign_audience_ids(workspace_id, now)
            found = unit.list_audiences(workspace_id, sort=sort, skip=skip, limit=limit)
            return found, unit.count_audiences(workspace_id)

        return await self.store.write(work)

    async def ids_of(self, workspace_id: str, customer_id: str) -> tuple[int, ...]:
        return await self.store.read(lambda unit: unit.audience_ids_of(workspace_id, customer_id))


def _audience(unit: AudienceUnit, workspace_id: str, audience_id: int) -> Audience:
    found = unit.audiences_by_ids(workspace_id, [audience_id]).get(audience_id)
    if found is None:
        raise NotFound("audience", audience_id)
    return found


def _integration(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    integration, integration_id = body.get("integration"), body.get("integrationId")
    problems = []
    if integration is not None and (
        not isinstance(integration, str) or not 0 < len(integration) <= MAX_INTEGRATION
    ):
        problems.append(Problem(f"1 to {MAX_INTEGRATION} characters", "integration"))
    if integration_id is not None and (
        not isinstance(integration_id, str) or not 0 < len(integration_id) <= MAX_INTEGRATION_ID
    ):
        problems.append(Problem(f"1 to {MAX_INTEGRATION_ID} characters", "integrationId"))
    if problems:
        raise Invalid.of(problems)
    return integration, integration_id


def parse_actions(data: Any) -> list[MembershipAction]:
    """The ``data`` of a ``CustomerProfileAudienceRequest``, or Invalid with pointers."""
    if not isinstance(data, list):
        raise Invalid.of([Problem("a list of audience actions", "data")])
    if len(data) > MAX_ACTIONS:
        raise Invalid.of([Problem(f"at most {MAX_ACTIONS} actions", "data")])
    problems: list[Problem] = []
    actions = [_action(item, f"data.{index}", problems) for index, item in enumerate(data)]
    if problems:
        raise Invalid.of(problems)
    return [action for action in actions if action is not None]


def _action(item: Any, at: str, problems: list[Problem]) -> MembershipAction | None:
    if not isinstance(item, dict):
        problems.append(Problem("an object", at))
        return None
    action, profile, audience = (
        item.get("action"),
        item.get("profileIntegrationId"),
        item.get("audienceId"),
    )
    found = []
    if action not in ("add", "delete"):
        found.append(Problem("add or delete", f"{at}.action"))
    if not isinstance(profile, str) or not 0 < len(profile) <= MAX_INTEGRATION_ID:
        found.append(Problem(f"1 to {MAX_INTEGRATION_ID} characters", f"{at}.profileIntegrationId"))
    if not isinstance(audience, int) or isinstance(audience, bool) or not 0 < audience <= MAX_ID:
        found.append(Problem("an audience id", f"{at}.audienceId"))
    problems.extend(found)
    if found or not isinstance(profile, str) or not isinstance(audience, int):
        return None
    return MembershipAction(action == "add", profile, audience)


def validate_page(skip: int, limit: int, sort: str) -> None:
    problems = []
    if not 1 <= limit <= MAX_PAGE:
        problems.append(Problem(f"1 to {MAX_PAGE}", "pageSize"))
    if not 0 <= skip <= MAX_SKIP:
        problems.append(Problem("0 or more", "skip"))
    if sort.removeprefix("-") not in SORTS:
        problems.append(Problem("id, name or created, - for descending", "sort"))
    if problems:
        raise Invalid.of(problems)
