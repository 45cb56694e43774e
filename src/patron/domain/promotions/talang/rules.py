"""Rulesets: rules (title, condition, effects, bindings) compiled once, printable back.

The JSON is Talon's ``Ruleset{rules, bindings}`` and ``Rule{title, condition,
effects, description, bindings, …}``. A rule's ``condition`` is one boolean
expression; its ``effects`` a list of effect expressions; ``failureEffects``
(Patron) a list of notifications or custom effects emitted when the
condition is false. Keys Patron does not interpret (``description``, ``id``,
``rbVersion``, a binding's ``type``…) are kept as they came, so
:meth:`CompiledRuleset.to_json` gives back exactly the document compiled.

Bindings name an expression: ``{"name": "shoes", "expression": ["filter", …]}``
is read as ``[".", "shoes"]``. A ruleset's bindings are visible to every
rule and to the bindings after them; a rule's own bindings to that rule.
Each is evaluated at most once per campaign evaluation, when first read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from patron.domain.promotions.talang.compiler import (
    NAME,
    Binding,
    ExpressionCompiler,
    Names,
)
from patron.domain.promotions.talang.errors import RuleProblem, RulesetInvalid
from patron.domain.promotions.talang.library import REGISTRY
from patron.domain.promotions.talang.nodes import Call, Node, Refused, Run, Scope
from patron.domain.promotions.talang.paths import ROOTS
from patron.domain.promotions.talang.registry import Registry
from patron.domain.promotions.talang.values import ANY, VALUE, Kind, Shape, kind_names

MAX_RULES = 500
MAX_BINDINGS = 100
FAILURE_EFFECTS = frozenset({"showNotification", "customEffect"})


@dataclass(frozen=True, slots=True, eq=False)
class CompiledBinding:
    name: str
    expression: Node
    extra: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {**self.extra, "name": self.name, "expression": self.expression.to_json()}


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    index: int
    title: str
    condition: Node
    effects: tuple[Node, ...]
    failure_effects: tuple[Node, ...] | None  # None: the rule had no such key
    bindings: tuple[CompiledBinding, ...] | None
    extra: Mapping[str, Any]
    uses_coupon: bool  # its condition calls couponValid: it can accept a coupon
    uses_referral: bool
    # The condition as the engine tests it: the top ``and``'s parts, in turn (what the
    # ``and`` does, one call fewer per rule; the first part that is not true fails it).
    checks: tuple[Run, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(part.run for part in self.conjuncts()))

    def conjuncts(self) -> tuple[Node, ...]:
        """The parts of the condition a failure reason's ``conditionIndex`` counts."""
        if isinstance(self.condition, Call) and self.condition.name == "and":
            return self.condition.args
        return (self.condition,)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            **self.extra,
            "title": self.title,
            "condition": self.condition.to_json(),
            "effects": [effect.to_json() for effect in self.effects],
        }
        if self.failure_effects is not None:
            document["failureEffects"] = [effect.to_json() for effect in self.failure_effects]
        if self.bindings is not None:
            document["bindings"] = [binding.to_json() for binding in self.bindings]
        return document


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRuleset:
    id: int  # Talon's rulesetId: each saved version is a new ruleset
    rules: tuple[CompiledRule, ...]
    bindings: tuple[CompiledBinding, ...] | None
    extra: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {**self.extra, "rules": [r.to_json() for r in self.rules]}
        if self.bindings is not None:
            document["bindings"] = [binding.to_json() for binding in self.bindings]
        return document


def compile_ruleset(
    document: Any, ruleset_id: int = 0, registry: Registry = REGISTRY
) -> CompiledRuleset:
    """``document`` compiled, or :class:`RulesetInvalid` listing every problem in it."""
    problems: list[RuleProblem] = []
    if not isinstance(document, Mapping):
        raise RulesetInvalid([RuleProblem("", "a ruleset is a JSON object")])
    rules_raw = document.get("rules")
    if not isinstance(rules_raw, list):
        raise RulesetInvalid([RuleProblem("/rules", "rules must be an array of rules")])
    if len(rules_raw) > MAX_RULES:
        raise RulesetInvalid([RuleProblem("/rules", f"at most {MAX_RULES} rules")])
    top = ExpressionCompiler(registry, problems)
    names, bindings = _bindings(top, document, "/bindings", Names())
    rules = tuple(
        _rule(registry, problems, index, raw, names) for index, raw in enumerate(rules_raw)
    )
    if problems:
        raise RulesetInvalid(problems)
    extra = {k: v for k, v in document.items() if k not in ("rules", "bindings")}
    return CompiledRuleset(ruleset_id, tuple(r for r in rules if r is not None), bindings, extra)


def compile_expression(raw: Any, expect: Kind = ANY, registry: Registry = REGISTRY) -> Node:
    """One expression on its own (tests, tools): pointers start at the expression."""
    problems: list[RuleProblem] = []
    node = ExpressionCompiler(registry, problems).compile(raw, "", Names(), expect)
    if problems:
        raise RulesetInvalid(problems)
    return node


def _rule(
    registry: Registry, problems: list[RuleProblem], index: int, raw: Any, names: Names
) -> CompiledRule | None:
    at = f"/rules/{index}"
    title = raw.get("title") if isinstance(raw, Mapping) else None
    compiler = ExpressionCompiler(
        registry, problems, index, title if isinstance(title, str) else None
    )
    if not isinstance(raw, Mapping):
        compiler.refuse(at, "a rule is a JSON object", raw)
        return None
    if not isinstance(title, str) or not title:
        compiler.refuse(f"{at}/title", "a rule needs a title (a non-empty string)", title)
    names, bindings = _bindings(compiler, raw, f"{at}/bindings", names)
    condition = raw.get("condition")
    if not isinstance(condition, list):
        compiler.refuse(f"{at}/condition", "a condition is one expression (a JSON array)", None)
        return None
    node = compiler.compile(
        condition, f"{at}/condition", names, Kind.BOOLEAN, where="the condition"
    )
    effects = _effects(compiler, raw, "effects", at, names, required=True)
    failure = _effects(compiler, raw, "failureEffects", at, names, required=False)
    extra = {k: v for k, v in raw.items() if k not in _RULE_KEYS}
    calls = {n.name for n in node.walk() if isinstance(n, Call)}
    return CompiledRule(
        index=index,
        title=title if isinstance(title, str) else "",
        condition=node,
        effects=effects or (),
        failure_effects=failure,
        bindings=bindings,
        extra=extra,
        uses_coupon="couponValid" in calls,
        uses_referral="referralValid" in calls,
    )


_RULE_KEYS = ("title", "condition", "effects", "failureEffects", "bindings")


def _effects(
    compiler: ExpressionCompiler,
    raw: Mapping[str, Any],
    key: str,
    at: str,
    names: Names,
    *,
    required: bool,
) -> tuple[Node, ...] | None:
    if key not in raw and not required:
        return None
    items = raw.get(key)
    if not isinstance(items, list):
        compiler.refuse(f"{at}/{key}", f"{key} must be an array of effect expressions", items)
        return ()
    nodes: list[Node] = []
    for index, item in enumerate(items):
        pointer = f"{at}/{key}/{index}"
        if not isinstance(item, list):
            compiler.refuse(pointer, "an effect is an expression (a JSON array)", item)
            continue
        node = compiler.compile(item, pointer, names, ANY)
        if not isinstance(node, Refused) and not _gives_effects(node.shape):
            message = f"an effect expression must give effects, not {_kind(node.shape)}"
            node = compiler.refuse(pointer, message, item)
        elif key == "failureEffects" and isinstance(node, Call):
            used = {n.name for n in node.walk() if isinstance(n, Call)}
            if not used & FAILURE_EFFECTS or used & _OTHER_EFFECTS:
                message = "a failure effect is a showNotification or a customEffect"
                node = compiler.refuse(pointer, message, item)
        nodes.append(node)
    return tuple(nodes)


def _gives_effects(shape: Shape) -> bool:
    if shape.kind & Kind.EFFECT:
        return True
    return bool(shape.kind & Kind.LIST and shape.item().kind & Kind.EFFECT)


def _kind(shape: Shape) -> str:
    if shape.kind == Kind.LIST:
        return f"a list of {kind_names(shape.item().kind)}"
    return kind_names(shape.kind)


_OTHER_EFFECTS = frozenset(
    {"setDiscount", "setDiscountPerItem", "addLoyaltyPoints", "deductLoyaltyPoints"}
    | {"createCoupon", "createReferral", "addFreeItem", "updateAttribute"}
)


def _bindings(
    compiler: ExpressionCompiler, raw: Mapping[str, Any], at: str, names: Names
) -> tuple[Names, tuple[CompiledBinding, ...] | None]:
    if "bindings" not in raw:
        return names, None
    items = raw["bindings"]
    if not isinstance(items, list) or len(items) > MAX_BINDINGS:
        compiler.refuse(at, f"bindings must be an array of at most {MAX_BINDINGS}", items)
        return names, ()
    compiled: list[CompiledBinding] = []
    for index, item in enumerate(items):
        pointer = f"{at}/{index}"
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not NAME.match(name) or name in ROOTS:
            compiler.refuse(f"{pointer}/name", "a binding needs a new name", name)
            continue
        if any(binding.name == name for binding in compiled):
            compiler.refuse(f"{pointer}/name", f"the binding {name!r} is defined twice", name)
            continue
        assert isinstance(item, Mapping)
        expression = item.get("expression")
        node = compiler.compile(
            expression, f"{pointer}/expression", names, VALUE, where="a binding"
        )
        extra = {k: v for k, v in item.items() if k not in ("name", "expression")}
        compiled.append(CompiledBinding(name, node, extra))
        key = object()  # this binding's slot in the scope's memo
        names = Names({**names.bindings, name: Binding(node.shape, _memoized(key, node.run))})
    return names, tuple(compiled)


def _memoized(key: object, run: Run) -> Run:
    def read(scope: Scope) -> Any:
        memo = scope.memo
        if key in memo:
            return memo[key]
        # A binding's blocks number their slots from 0, like a rule's: read
        # from inside a rule's block, it must not overwrite that block's item.
        outer = scope.frame
        scope.frame = [None] * len(outer)
        try:
            value = memo[key] = run(scope)
        finally:
            scope.frame = outer
        return value

    return read
