"""Identity resolution: which customer a message belongs to.

The rules, applied to every message in arrival order:

* A ``userId`` names a known person. The first message with a new ``userId``
  creates their profile, unless it also carries an ``anonymousId`` whose
  profile has no ``userId`` yet: that anonymous profile is *promoted* (it gets
  the ``userId``), so its earlier events become the person's.
* An ``anonymousId`` seen with a ``userId`` is linked to that person. If the
  ``anonymousId`` already had an anonymous profile of its own, that profile is
  *merged* into the person's: events, identities, groups and traits all move.
* An ``anonymousId`` already linked to a *different* known person is left
  alone (a shared device must not merge two people); the message goes to the
  ``userId``'s profile.
* ``alias`` links ``previousId`` to ``userId`` explicitly, merging the two
  profiles when both exist, even if both are known people.
* In a merge the surviving profile's values win; the other only fills gaps.

Concurrent writers (several processes on one PostgreSQL database, each
statement reading what was committed when it started): the identities this
transaction reads may be stale by the time it writes. Another process may
merge the customer they name, moving the events *it can see* and committing,
and the events this transaction then writes would stay on the merged-away
profile, lost from the survivor's history. Two rules close that gap:

1. Every customer found through an identity is *held* before anything is
   written for it (:meth:`IdentityResolver.prefetch`). A customer the hold
   finds already merged away is replaced by its survivor (held too).
2. A merge waits for every hold on its source to end before it moves
   anything (``move_customer_data``).

So a writer either commits before the merge moves (its events move with the
rest) or holds after the merge committed (and writes to the survivor). Holds
do not wait for each other nor for profile updates, and the identity lookup
takes them itself: without a merge they cost no statement and no waiting.
Customers created in the transaction need none: no one else sees them before
it commits. Where two transactions each hold what the other merges, the
database reports a deadlock and the write is retried.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from patron.domain.people.changes import EventsRecorded, ProfilesChanged
from patron.domain.people.lookup import MAX_MERGE_HOPS
from patron.domain.people.ports import IdentityUnit
from patron.domain.people.profiles import IdentityKey, IdentityKind, Profile
from patron.domain.people.records import EventRecord
from patron.ids import new_id

USER = IdentityKind.USER_ID
ANON = IdentityKind.ANONYMOUS_ID


class IdentityResolver:
    """Resolves messages to customers within one transaction, buffering writes.

    New profiles, identities and events are written in bulk by :meth:`flush`;
    a merge flushes first so that the store moves a complete picture.
    """

    def __init__(self, unit: IdentityUnit, workspace_id: str, now: datetime) -> None:
        self.unit = unit
        self.workspace_id = workspace_id
        self.now = now
        self.owners: dict[IdentityKey, str] = {}
        self.profiles: dict[str, Profile] = {}
        self.created: dict[str, Profile] = {}
        self.dirty: set[str] = set()
        self.new_identities: list[tuple[IdentityKey, str]] = []
        self.linked: set[str] = set()  # customers who gained an identity in this transaction
        self.changed_ids: set[str] = set()  # created or changed in it (flushes do not clear)
        self.events: list[EventRecord] = []  # not yet written
        self.recorded: list[EventRecord] = []  # every event of this transaction
        self.groups: dict[str, dict[str, object]] = {}
        self.members: set[tuple[str, str]] = set()
        self.held: set[str] = set()  # customers held against merges (see the module)
        self.gone: dict[str, str | None] = {}  # held but merged away (-> survivor) or erased

    def prefetch(self, keys: Iterable[IdentityKey]) -> None:
        """Look up the owners of many identities with one query, and hold them."""
        wanted = set(keys)
        if not wanted:
            return
        found = self.unit.hold_identities(self.workspace_id, wanted)
        for owner, merged_into in found.values():
            self.held.add(owner)
            if merged_into is not None:  # a concurrent merge: hold its survivor too
                self.gone[owner] = merged_into
        self._hold({survivor for survivor in self.gone.values() if survivor is not None})
        for key, (owner, _) in found.items():
            survivor = self._survivor(owner)
            if survivor is not None:
                self.owners[key] = survivor

    def _hold(self, customer_ids: set[str]) -> None:
        """Hold the customers, and the survivors of those a concurrent merge took away."""
        pending = customer_ids - self.held
        for _ in range(MAX_MERGE_HOPS):
            if not pending:
                return
            self.held |= pending
            gone = self.unit.hold_customers(self.workspace_id, pending)
            self.gone.update(gone)
            pending = {survivor for survivor in gone.values() if survivor is not None}
            pending -= self.held

    def _survivor(self, customer_id: str) -> str | None:
        """The customer that holds what ``customer_id`` had now (None: erased)."""
        current: str | None = customer_id
        for _ in range(MAX_MERGE_HOPS):
            if current not in self.gone:
                break
            current = self.gone[current]
        return current

    # -- resolution -----------------------------------------------------

    def resolve(self, user_id: str | None, anonymous_id: str | None) -> str:
        """Return the id of the customer these ids belong to, linking as it goes."""
        if user_id is None:
            assert anonymous_id is not None
            owner = self.owners.get((ANON, anonymous_id))
            return owner or self._create(None, [(ANON, anonymous_id)]).id
        person = self.owners.get((USER, user_id))
        anonymous_owner = self.owners.get((ANON, anonymous_id)) if anonymous_id else None
        if person is None:
            if anonymous_owner is not None and self._is_anonymous(anonymous_owner):
                return self._promote(anonymous_owner, user_id)
            keys = [(USER, user_id)]
            if anonymous_id is not None and anonymous_owner is None:
                keys.append((ANON, anonymous_id))
            return self._create(user_id, keys).id
        if anonymous_id is not None:
            if anonymous_owner is None:
                self._link((ANON, anonymous_id), person)
            elif anonymous_owner != person and self._is_anonymous(anonymous_owner):
                self._merge(source_id=anonymous_owner, target_id=person)
        return person

    def alias(self, previous_id: str, user_id: str) -> str:
        """Link ``previous_id`` to ``user_id`` (merging their profiles); return the customer."""
        previous = self.owners.get((USER, previous_id)) or self.owners.get((ANON, previous_id))
        person = self.owners.get((USER, user_id))
        if previous is None and person is None:
            return self._create(user_id, [(USER, user_id), *_both(previous_id)]).id
        if person is None:
            assert previous is not None
            profile = self.profile(previous)
            profile.external_id = user_id  # the new id is the person's id from now on
            self._touch(profile)
            self._link((USER, user_id), previous)
            return previous
        if previous is None:
            for key in _both(previous_id):
                self._link(key, person)
        elif previous != person:
            self._merge(source_id=previous, target_id=person)
        return person

    def prefetch_users(self, user_ids: Iterable[str]) -> None:
        """Look up the owners of many userIds with one query."""
        self.prefetch((USER, user_id) for user_id in user_ids)

    def owner_of_user(self, user_id: str) -> str | None:
        return self.owners.get((USER, user_id))

    def give_user_id(self, customer_id: str, user_id: str) -> None:
        """Make ``user_id`` the id of a customer that has none (and no owner elsewhere)."""
        self._promote(customer_id, user_id)

    def customer_for_user(self, user_id: str | None) -> tuple[str, bool]:
        """The customer with this userId (``source_id``), or a new one; and whether it is new.

        Without a userId, always a new customer (with no identity yet).
        """
        if user_id is not None:
            owner = self.owners.get((USER, user_id))
            if owner is not None:
                return owner, False
        keys = [(USER, user_id)] if user_id is not None else []
        return self._create(user_id, keys).id, True

    def preload(self, customer_ids: Iterable[str]) -> None:
        """Load many profiles with one query (instead of one each on first use)."""
        wanted = [c for c in set(customer_ids) if c not in self.profiles]
        if wanted:
            for loaded in self.unit.load_profiles(self.workspace_id, wanted):
                self.profiles[loaded.id] = loaded

    def changed(self, profile: Profile) -> None:
        """Mark a profile changed by the caller, to be saved by :meth:`flush`."""
        self._touch(profile)

    # -- profile changes --------------------------------------------------

    def profile(self, customer_id: str) -> Profile:
        """The profile, loaded (and locked) on first use in this transaction."""
        if customer_id not in self.profiles:
            for loaded in self.unit.load_profiles(self.workspace_id, [customer_id]):
                self.profiles[loaded.id] = loaded
        return self.profiles[customer_id]

    def apply_traits(self, customer_id: str, traits: dict[str, object]) -> None:
        profile = self.profile(customer_id)
        if profile.apply_traits(traits, now=self.now):
            self._touch(profile)

    def _is_anonymous(self, customer_id: str) -> bool:
        return self.profile(customer_id).external_id is None

    def _create(self, external_id: str | None, keys: list[IdentityKey]) -> Profile:
        profile = Profile(
            id=new_id("cust"),
            workspace_id=self.workspace_id,
            external_id=external_id,
            created_at=self.now,
            updated_at=self.now,
        )
        self.profiles[profile.id] = self.created[profile.id] = profile
        self.changed_ids.add(profile.id)
        for key in keys:
            self._link(key, profile.id)
        return profile

    def _promote(self, customer_id: str, user_id: str) -> str:
        profile = self.profile(customer_id)
        profile.external_id = user_id
        self._touch(profile)
        self._link((USER, user_id), customer_id)
        return customer_id

    def _link(self, key: IdentityKey, customer_id: str) -> None:
        if self.owners.get(key) == customer_id:  # e.g. alias with previousId == userId
            return
        self.owners[key] = customer_id
        self.new_identities.append((key, customer_id))
        self.linked.add(customer_id)

    def _touch(self, profile: Profile) -> None:
        profile.updated_at = self.now
        self.changed_ids.add(profile.id)
        if profile.id not in self.created:
            self.dirty.add(profile.id)

    def _merge(self, *, source_id: str, target_id: str) -> None:
        source, target = self.profile(source_id), self.profile(target_id)
        self.flush()
        target.absorb(source, now=self.now)
        source.merged_into = target_id
        self._touch(source)
        self._touch(target)
        self.unit.move_customer_data(self.workspace_id, source_id=source_id, target_id=target_id)
        for key, owner in self.owners.items():
            if owner == source_id:
                self.owners[key] = target_id
        self.flush()

    # -- groups and events ------------------------------------------------

    def add_group(self, group_id: str, traits: dict[str, object], customer_id: str) -> None:
        self.groups.setdefault(group_id, {}).update(
            {key: value for key, value in traits.items() if value is not None}
        )
        self.members.add((group_id, customer_id))

    def add_event(self, event: EventRecord) -> None:
        self.events.append(event)
        self.recorded.append(event)

    def touched(self) -> list[Profile]:
        """The profiles created or changed in this transaction, merges included."""
        return [self.profiles[customer_id] for customer_id in sorted(self.changed_ids)]

    def commit(self) -> None:
        """Write everything buffered, then publish what changed: profiles, then events."""
        touched = self.touched()
        self.flush()
        if touched:
            self.unit.publish(ProfilesChanged(self.workspace_id, touched, self.now))
        if self.recorded:
            change = EventsRecorded(
                self.workspace_id,
                self.recorded,
                self.now,
                linked=frozenset(self.linked),
                changed=frozenset(self.changed_ids),
            )
            self.unit.publish(change)

    def flush(self) -> None:
        """Write everything buffered, in an order that keeps references valid."""
        unit, workspace_id, now = self.unit, self.workspace_id, self.now
        if self.created:
            unit.create_profiles(list(self.created.values()))
            self.created.clear()
        if self.dirty:
            unit.save_profiles([self.profiles[customer_id] for customer_id in sorted(self.dirty)])
            self.dirty.clear()
        if self.new_identities:
            unit.add_identities(workspace_id, self.new_identities, now)
            self.new_identities = []
        if self.events:
            unit.add_events(self.events)
            self.events = []
        for group_id, traits in self.groups.items():
            unit.save_group(workspace_id, group_id, traits, now)
        self.groups.clear()
        for group_id, customer_id in sorted(self.members):
            unit.add_group_member(workspace_id, group_id, customer_id, now)
        self.members.clear()


def _both(value: str) -> list[IdentityKey]:
    # An alias's previousId may have been a userId or an anonymousId; register
    # both so that later messages carrying it, either way, find the person.
    return [(USER, value), (ANON, value)]
