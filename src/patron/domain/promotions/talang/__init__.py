"""Talang, Talon.One's rule language, as JSON: compiled once, evaluated as closures.

A call ``(f a b)`` is the JSON array ``["f", a, b]``; ``[".", "Session",
"Total"]`` reads a value; blocks (``["filter", list, ["Item"], body]``) run
an expression per item. :func:`compile_ruleset` checks a whole ruleset —
unknown functions, wrong numbers or kinds of arguments, unknown paths —
and raises :class:`RulesetInvalid` naming each rule and JSON pointer at
fault; what it returns evaluates without parsing anything again.

Modules: :mod:`.values` (kinds and conversions), :mod:`.nodes` (compiled
expressions), :mod:`.registry` (the function table's shape),
:mod:`.functions` (the functions, by family), :mod:`.library` (the table),
:mod:`.paths` (what ``.`` reads), :mod:`.compiler` (one expression),
:mod:`.rules` (rules and rulesets), :mod:`.intents` (what effect functions
return).
"""

from patron.domain.promotions.talang.errors import EvaluationError, RuleProblem, RulesetInvalid
from patron.domain.promotions.talang.library import REGISTRY
from patron.domain.promotions.talang.nodes import FRAME_SIZE, Node, Scope
from patron.domain.promotions.talang.rules import (
    CompiledBinding,
    CompiledRule,
    CompiledRuleset,
    compile_expression,
    compile_ruleset,
)

__all__ = [
    "FRAME_SIZE",
    "REGISTRY",
    "CompiledBinding",
    "CompiledRule",
    "CompiledRuleset",
    "EvaluationError",
    "Node",
    "RuleProblem",
    "RulesetInvalid",
    "Scope",
    "compile_expression",
    "compile_ruleset",
]
