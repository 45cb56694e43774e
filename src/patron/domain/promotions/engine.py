"""One campaign's rules, in index order, against one session (SPEC §4.2-9).

For each rule: its condition holds → its effect expressions are evaluated
(in order) into intents and applied together (see :mod:`.ledger`); the rule
fires and its effects are emitted, each carrying the campaign, ruleset, rule
index and title. The condition is false or fails → a failure reason with
the failing part's index and a human ``details``, and the rule's failure
effects. An effect expression that fails → an ``error`` effect, and the rule
does not fire. An intent over a budget → a failure reason naming that
effect, and the rule does not fire.

A rule whose condition calls ``couponValid`` and fires accepts the campaign's
coupon in scope: ``acceptCoupon`` comes right before that rule's effects,
which carry ``triggeredByCoupon``. If no such rule fires the coupon is
rejected: ``EffectCouldNotBeApplied`` if one held but could not apply,
else ``CouponRejectedByCondition`` with the first failing rule's condition
index. Referrals alike, with ``referralValid``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from patron.domain.promotions import effects as fx
from patron.domain.promotions.campaigns import Campaign
from patron.domain.promotions.explain import explain
from patron.domain.promotions.grants import grant
from patron.domain.promotions.ledger import Ledger, NotApplicable, Origin
from patron.domain.promotions.talang import CompiledRule, EvaluationError, Scope
from patron.domain.promotions.talang.intents import Intent
from patron.domain.promotions.verdicts import CouponRejection as CR

CONDITION = CR.REJECTED_BY_CONDITION.value  # the referral reasons end the same way
EFFECT = CR.EFFECT_COULD_NOT_BE_APPLIED.value


@dataclass(slots=True)
class CodeOutcome:
    """What the rules made of the campaign's coupon (or referral) in scope."""

    code: str
    id: int
    accepted: bool = False
    reason: str | None = None  # "condition" or "effect", while not accepted
    rule: CompiledRule | None = None
    condition_index: int | None = None
    effect_index: int | None = None
    details: str = "no rule of the campaign tests the code"

    def failed(self, stage: str, rule: CompiledRule, index: int, details: str) -> None:
        if self.accepted or (self.reason == EFFECT and stage == CONDITION):
            return  # the furthest a rule got decides
        if self.reason == stage:
            return  # the first rule's failure at a stage is the one reported
        self.reason, self.rule, self.details = stage, rule, details
        if stage == EFFECT:
            self.condition_index, self.effect_index = None, index
        else:
            self.condition_index, self.effect_index = index, None


@dataclass(slots=True)
class CampaignRun:
    campaign: Campaign
    scope: Scope
    ledger: Ledger
    coupon: CodeOutcome | None = None
    referral: CodeOutcome | None = None
    # Where its effects and failure reasons go (evaluate() passes one list for all campaigns).
    effects: list[fx.Effect] = field(default_factory=list)
    failures: list[fx.RuleFailureReason] = field(default_factory=list)
    fired: bool = False
    explain_all: bool = True  # False: only the rules a code's verdict depends on are explained

    def explains(self, rule: CompiledRule) -> bool:
        """Whether a failure of ``rule`` is worth explaining: asked for, or it may decide the
        verdict on the coupon or referral in scope (its details and condition index).
        (The common answers first, without a look at the codes: hundreds of rules fail.)"""
        if self.explain_all:
            return True
        if not (rule.uses_coupon or rule.uses_referral):
            return False
        return (rule.uses_coupon and self.coupon is not None) or (
            rule.uses_referral and self.referral is not None
        )

    @property
    def ruleset_id(self) -> int:
        assert self.campaign.ruleset is not None
        return self.campaign.ruleset.id

    def emit(self, rule: CompiledRule, props: fx.EffectProps, coupon_id: int | None) -> None:
        self.effects.append(
            fx.Effect(props, self.campaign.id, self.ruleset_id, rule.index, rule.title, coupon_id)
        )

    def fail(
        self,
        rule: CompiledRule,
        details: str,
        *,
        condition: int | None = None,
        effect: int | None = None,
    ) -> None:
        coupon = self.coupon if rule.uses_coupon else None
        referral = self.referral if rule.uses_referral else None
        self.failures.append(
            fx.RuleFailureReason(
                self.campaign.id,
                self.campaign.name,
                self.ruleset_id,
                rule.index,
                rule.title,
                details,
                condition,
                effect,
                coupon.id if coupon else None,
                coupon.code if coupon else None,
                referral.id if referral else None,
                referral.code if referral else None,
            )
        )
        stage, index = (CONDITION, condition) if condition is not None else (EFFECT, effect)
        for outcome in (coupon, referral):
            if outcome is not None:
                outcome.failed(stage, rule, index or 0, details)


def run_campaign(run: CampaignRun) -> None:
    assert run.campaign.ruleset is not None
    for rule in run.campaign.ruleset.rules:
        _rule(run, rule)


def _rule(run: CampaignRun, rule: CompiledRule) -> None:
    scope = run.scope
    holds = True
    try:
        for check in rule.checks:  # (the condition's top ``and``, run part by part)
            if check(scope) is not True:
                holds = False
                break
    except EvaluationError:
        holds = False
    if not holds:
        if run.explains(rule):  # explaining re-runs parts of the condition: not for nothing
            index, details = explain(rule, scope)
            run.fail(rule, details, condition=index)
        if rule.failure_effects:
            _failure_effects(run, rule)
        return
    try:
        intents = _intents(rule.effects, scope)
    except _EffectFailed as failed:
        _error(run, rule, failed.index, failed.message)
        return
    coupon = run.coupon.id if run.coupon is not None and rule.uses_coupon else None
    applied = _apply(run, rule, intents, coupon)
    if applied is None:
        return
    run.fired = True
    if coupon is not None or rule.uses_referral:
        _accept(run, rule, coupon)
    effects, campaign_id, ruleset_id = run.effects, run.campaign.id, run.ruleset_id
    for props in applied:  # (run.emit, inlined: hundreds per session)
        effects.append(fx.Effect(props, campaign_id, ruleset_id, rule.index, rule.title, coupon))


def _apply(
    run: CampaignRun, rule: CompiledRule, intents: Sequence[tuple[int, Any]], coupon: int | None
) -> list[fx.EffectProps] | None:
    """The rule's intents applied together, or None (and the failure recorded)."""
    scope, ledger = run.scope, run.ledger
    ledger.begin()
    applied: list[fx.EffectProps] = []
    coupon_in_scope = scope.coupon if coupon is not None else None
    origin = Origin(run.campaign, run.ruleset_id, rule.index, rule.title, 0, coupon_in_scope)
    for index, intent in intents:
        origin.effect_index = index
        try:
            props = grant(ledger, intent, origin)
        except NotApplicable as refused:
            ledger.rollback()
            run.fail(rule, f"effect {index} could not be applied: {refused.details}", effect=index)
            return None
        except EvaluationError as error:
            ledger.rollback()
            _error(run, rule, index, error.message)
            return None
        if props is not None:
            applied.append(props)
    return applied


def _accept(run: CampaignRun, rule: CompiledRule, coupon: int | None) -> None:
    if coupon is not None and run.coupon is not None and not run.coupon.accepted:
        run.coupon.accepted = True
        run.emit(rule, fx.AcceptCoupon(run.coupon.code), coupon)
    referral = run.referral
    if rule.uses_referral and referral is not None and not referral.accepted:
        referral.accepted = True
        run.emit(rule, fx.AcceptReferral(referral.code), coupon)


def _error(run: CampaignRun, rule: CompiledRule, index: int, message: str) -> None:
    text = f"rule {rule.index} ({rule.title!r}), effect {index}: {message}"
    run.emit(rule, fx.Error(text), None)
    run.fail(rule, f"effect {index} failed: {message}", effect=index)


def _failure_effects(run: CampaignRun, rule: CompiledRule) -> None:
    assert rule.failure_effects
    try:
        intents = _intents(rule.failure_effects, run.scope)
    except _EffectFailed as failed:
        text = (
            f"rule {rule.index} ({rule.title!r}), failure effect {failed.index}: {failed.message}"
        )
        run.emit(rule, fx.Error(text), None)
        return
    origin = Origin(run.campaign, run.ruleset_id, rule.index, rule.title, 0, None)
    for index, intent in intents:
        origin.effect_index = index
        props = grant(run.ledger, intent, origin)  # notifications and custom effects only
        if props is not None:
            run.emit(rule, props, None)


class _EffectFailed(Exception):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def _intents(nodes: Sequence[Any], scope: Scope) -> list[tuple[int, Any]]:
    """Each effect expression's intents, with the expression's index."""
    found: list[tuple[int, Any]] = []
    for index, node in enumerate(nodes):
        try:
            value = node.run(scope)
            if isinstance(value, Intent):  # the common case: one intent
                found.append((index, value))
            else:
                _flatten(value, index, found)
        except EvaluationError as error:
            raise _EffectFailed(index, error.message) from None
    return found


def _flatten(value: Any, index: int, found: list[tuple[int, Any]]) -> None:
    if isinstance(value, Intent):
        found.append((index, value))
    elif isinstance(value, list | tuple):
        for item in value:
            _flatten(item, index, found)
    else:
        raise EvaluationError(f"an effect expression gave {type(value).__name__}, not an effect")
