"""Live membership: a workspace's filter segments, compiled once, re-evaluate changed customers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from patron.domain.criteria.first_match import compile_all_matches
from patron.domain.people.activity import Activity, ActivityType, new_activity
from patron.domain.people.changes import CustomerDeleted, EventsRecorded, ProfilesChanged
from patron.domain.people.profiles import Profile
from patron.domain.people.records import EventRecord
from patron.domain.segments.customers.document import profile_document
from patron.domain.segments.customers.filters import Clause, IdentityMatch
from patron.domain.segments.customers.model import CustomerSegment, SegmentType
from patron.domain.segments.customers.ports import CustomerSegmentUnit

# How many of the rows a clause counts (events, identities) each customer has:
# (clause, customer ids) -> counts, absent meaning none.
Counts = Callable[[Clause, Sequence[str]], Mapping[str, int]]


def _nothing_counted(_clause: Clause, _customer_ids: Sequence[str]) -> Mapping[str, int]:
    return {}


class Membership:
    """A workspace's filter segments, compiled once into one function; re-evaluates customers."""

    def __init__(self, segments: Iterable[CustomerSegment]) -> None:
        ruled = [(s, rule) for s in segments if (rule := s.rule()) is not None]
        self.segments = [segment for segment, _ in ruled]
        self.rules = [rule for _, rule in ruled]
        self._matches = compile_all_matches([rule.profile for rule in self.rules])
        # Track events that can change a membership by being recorded.
        self.event_names = frozenset(b.name for rule in self.rules for b in rule.behaviours)
        # Whether gaining (or losing) an identity can change a membership.
        self.asks_identities = any(rule.identities for rule in self.rules)

    def __bool__(self) -> bool:
        return bool(self.segments)

    def matching(
        self, profile: Profile, now: datetime, counts: Counts = _nothing_counted
    ) -> set[str]:
        """The ids of the filter segments the profile matches."""
        return self._matching([profile], now, counts)[profile.id]

    def _matching(
        self, profiles: Sequence[Profile], now: datetime, counts: Counts
    ) -> dict[str, set[str]]:
        if not self.segments:
            return {profile.id: set() for profile in profiles}
        # The profile conditions first, in Python; then, only for the customers
        # and segments still in question, one count query per behaviour or identity clause.
        candidates = {p.id: self._matches(profile_document(p), now) for p in profiles}
        asked: dict[Clause, set[str]] = {}
        for customer_id, indexes in candidates.items():
            for index in indexes:
                for clause in self.rules[index].clauses:
                    asked.setdefault(clause, set()).add(customer_id)
        counted = {c: counts(c, sorted(ids)) for c, ids in asked.items()}
        return {
            customer_id: {
                self.segments[index].id
                for index in indexes
                if all(c.holds(counted[c].get(customer_id, 0)) for c in self.rules[index].clauses)
            }
            for customer_id, indexes in candidates.items()
        }

    def acting_customers(self, events: Iterable[EventRecord]) -> set[str]:
        """The customers of these events whose behaviour some segment counts."""
        names = self.event_names
        if not names:
            return set()
        return {e.customer_id for e in events if e.type == "track" and e.name in names}

    def refresh(
        self, unit: CustomerSegmentUnit, profiles: Sequence[Profile], now: datetime
    ) -> None:
        """Bring these customers' memberships in line with their profiles and behaviour."""
        if not self.segments or not profiles:
            return
        workspace_id = profiles[0].workspace_id
        by_id = {segment.id: segment for segment in self.segments}

        def counts(clause: Clause, customer_ids: Sequence[str]) -> Mapping[str, int]:
            if isinstance(clause, IdentityMatch):
                return unit.count_identities(workspace_id, customer_ids, clause)
            return unit.count_events(workspace_id, customer_ids, clause, now)

        live = [p for p in profiles if p.deleted_at is None and p.merged_into is None]
        wanted = self._matching(live, now, counts)
        current = unit.segment_memberships(workspace_id, [p.id for p in profiles])
        joins: list[tuple[str, str]] = []
        leaves: list[tuple[str, str]] = []
        activities: list[Activity] = []
        for profile in profiles:
            want = wanted.get(profile.id, set())
            had = current.get(profile.id, set()) & by_id.keys()
            for segment_id in sorted(want - had):
                joins.append((segment_id, profile.id))
                entered = ActivityType.SEGMENT_ENTERED
                activities.extend(_moved(by_id[segment_id], profile, entered, now))
            for segment_id in sorted(had - want):
                leaves.append((segment_id, profile.id))
                left = ActivityType.SEGMENT_LEFT
                activities.extend(_moved(by_id[segment_id], profile, left, now))
        if joins:
            unit.add_segment_members(workspace_id, joins, now)
        if leaves:
            unit.remove_segment_members(workspace_id, leaves)
        if activities:
            unit.add_activities(activities)


def _moved(
    segment: CustomerSegment, profile: Profile, kind: ActivityType, now: datetime
) -> list[Activity]:
    if segment.type is not SegmentType.AUTO_UPDATE:
        return []
    data = {
        "customer": {"id": profile.id, "source_id": profile.external_id},
        "segment": {"id": segment.id, "name": segment.name},
    }
    return [new_activity(profile.workspace_id, profile.id, kind, data, now)]


class MembershipCache:
    """Each workspace's compiled segments, recompiled when its customer segments change.

    Keyed on the workspace's customer segments version (bumped by every
    change to them), read in the caller's transaction, so every process sees
    a change at its next transaction.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[int, Membership]] = {}

    def current(self, unit: CustomerSegmentUnit, workspace_id: str) -> Membership:
        version = unit.customer_segments_version(workspace_id)
        cached = self._compiled.get(workspace_id)
        if cached is None or cached[0] != version:
            found = unit.list_customer_segments(workspace_id)
            cached = (version, Membership(s for s in found if s.type is not SegmentType.STATIC))
            self._compiled[workspace_id] = cached
        return cached[1]


class MembershipListener:
    """Keeps memberships live: subscribed to what changes people (see ``patron.services``)."""

    def __init__(self, cache: MembershipCache) -> None:
        self.cache = cache

    def profiles_changed(self, unit: CustomerSegmentUnit, change: ProfilesChanged) -> None:
        """Re-evaluate the changed profiles."""
        membership = self.cache.current(unit, change.workspace_id)
        if membership and change.profiles:
            membership.refresh(unit, change.profiles, change.now)

    def events_recorded(self, unit: CustomerSegmentUnit, change: EventsRecorded) -> None:
        """Re-evaluate the customers whose new events (or identities) some segment counts."""
        membership = self.cache.current(unit, change.workspace_id)
        if not membership:
            return
        acting = membership.acting_customers(change.events)
        if membership.asks_identities:
            acting |= change.linked
        acting -= change.changed  # re-evaluated for their ProfilesChanged, events counted
        if acting:
            profiles = unit.load_profiles(change.workspace_id, sorted(acting))
            membership.refresh(unit, profiles, change.now)

    def customer_deleted(self, unit: CustomerSegmentUnit, change: CustomerDeleted) -> None:
        """A deleted customer leaves every segment (auto-update ones record that it left)."""
        profile, workspace_id = change.profile, change.workspace_id
        self.cache.current(unit, workspace_id).refresh(unit, [profile], change.now)
        static = unit.segment_memberships(workspace_id, [profile.id]).get(profile.id, set())
        unit.remove_segment_members(workspace_id, [(s, profile.id) for s in sorted(static)])
