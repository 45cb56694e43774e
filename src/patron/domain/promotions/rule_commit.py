"""What the effects of rules write when an evaluation commits (not dry), besides closing.

On every committed session update and event (SPEC §4.2-11 "any write"):

* **created codes** (``couponCreated``/``referralCreated``): stored through
  the coupons and referrals parts' inserts. Each rule's code is one batch
  whose id derives from where the rule fired (application, session, event,
  campaign, rule, effect — the engine's seed), so a session evaluated again
  finds its code stored and creates no second one; a code another coupon
  (or referral) of the application already has is drawn again
  (``fill_pattern(…, attempt)``) and the effect shows the code stored. A
  new code counts against the campaign's ``createCoupon``/``createReferral``
  limits once, when it is stored; over a limit another write reached
  meanwhile, its effect is dropped. Coupons go to their recipient (the
  customer, or the one the rule named) and show in that inventory; a
  cancelled session keeps them.
* **attribute updates** (``updateAttribute``): ``Profile.Attributes.x`` set
  on the customer through the profiles part's update (customer segments
  follow); ``Session.Attributes.x`` merged into the session's attributes.
* **loyalty points of events** (:func:`commit_event_points`): an event's
  ``addLoyaltyPoints``/``deductLoyaltyPoints`` are written at once, as Talon
  commits an event's effects.

An event attached to an open session evaluates that session too: the
effects of rules that also fired for the session's last update are the
session's (it commits them when it closes), so an event commits only the
rules that fired for it and not for the session (``skip``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.promotions import codes
from patron.domain.promotions.campaigns import Campaign, LimitAction
from patron.domain.promotions.coupon_model import Batch, CouponTerms, NewCoupon, StoredCoupon
from patron.domain.promotions.ledger import CreatedCode
from patron.domain.promotions.model import Application
from patron.domain.promotions.profiles import update_profiles
from patron.domain.promotions.referrals import ReferralRecord
from patron.domain.promotions.session_commit import Closing, commit_event_points
from patron.domain.promotions.session_ports import SessionUnit
from patron.domain.promotions.session_steps import SessionOutcome, Update

Doc = dict[str, Any]
RuleKey = tuple[int, int]  # (campaign id, rule index)
MAX_ATTEMPTS = 50
PROFILE_PATH = "Profile.Attributes."
SESSION_PATH = "Session.Attributes."
POINTS = ("addLoyaltyPoints", "deductLoyaltyPoints")


@dataclass(frozen=True, slots=True)
class CreatedCodes:
    effects: list[Doc]  # the effects with the codes as stored (dropped: over a limit)
    coupons: tuple[StoredCoupon, ...]
    referrals: tuple[ReferralRecord, ...]


@dataclass
class _Creation:
    unit: SessionUnit
    application: Application
    closing: Closing  # counts created codes against the campaign limits
    effects: list[Doc]
    skip: Collection[RuleKey]

    def effect_of(self, effect_type: str, created: CreatedCode) -> Doc | None:
        for document in self.effects:
            if (
                document["effectType"] == effect_type
                and document["campaignId"] == created.campaign_id
                and document["props"].get("value") == created.code
                and not document.get("_stored")
            ):
                return document
        return None

    def drop(self, document: Doc) -> None:
        self.effects = [d for d in self.effects if d is not document]


def rule_key(document: Mapping[str, Any]) -> RuleKey:
    return (int(document["campaignId"]), int(document["ruleIndex"]))


def session_rules(effects: Iterable[Mapping[str, Any]]) -> frozenset[RuleKey]:
    """The rules that fired for a session's last update (skipped by its events' commits)."""
    return frozenset(rule_key(d) for d in effects if int(d["campaignId"]) >= 0)


def batch_id(seed: str) -> str:
    """The batch of the code one rule created where it fired: the same for a re-evaluation."""
    return "rule-" + hashlib.sha256(seed.encode()).hexdigest()[:24]


def store_created_codes(
    unit: SessionUnit,
    application: Application,
    created: tuple[Sequence[CreatedCode], Sequence[CreatedCode]],
    effects: list[Doc],
    closing: Closing,
    *,
    skip: Collection[RuleKey] = frozenset(),
) -> CreatedCodes:
    """Store the coupons and referrals (``created``) an evaluation's rules created."""
    creation = _Creation(unit, application, closing, list(effects), skip)
    coupons = [c for code in created[0] if (c := _coupon(creation, code)) is not None]
    referrals = [r for code in created[1] if (r := _referral(creation, code)) is not None]
    for document in creation.effects:
        document.pop("_stored", None)
    return CreatedCodes(creation.effects, tuple(coupons), tuple(referrals))


def _coupon(creation: _Creation, created: CreatedCode) -> StoredCoupon | None:
    unit, application = creation.unit, creation.application
    document = creation.effect_of("couponCreated", created)
    if document is None or rule_key(document) in creation.skip:
        return None
    batch = batch_id(created.seed)
    found = unit.coupons_of_batch(application.id, batch)
    if not found:
        code = _free_code(
            created, application.case_sensitivity, lambda k: unit.taken_lookups(application.id, k)
        )
        if not _counted(creation, created, LimitAction.CREATE_COUPON):
            creation.drop(document)
            return None
        terms = CouponTerms(
            usage_limit=created.usage_limit,
            expiry_date=created.expiry,
            recipient_integration_id=created.profile_id,
        )
        lookup = codes.lookup_key(code, application.case_sensitivity)
        made = Batch(application.id, created.campaign_id, terms, batch, creation.closing.now)
        unit.insert_coupons(made, [NewCoupon(code, lookup)])
        found = unit.coupons_of_batch(application.id, batch)
    coupon = found[0]
    document["props"]["value"] = coupon.value
    document["_stored"] = True
    return coupon


def _referral(creation: _Creation, created: CreatedCode) -> ReferralRecord | None:
    unit, application = creation.unit, creation.application
    document = creation.effect_of("referralCreated", created)
    if document is None or rule_key(document) in creation.skip:
        return None
    batch = batch_id(created.seed)
    found = unit.referrals_of_batch(application.id, batch)
    if not found:
        sensitivity = application.case_sensitivity
        code = _free_code(
            created, sensitivity, lambda k: unit.taken_referral_lookups(application.id, k)
        )
        if not _counted(creation, created, LimitAction.CREATE_REFERRAL):
            creation.drop(document)
            return None
        record = ReferralRecord(
            id=0,
            application_id=application.id,
            campaign_id=created.campaign_id,
            code=code,
            advocate_integration_id=created.profile_id,
            friend_integration_id=created.friend_id or None,
            usage_limit=created.usage_limit,
            expiry_date=created.expiry,
            batch_id=batch,
            created_at=creation.closing.now,
        )
        found = unit.insert_referrals([record], sensitivity)
    referral = found[0]
    document["props"]["value"] = referral.code
    document["_stored"] = True
    return referral


def _free_code(
    created: CreatedCode, sensitivity: str, taken: Callable[[list[str]], set[str]]
) -> str:
    """The rule's code, or (taken by another) the next one its seed gives."""
    settings = created.settings
    for attempt in range(MAX_ATTEMPTS):
        code = (
            created.code
            if attempt == 0
            else codes.fill_pattern(
                settings.pattern, settings.valid_characters, created.seed, attempt
            )
        )
        if not taken([codes.lookup_key(code, sensitivity)]):
            return code
    raise RuntimeError(f"no free code for pattern {settings.pattern!r} after {MAX_ATTEMPTS} tries")


def _counted(creation: _Creation, created: CreatedCode, action: LimitAction) -> bool:
    campaign = creation.closing.campaigns.get(created.campaign_id)
    return campaign is None or creation.closing.take(campaign, action, Decimal(1))


# -- on a committed write -------------------------------------------------------------------


def commit_rules(
    update: Update,
    outcome: SessionOutcome,
    campaigns: Mapping[int, Campaign],
    skip: frozenset[RuleKey],
) -> SessionOutcome:
    """Store the codes rules created, an event's points and session attribute updates."""
    unit, session, evaluation = update.unit, outcome.session, outcome.evaluation
    assert evaluation is not None
    closing = Closing(
        unit,
        outcome.application.id,
        session.integration_id,
        session.profile_id,
        campaigns,
        update.now,
        [],
    )
    made = (evaluation.created_coupons, evaluation.created_referrals)
    created = store_created_codes(
        unit, outcome.application, made, outcome.effects, closing, skip=skip
    )
    effects = created.effects
    if update.event is not None:  # an event's points are written at once
        points = event_documents(effects, POINTS, skip)
        dropped = commit_event_points(
            unit,
            points,
            campaigns,
            application_id=outcome.application.id,
            session_id=session.integration_id,
            profile_id=session.profile_id,
            now=update.now,
        )
        effects = [d for d in effects if not any(d is x for x in dropped)]
    _profile, attributes = attribute_updates(effects, skip)
    data = dict(session.data)
    if attributes:
        data["attributes"] = {**dict(data.get("attributes") or {}), **attributes}
    return replace(
        outcome,
        session=replace(session, effects=effects, data=data),
        effects=effects,
        created_coupons=created.coupons,
        created_referrals=created.referrals,
    )


def update_attributes(
    update: Update, outcome: SessionOutcome, skip: frozenset[RuleKey]
) -> SessionOutcome:
    """Set the customer attributes rules updated (after the customer is written)."""
    attributes, _session = attribute_updates(outcome.effects, skip)
    profile = outcome.profile
    traits = update_profile_attributes(
        update.unit, update.caller.workspace_id, profile.integration_id, attributes, update.now
    )
    if traits is None:
        return outcome
    return replace(outcome, profile=replace(profile, attributes=traits))


# -- attribute updates -----------------------------------------------------------------------


def attribute_updates(
    effects: Iterable[Mapping[str, Any]], skip: Collection[RuleKey] = frozenset()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``updateAttribute`` effects as (profile attributes, session attributes), in order."""
    profile: dict[str, Any] = {}
    session: dict[str, Any] = {}
    for document in effects:
        if document["effectType"] != "updateAttribute" or rule_key(document) in skip:
            continue
        path = str(document["props"].get("path", ""))
        value = document["props"].get("value")
        if path.startswith(PROFILE_PATH):
            profile[path.removeprefix(PROFILE_PATH)] = value
        elif path.startswith(SESSION_PATH):
            session[path.removeprefix(SESSION_PATH)] = value
    return profile, session


def update_profile_attributes(
    unit: SessionUnit,
    workspace_id: str,
    profile_id: str,
    attributes: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any] | None:
    """Set rules' attribute updates on the customer; its attributes after, or None (none)."""
    if not profile_id or not attributes:
        return None
    (profile,) = update_profiles(unit, workspace_id, [(profile_id, attributes)], now)
    return profile.traits()


def event_documents(
    effects: Iterable[Doc], kinds: Collection[str], skip: Collection[RuleKey]
) -> list[Doc]:
    """The effects of ``kinds`` an event commits (not those of its session's own rules)."""
    return [d for d in effects if d["effectType"] in kinds and rule_key(d) not in skip]
