"""The pieces of a session update: its answer and outcome, and the steps around evaluating.

See :mod:`.sessions` for the pipeline these serve.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.promotions import effects as fx
from patron.domain.promotions import model
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.campaigns import Campaign
from patron.domain.promotions.coupon_model import StoredCoupon
from patron.domain.promotions.evaluate import Evaluation
from patron.domain.promotions.event_history import CustomerHistory
from patron.domain.promotions.idempotency import Answer
from patron.domain.promotions.model import EventHistory, NoHistory
from patron.domain.promotions.referrals import ReferralRecord
from patron.domain.promotions.session_people import EventView, ProfileView, event_id, message_id
from patron.domain.promotions.session_ports import SessionUnit, StoredSession
from patron.domain.promotions.session_request import (
    SESSION,
    SessionEvent,
    SessionRequest,
    engine_session,
)

MAX_SESSION_ID = 1000


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """Everything an answer may show (the surface picks per ``responseContent``)."""

    application: model.Application
    session: StoredSession
    profile: ProfileView
    effects: list[dict[str, Any]]
    event: EventView
    evaluation: Evaluation | None = None
    triggered_campaigns: tuple[CampaignRecord, ...] = ()
    coupons: Mapping[str, model.Coupon] = field(default_factory=dict)
    referral: model.Referral | None = None
    loyalty: Mapping[str, model.LoyaltyProgram] = field(default_factory=dict)
    dry: bool = False
    # The codes rules created and this write stored (or found stored: a re-evaluation).
    created_coupons: tuple[StoredCoupon, ...] = ()
    created_referrals: tuple[ReferralRecord, ...] = ()
    # The campaigns evaluated (by id): what committing the effects reads of them.
    campaigns: Mapping[int, Campaign] = field(default_factory=dict)


Render = Callable[[SessionOutcome], Answer]


@dataclass(frozen=True, slots=True)
class CustomEvent:
    """An event an integration sends (``POST /v2/events``, or v1 with a session)."""

    type: str
    attributes: Mapping[str, Any]
    profile_id: str


@dataclass
class Update:
    """One update in progress, inside its transaction."""

    unit: SessionUnit
    caller: Caller
    session_id: str
    request: SessionRequest
    now: datetime
    dry: bool
    event: CustomEvent | None = None
    failure_reasons: bool = False  # explain every rule that did not fire (responseContent)


# -- steps -------------------------------------------------------------------------------------


def check_session_id(session_id: str) -> None:
    if not session_id or len(session_id) > MAX_SESSION_ID:
        raise Invalid.of([Problem(f"1 to {MAX_SESSION_ID} characters", "customerSessionId")])


def application_of(unit: SessionUnit, caller: Caller) -> model.Application:
    found = unit.get_application(caller.workspace_id, caller.application_id)
    if found is None:
        raise NotFound("application", caller.application_id)
    return found


def profile_id_of(stored: StoredSession | None, request: SessionRequest) -> str:
    """The session's profile: the stored one; a request naming another is refused."""
    sent = request.profile_id
    if stored is None:
        return sent or ""
    if sent is not None and stored.profile_id and sent != stored.profile_id:
        raise Invalid.of(
            [
                Problem(
                    f"the session belongs to profile {stored.profile_id!r}: "
                    "a session's profileId cannot change",
                    f"{SESSION}.profileId",
                )
            ]
        )
    return stored.profile_id or sent or ""


def next_session(
    update: Update, stored: StoredSession | None, fields: dict[str, Any]
) -> StoredSession:
    unit, caller, now = update.unit, update.caller, update.now
    engine = engine_session(update.session_id, fields)
    profile_id = str(fields.get("profileId") or "")
    if stored is None:
        first = not profile_id or not unit.has_sessions(caller.workspace_id, profile_id)
        return StoredSession(
            id=0,
            application_id=caller.application_id,
            workspace_id=caller.workspace_id,
            integration_id=update.session_id,
            profile_id=profile_id,
            state=str(fields["state"]),
            data=fields,
            total=engine.total,
            first_session=first,
            update_count=1,
            effects=[],
            committed=None,
            created_at=now,
            updated_at=now,
            last_request=update.request.digest,
        )
    return replace(
        stored,
        profile_id=profile_id,
        state=str(fields["state"]),
        data=fields,
        total=engine.total,
        update_count=stored.update_count + 1,
        updated_at=now,
        last_request=update.request.digest,
    )


def event_view(update: Update, session: StoredSession, kind: SessionEvent) -> EventView:
    if update.event is not None:
        mid = message_id(session.application_id, session.integration_id, session.update_count, "c")
        return EventView(event_id(mid), update.event.type, update.event.attributes, update.now, mid)
    mid = message_id(session.application_id, session.integration_id, session.update_count, "s")
    return EventView(event_id(mid), kind.value, {}, update.now, mid)


def gather_context(
    update: Update,
    application: model.Application,
    session: StoredSession,
    profile: ProfileView,
    campaigns: Sequence[Campaign],
) -> model.EvaluationContext:
    """What the engine looks at: the session, its customer, codes, points and usage."""
    unit = update.unit
    engine = engine_session(session.integration_id, session.data)
    codes = list(engine.coupon_codes)
    sensitivity = application.case_sensitivity
    who = profile.integration_id
    coupons = unit.coupons_for_codes(application.id, sensitivity, codes, who) if codes else {}
    referral = None
    if engine.referral_code:
        referral = unit.referral_for_code(application.id, sensitivity, engine.referral_code)
    loyalty = {}
    if who:
        loyalty = unit.loyalty_for_profile(
            update.caller.workspace_id, application.id, who, update.now
        )
    custom = update.event
    customer = profile.customer_id
    history: EventHistory = (
        CustomerHistory(unit, update.caller.workspace_id, customer) if customer else NoHistory()
    )
    return model.EvaluationContext(
        application,
        engine,
        profile.engine(),
        model.Event(custom.type, dict(custom.attributes)) if custom else None,
        coupons,
        referral,
        loyalty,
        # Counters matter only where a limit reads them (budgets, coupon screening).
        unit.campaign_usage([c.id for c in campaigns if c.limits], who),
        history,
    )


def tentative(
    loyalty: Mapping[str, model.LoyaltyProgram], evaluation: Evaluation, now: datetime
) -> dict[str, model.LoyaltyProgram]:
    """The balances with the main-ledger points this open session would add (active ones)
    and deduct when it closes: Talon's ``tentativeCurrentBalance``."""
    change: dict[str, Decimal] = {}
    for effect in evaluation.effects:
        props = effect.props
        if isinstance(props, fx.AddLoyaltyPoints) and not props.sub_ledger_id:
            if props.start_date is None or props.start_date <= now:
                key = str(props.program_id)
                change[key] = change.get(key, Decimal(0)) + props.value
        elif isinstance(props, fx.DeductLoyaltyPoints) and not props.sub_ledger_id:
            key = str(props.program_id)
            change[key] = change.get(key, Decimal(0)) - props.value
    return {
        key: replace(
            program,
            balance=replace(
                program.balance, tentative_current=program.balance.current + change[key]
            ),
        )
        if key in change
        else program
        for key, program in loyalty.items()
    }
