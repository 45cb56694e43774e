"""``evaluate``: a session against an application's campaigns, as a pure function.

Nothing is read or written: the caller passes the context (session,
profile, event, the coupons and referral the codes named, loyalty balances,
counters, the event-history port) and every campaign of the application
with its compiled ruleset; the result is the session's full current set of
effects (SPEC §4.2-10: recomputed on every update, never a delta), the
failure reasons, and the codes rules created, for the caller to store when
it commits.

Order of the effects (SPEC §4.2-9): the campaigns that run, by priority then
id; within one, rules by index, each rule's effects in order (an
``acceptCoupon``/``acceptReferral`` just before the effects of the rule that
accepted it). Then the rejected coupons, in the order the session lists
their codes, then the rejected referral — so a session's verdicts read in
its own order whatever the campaigns.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from patron.domain.promotions import effects as fx
from patron.domain.promotions.campaigns import Campaign, select
from patron.domain.promotions.engine import CampaignRun, CodeOutcome, run_campaign
from patron.domain.promotions.ledger import CreatedCode, Ledger
from patron.domain.promotions.model import Coupon, EvaluationContext, Referral
from patron.domain.promotions.talang import FRAME_SIZE, Scope
from patron.domain.promotions.verdicts import (
    CouponRejection,
    Facts,
    ReferralRejection,
    Rejection,
    screen_coupon,
    screen_referral,
)


@dataclass(frozen=True, slots=True)
class Accepted:
    code: str  # as the session sent it
    id: int
    campaign_id: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    effects: tuple[fx.Effect, ...]
    rule_failure_reasons: tuple[fx.RuleFailureReason, ...]
    created_coupons: tuple[CreatedCode, ...]
    created_referrals: tuple[CreatedCode, ...]
    triggered_campaigns: tuple[int, ...]  # ids of the campaigns at least one rule of fired
    accepted_coupons: tuple[Accepted, ...]  # to redeem when the session closes
    accepted_referral: Accepted | None

    def of_type(self, effect_type: str) -> list[fx.Effect]:
        return [effect for effect in self.effects if effect.effect_type == effect_type]


@dataclass
class _Screened:
    coupons: dict[int, tuple[int, str, Coupon]]  # campaign id -> (code index, code, coupon)
    referral: tuple[str, Referral] | None
    rejections: list[tuple[int, Rejection]]  # (code index, rejection); the referral's is last


@dataclass(slots=True)
class _Common:
    """What every campaign of one evaluation shares."""

    now: datetime
    failure_reasons: bool
    # The context's answers, asked once for all campaigns (Scope.shared).
    answers: dict[Any, Any] = field(default_factory=dict)
    # Campaigns run one at a time: one frame of block variables for all (Scope.frame).
    frame: list[Any] = field(default_factory=lambda: [None] * FRAME_SIZE)
    # Every campaign's effects and failure reasons, in the order the campaigns run.
    effects: list[fx.Effect] = field(default_factory=list)
    failures: list[fx.RuleFailureReason] = field(default_factory=list)


def evaluate(
    context: EvaluationContext,
    campaigns: Iterable[Campaign],
    now: datetime,
    *,
    evaluable_campaign_ids: Collection[int] | None = None,
    failure_reasons: bool = True,
) -> Evaluation:
    """The effects of ``context``'s session under ``campaigns`` at ``now``.

    ``failure_reasons`` False: the result lists only the failures that decided a
    code's verdict (explaining a failed condition costs more than evaluating it,
    and most callers never show the reasons).
    """
    every = {campaign.id: campaign for campaign in campaigns}
    chosen = select(every.values(), now, evaluable_campaign_ids)
    facts = Facts(every, {c.id for c in chosen}, context.profile, context.usage, now)
    screened = _screen(context, facts)
    ledger = Ledger(context, now)
    common = _Common(now, failure_reasons)
    effects, failures = common.effects, common.failures
    triggered: list[int] = []
    accepted: list[Accepted] = []
    accepted_referral = None
    for campaign in chosen:
        run = _run(campaign, context, ledger, screened, common)
        if run.fired:
            triggered.append(campaign.id)
        if run.coupon is not None:
            index = screened.coupons[campaign.id][0]
            if run.coupon.accepted:
                accepted.append(Accepted(run.coupon.code, run.coupon.id, campaign.id))
            else:
                screened.rejections.append((index, _rule_rejection(run.coupon, campaign, True)))
        if run.referral is not None:
            if run.referral.accepted:
                accepted_referral = Accepted(run.referral.code, run.referral.id, campaign.id)
            else:
                rejection = _rule_rejection(run.referral, campaign, False)
                screened.rejections.append((len(context.session.coupon_codes), rejection))
    effects += _rejections(screened.rejections, every)
    return Evaluation(
        tuple(effects),
        tuple(failures),
        tuple(ledger.created_coupons),
        tuple(ledger.created_referrals),
        tuple(triggered),
        tuple(accepted),
        accepted_referral,
    )


def _run(
    campaign: Campaign,
    context: EvaluationContext,
    ledger: Ledger,
    screened: _Screened,
    common: _Common,
) -> CampaignRun:
    in_scope = screened.coupons.get(campaign.id)
    referral = screened.referral
    if referral is not None and referral[1].campaign_id != campaign.id:
        referral = None
    scope = Scope(
        context,
        campaign,
        common.now,
        coupon=in_scope[2] if in_scope else None,
        referral=referral[1] if referral else None,
        frame=common.frame,
        shared=common.answers,
    )
    run = CampaignRun(
        campaign,
        scope,
        ledger,
        coupon=CodeOutcome(in_scope[1], in_scope[2].id) if in_scope else None,
        referral=CodeOutcome(referral[0], referral[1].id) if referral else None,
        effects=common.effects,
        failures=common.failures,
        explain_all=common.failure_reasons,
    )
    run_campaign(run)
    return run


def _screen(context: EvaluationContext, facts: Facts) -> _Screened:
    screened = _Screened({}, None, [])
    seen: set[int] = set()
    for index, code in enumerate(context.session.coupon_codes):
        coupon = context.coupons.get(code)
        if coupon is None:
            not_found = Rejection(code, CouponRejection.NOT_FOUND, "no coupon has this code")
            screened.rejections.append((index, not_found))
            continue
        if coupon.id in seen:
            continue  # the same coupon twice (or in two spellings): one verdict
        seen.add(coupon.id)
        verdict = screen_coupon(coupon, facts)
        taken = screened.coupons.get(coupon.campaign_id)
        if verdict is None and taken is not None:
            details = f"one coupon per campaign: {taken[1]!r} already applies"
            verdict = (CouponRejection.REJECTED_BY_CONDITION, details)
        if verdict is None:
            screened.coupons[coupon.campaign_id] = (index, code, coupon)
        else:
            rejection = Rejection(code, verdict[0], verdict[1], coupon.id, coupon.campaign_id)
            screened.rejections.append((index, rejection))
    _screen_referral(context, facts, screened)
    return screened


def _screen_referral(context: EvaluationContext, facts: Facts, screened: _Screened) -> None:
    code = context.session.referral_code
    if not code:
        return
    last = len(context.session.coupon_codes)
    referral = context.referral
    if referral is None:
        not_found = Rejection(
            code, ReferralRejection.NOT_FOUND, "no referral has this code", referral=True
        )
        screened.rejections.append((last, not_found))
        return
    verdict = screen_referral(referral, facts)
    if verdict is None:
        screened.referral = (code, referral)
    else:
        rejection = Rejection(
            code, verdict[0], verdict[1], referral.id, referral.campaign_id, referral=True
        )
        screened.rejections.append((last, rejection))


def _rule_rejection(outcome: CodeOutcome, campaign: Campaign, coupon: bool) -> Rejection:
    """The rejection of a code that passed the checks but that no rule accepted."""
    if outcome.reason == CouponRejection.EFFECT_COULD_NOT_BE_APPLIED.value:
        reason: str = CouponRejection.EFFECT_COULD_NOT_BE_APPLIED
    elif coupon:
        reason = CouponRejection.REJECTED_BY_CONDITION
    else:
        reason = ReferralRejection.REJECTED_BY_CONDITION
    rule = outcome.rule
    return Rejection(
        outcome.code,
        reason,
        outcome.details,
        outcome.id,
        campaign.id,
        referral=not coupon,
        rule_index=rule.index if rule else None,
        rule_name=rule.title if rule else "",
        condition_index=outcome.condition_index,
        effect_index=outcome.effect_index,
    )


def _rejections(
    rejections: list[tuple[int, Rejection]], campaigns: dict[int, Campaign]
) -> list[fx.Effect]:
    """The reject effects, in the order of the session's codes (the referral last)."""
    ordered = sorted(rejections, key=lambda pair: pair[0])
    return [_rejection_effect(rejection, campaigns) for _index, rejection in ordered]


def _rejection_effect(rejection: Rejection, campaigns: dict[int, Campaign]) -> fx.Effect:
    campaign = campaigns.get(rejection.campaign_id) if rejection.campaign_id is not None else None
    ruleset = campaign.ruleset if campaign is not None else None
    kind = fx.RejectReferral if rejection.referral else fx.RejectCoupon
    props = kind(
        rejection.code,
        str(rejection.reason),
        rejection.condition_index,
        rejection.effect_index,
        rejection.details,
    )
    return fx.Effect(
        props,
        campaign_id=campaign.id if campaign else fx.NO_CAMPAIGN,
        ruleset_id=ruleset.id if ruleset else fx.NO_CAMPAIGN,
        rule_index=fx.NO_CAMPAIGN if rejection.rule_index is None else rejection.rule_index,
        rule_name=rejection.rule_name,
        triggered_by_coupon=None if rejection.referral else rejection.id,
        condition_index=rejection.condition_index,
    )
