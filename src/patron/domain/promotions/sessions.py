"""Session updates and events: the evaluation pipeline of the Integration API.

``SessionService.update`` (SPEC §4.2) — in ONE write transaction: the
session's lock, the stored session, the merge and its transition, the
customer (created if unknown), the context (coupons, referral, loyalty,
campaign usage), the evaluation with the cached compiled campaigns, and the
commit — the session row, and on closing the redemptions, points and usage
counters (:mod:`.session_commit`); on cancelling a closed session their
rollback. The answer is rendered inside the transaction (``render``) so an
``Idempotency-Key`` keeps exactly the answer that was sent.

Concurrency: an update takes the session's lock and its profile's lock;
one held by another transaction is waited for ``lock_wait_ms``, then the
update is refused (409, Talon's message). Within a process writes are
serial, so a second identical close finds the session closed: it gets the
stored answer (a retry), never a second redemption.

A dry update reads only: it evaluates the request payload alone (with the
stored session's id if there is one), at ``now`` if given, and stores
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.clock import utcnow
from patron.domain.errors import Invalid, Problem
from patron.domain.people.identity import IdentityResolver
from patron.domain.promotions import model
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.cache import CampaignCache
from patron.domain.promotions.evaluate import evaluate
from patron.domain.promotions.idempotency import Answer, Idempotency, kept_or_run
from patron.domain.promotions.locks import lock_profiles, lock_session
from patron.domain.promotions.profile_rules import ProfileChange, ProfileOutcome, profile_event
from patron.domain.promotions.rule_commit import (
    RuleKey,
    commit_rules,
    session_rules,
    update_attributes,
)
from patron.domain.promotions.session_commit import close, revoke
from patron.domain.promotions.session_effects import effect_document
from patron.domain.promotions.session_people import (
    EventView,
    ProfileView,
    event_id,
    message_id,
    record_event,
    resolve_profile,
    view_of,
)
from patron.domain.promotions.session_ports import SessionUnit, StoredSession
from patron.domain.promotions.session_request import (
    SessionEvent,
    SessionRequest,
    SessionState,
    merge,
    transition,
)
from patron.domain.promotions.session_steps import (
    CustomEvent,
    Render,
    SessionOutcome,
    Update,
    application_of,
    check_session_id,
    event_view,
    gather_context,
    next_session,
    profile_id_of,
    tentative,
)
from patron.domain.segments.events.classify import SegmentationCache
from patron.domain.store import Store

TERMINAL = (SessionState.CLOSED, SessionState.CANCELLED)


def _skip(update: Update, stored: StoredSession | None) -> frozenset[RuleKey]:
    """An event commits the rules that fired for it, not those of its session."""
    if update.event is None or stored is None:
        return frozenset()
    return session_rules(stored.effects)


class SessionService:
    def __init__(
        self,
        store: Store[SessionUnit],
        cache: CampaignCache,
        *,
        lock_wait_ms: int = 200,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.cache = cache
        self.lock_wait_ms = lock_wait_ms
        self.clock = clock
        self.segmentations = SegmentationCache()

    async def update(
        self,
        caller: Caller,
        session_id: str,
        request: SessionRequest,
        *,
        render: Render,
        dry: bool = False,
        now_override: datetime | None = None,
        idempotency: Idempotency | None = None,
        event: CustomEvent | None = None,
        failure_reasons: bool = False,
    ) -> Answer:
        """Update (or, dry, preview) the session ``session_id``; the answer as rendered.

        ``failure_reasons``: explain every rule that did not fire, for an answer that
        shows them (else only those a code's verdict names)."""
        now = self._now(dry, now_override)
        check_session_id(session_id)

        def work(unit: SessionUnit) -> Answer:
            update = Update(unit, caller, session_id, request, now, dry, event, failure_reasons)
            if dry:
                return render(self._dry(update))
            return kept_or_run(
                unit, caller.application_id, idempotency, now, lambda: render(self._write(update))
            )

        return await (self.store.read(work) if dry else self.store.write(work))

    async def track_event(
        self,
        caller: Caller,
        event: CustomEvent,
        *,
        render: Render,
        dry: bool = False,
        evaluable_campaign_ids: tuple[int, ...] | None = None,
        idempotency: Idempotency | None = None,
        failure_reasons: bool = False,
    ) -> Answer:
        """A custom event of a profile, evaluated with the profile's open session (if any)."""
        now = self.clock()

        def work(unit: SessionUnit) -> Answer:
            return kept_or_run(
                unit,
                caller.application_id,
                None if dry else idempotency,
                now,
                lambda: render(
                    self.evaluate_event(
                        unit,
                        caller,
                        event,
                        now,
                        dry=dry,
                        evaluable=evaluable_campaign_ids,
                        failure_reasons=failure_reasons,
                    )
                ),
            )

        return await (self.store.read(work) if dry else self.store.write(work))

    async def update_profile(
        self, caller: Caller, change: ProfileChange, *, dry: bool = False
    ) -> ProfileOutcome:
        """Update a profile and evaluate its built-in event (see :mod:`.profile_rules`)."""
        now = self.clock()

        def work(unit: SessionUnit) -> ProfileOutcome:
            return profile_event(self, unit, caller, change, now, dry=dry)

        return await (self.store.read(work) if dry else self.store.write(work))

    def _now(self, dry: bool, now_override: datetime | None) -> datetime:
        now = self.clock()
        if now_override is None:
            return now
        if not dry:
            raise Invalid.of([Problem("may only be given with dry=true", "now")])
        if now_override <= now:
            raise Invalid.of([Problem("must be in the future", "now")])
        return now_override

    # -- the write -----------------------------------------------------------------------

    def _write(self, update: Update) -> SessionOutcome:
        unit, caller, now = update.unit, update.caller, update.now
        lock_session(unit, caller.application_id, update.session_id, self.lock_wait_ms)
        application = application_of(unit, caller)
        stored = unit.get_customer_session(caller.application_id, update.session_id)
        if (
            stored is not None
            and stored.state in TERMINAL
            and stored.last_request == update.request.digest
            and update.event is None
        ):  # a retry of the update that closed or cancelled it: the same answer
            return self._replayed(unit, application, stored)
        profile_id = profile_id_of(stored, update.request)
        lock_profiles(unit, caller.workspace_id, [profile_id], self.lock_wait_ms)
        fields = merge(stored.data if stored else {}, update.request)
        fields["profileId"] = profile_id
        fields.setdefault("state", SessionState.OPEN.value)
        kind = transition(stored.state if stored else None, fields["state"])
        resolver = IdentityResolver(unit, caller.workspace_id, now)
        profile = resolve_profile(unit, resolver, profile_id)
        session = next_session(update, stored, fields)
        outcome = self._apply(update, application, session, stored, profile=profile, kind=kind)
        saved = replace(outcome.session, id=unit.save_customer_session(outcome.session))
        self._record(update, resolver, outcome, kind)
        resolver.commit()
        outcome = update_attributes(update, outcome, _skip(update, stored))
        return replace(outcome, session=saved)

    def _apply(
        self,
        update: Update,
        application: model.Application,
        session: StoredSession,
        stored: StoredSession | None,
        *,
        profile: ProfileView,
        kind: SessionEvent,
    ) -> SessionOutcome:
        unit, now = update.unit, update.now
        event = event_view(update, session, kind)
        if kind is SessionEvent.CANCELLED:
            cancelled = replace(session, effects=[], committed=None)
            return SessionOutcome(application, cancelled, profile, [], event)
        if kind is SessionEvent.REVOKED:
            committed = dict(stored.committed or {}) if stored else {}
            effects = revoke(unit, committed, session.profile_id, now)
            was_closed = stored is not None and stored.state == SessionState.CLOSED
            sales = stored.total if stored is not None and was_closed else Decimal(0)
            profile = profile.after(-1 if was_closed else 0, -sales, now)
            revoked = replace(session, effects=effects, committed=None)
            outcome = SessionOutcome(application, revoked, profile, effects, event)
            return self._settled(update, outcome)
        outcome = self._evaluated(update, application, session, profile, event)
        campaigns = outcome.campaigns
        outcome = commit_rules(update, outcome, campaigns, _skip(update, stored))
        if update.event is not None:  # an event leaves its session's own effects as they were
            kept = list(stored.effects) if stored is not None else []
            outcome = replace(outcome, session=replace(outcome.session, effects=kept))
        if kind is not SessionEvent.CLOSED:
            return outcome
        assert outcome.evaluation is not None
        effects, committed = close(
            unit,
            outcome.evaluation,
            outcome.effects,
            campaigns,
            application_id=application.id,
            session_id=session.integration_id,
            profile_id=session.profile_id,
            now=now,
        )
        closed = replace(session, effects=effects, committed=committed, closed_at=now)
        profile = profile.after(1, session.total, now)
        return self._settled(
            update, replace(outcome, session=closed, effects=effects, profile=profile)
        )

    def _settled(self, update: Update, outcome: SessionOutcome) -> SessionOutcome:
        """The codes and points as this update's redemption (or its rollback) left them:
        what the answer's ``coupons``, ``referral`` and ``loyalty`` show."""
        now = gather_context(update, outcome.application, outcome.session, outcome.profile, ())
        return replace(outcome, coupons=now.coupons, referral=now.referral, loyalty=now.loyalty)

    def _evaluated(
        self,
        update: Update,
        application: model.Application,
        session: StoredSession,
        profile: ProfileView,
        event: EventView,
        *,
        evaluable: tuple[int, ...] | None = None,
    ) -> SessionOutcome:
        unit, now = update.unit, update.now
        compiled = self.cache.current(unit, application.id)
        context = gather_context(update, application, session, profile, compiled.campaigns)
        if update.event is None:
            context = replace(context, event=model.Event(event.type))
        else:
            custom = model.Event(event.type, dict(event.attributes), event.message_id)
            context = replace(context, event=custom)
        ids = update.request.evaluable_campaign_ids if update.dry else None
        evaluation = evaluate(
            context,
            compiled.campaigns,
            now,
            evaluable_campaign_ids=evaluable or ids,
            failure_reasons=update.failure_reasons,
        )
        effects = [effect_document(effect) for effect in evaluation.effects]
        records = compiled.records  # the campaigns as evaluated, not re-read
        triggered = tuple(records[i] for i in evaluation.triggered_campaigns if i in records)

        evaluated = replace(session, effects=effects)
        return SessionOutcome(
            application,
            evaluated,
            profile,
            effects,
            event,
            evaluation,
            triggered,
            context.coupons,
            context.referral,
            tentative(context.loyalty, evaluation, now),
            update.dry,
            campaigns=compiled.by_id,
        )

    def _record(
        self,
        update: Update,
        resolver: IdentityResolver,
        outcome: SessionOutcome,
        kind: SessionEvent,
    ) -> None:
        session = outcome.session
        properties = {
            "sessionId": session.integration_id,
            "applicationId": session.application_id,
            "state": session.state,
            "total": str(session.total),
            "effects": [effect["effectType"] for effect in outcome.effects],
        }
        built_in = EventView(
            outcome.event.id if update.event is None else 0,
            kind.value,
            {},
            update.now,
            message_id(session.application_id, session.integration_id, session.update_count, "s"),
        )
        record_event(
            update.unit,
            resolver,
            self.segmentations,
            outcome.profile,
            built_in,
            properties=properties,
        )
        if update.event is not None:
            custom = {**properties, "attributes": dict(update.event.attributes)}
            record_event(
                update.unit,
                resolver,
                self.segmentations,
                outcome.profile,
                outcome.event,
                properties=custom,
            )

    def _replayed(
        self, unit: SessionUnit, application: model.Application, stored: StoredSession
    ) -> SessionOutcome:
        profile = view_of(unit, stored.workspace_id, stored.profile_id)
        kind = SessionEvent.CLOSED
        if stored.state == SessionState.CANCELLED:
            rolled_back = any(e["effectType"].startswith("rollback") for e in stored.effects)
            kind = SessionEvent.REVOKED if rolled_back else SessionEvent.CANCELLED
        mid = message_id(stored.application_id, stored.integration_id, stored.update_count, "s")
        event = EventView(event_id(mid), kind.value, {}, stored.updated_at, mid)
        return SessionOutcome(
            application, stored, profile, [dict(e) for e in stored.effects], event
        )

    # -- dry runs and events ---------------------------------------------------------------

    def _dry(self, update: Update) -> SessionOutcome:
        unit, caller = update.unit, update.caller
        application = application_of(unit, caller)
        stored = unit.get_customer_session(caller.application_id, update.session_id)
        profile_id = profile_id_of(stored, update.request)
        fields = dict(update.request.fields)
        fields["profileId"] = profile_id
        fields.setdefault("state", stored.state if stored else SessionState.OPEN.value)
        session = next_session(update, stored, fields)
        profile = view_of(unit, caller.workspace_id, profile_id)
        kind = SessionEvent.CREATED if stored is None else SessionEvent.UPDATED
        return self._evaluated(
            update, application, session, profile, event_view(update, session, kind)
        )

    def evaluate_event(
        self,
        unit: SessionUnit,
        caller: Caller,
        custom: CustomEvent,
        now: datetime,
        *,
        dry: bool,
        evaluable: tuple[int, ...] | None,
        attach: bool = True,
        attributes: Mapping[str, Any] | None = None,
        failure_reasons: bool = False,
    ) -> SessionOutcome:
        """Evaluate (and, not dry, commit and record) an event of ``custom.profile_id``:
        with the profile's open session when ``attach``, else alone; ``attributes``
        (dry) stand for the profile's attributes as a preview."""
        if not dry:
            lock_profiles(unit, caller.workspace_id, [custom.profile_id], self.lock_wait_ms)
        application = application_of(unit, caller)
        resolver = IdentityResolver(unit, caller.workspace_id, now)
        if dry:
            profile = view_of(unit, caller.workspace_id, custom.profile_id)
        else:
            profile = resolve_profile(unit, resolver, custom.profile_id)
        if attributes is not None:
            profile = replace(profile, attributes=attributes)
        open_session = (
            unit.open_session_of_profile(caller.application_id, custom.profile_id)
            if attach
            else None
        )
        session_id = open_session.integration_id if open_session else ""
        update = Update(
            unit, caller, session_id, SessionRequest({}), now, dry, custom, failure_reasons
        )
        if open_session is not None:
            session = open_session
        else:
            fields = {"profileId": custom.profile_id, "state": "open"}
            session = next_session(update, None, fields)
        count = open_session.update_count if open_session else 0
        mid = message_id(
            caller.application_id,
            f"{custom.profile_id}/{custom.type}/{now.isoformat()}",
            count,
            "e",
        )
        event = EventView(event_id(mid), custom.type, custom.attributes, now, mid)
        outcome = self._evaluated(
            update, application, session, profile, event, evaluable=evaluable if dry else None
        )
        if dry:
            return outcome
        return self._commit_event(update, resolver, outcome, open_session, event=event)

    def _commit_event(
        self,
        update: Update,
        resolver: IdentityResolver,
        outcome: SessionOutcome,
        open_session: StoredSession | None,
        *,
        event: EventView,
    ) -> SessionOutcome:
        unit, custom, session_id = update.unit, update.event, update.session_id
        profile = outcome.profile
        assert custom is not None
        skip = session_rules(open_session.effects) if open_session else frozenset()
        outcome = commit_rules(update, outcome, outcome.campaigns, skip)
        properties = {
            "sessionId": session_id,
            "attributes": dict(custom.attributes),
            "effects": [effect["effectType"] for effect in outcome.effects],
        }
        record_event(unit, resolver, self.segmentations, profile, event, properties=properties)
        resolver.commit()
        return update_attributes(update, outcome, skip)
