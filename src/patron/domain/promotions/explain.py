"""Why a rule's condition did not hold, in words a person can act on (SPEC §5.1).

The condition's parts are its top-level ``and``'s arguments (or the whole
condition); the first part that is false or fails is the failure's
``conditionIndex``, and the details name it with the values it saw:
``Session.Total (80) > 100 is false``. Only failed rules pay for this.
"""

from __future__ import annotations

from typing import Any

from patron.domain.promotions.talang import CompiledRule, EvaluationError, Node, Scope
from patron.domain.promotions.talang.nodes import Call, Literal
from patron.domain.promotions.talang.values import show

COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
MAX_DETAILS = 300
_PLAIN = {
    "couponValid": "no valid coupon of this campaign is in the session",
    "referralValid": "no valid referral of this campaign is in the session",
}


def explain(rule: CompiledRule, scope: Scope) -> tuple[int, str]:
    """The index of the first part of the condition that does not hold, and why."""
    for index, part in enumerate(rule.conjuncts()):
        try:
            value = part.run(scope)
        except EvaluationError as error:
            return index, _cut(f"{part.describe()} failed: {error.message}")
        if value is not True:
            return index, _cut(why_false(part, scope, value))
    return 0, "the condition is false"


def why_false(node: Node, scope: Scope, value: Any) -> str:
    if value is not False:
        return f"{node.describe()} is {show(value)}, not a boolean"
    if isinstance(node, Call):
        if node.name in _PLAIN:
            return _PLAIN[node.name]
        if node.name in COMPARISONS:
            operands = f" {node.name} ".join(_with_value(arg, scope) for arg in node.args)
            return f"{operands} is false"
        if node.name == "segment" and node.args:
            return f"the customer is not in segment {_with_value(node.args[0], scope)}"
    return f"{node.describe()} is false"


def _with_value(node: Node, scope: Scope) -> str:
    text = node.describe()
    if isinstance(node, Literal):
        return text
    try:
        return f"{text} ({show(node.run(scope))})"
    except EvaluationError as error:
        return f"{text} (failed: {error.message})"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_DETAILS else text[: MAX_DETAILS - 1] + "…"
