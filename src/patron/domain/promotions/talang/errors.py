"""The two ways a rule goes wrong: refused when compiled, or failing when evaluated."""

from __future__ import annotations

from dataclasses import dataclass

from patron.domain.errors import Invalid, Problem


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One thing wrong with a ruleset, and exactly where.

    ``pointer`` is a JSON pointer into the ruleset as sent
    (``/rules/2/condition/1/0``: rule 2's condition, its argument 1, that
    call's function name); ``rule_index``/``rule_title`` name the rule (None
    for a problem in the ruleset's own bindings).
    """

    pointer: str
    message: str
    rule_index: int | None = None
    rule_title: str | None = None

    def describe(self) -> str:
        where = f"{self.pointer}: " if self.pointer else ""
        if self.rule_index is not None:
            title = f" ({self.rule_title!r})" if self.rule_title else ""
            where = f"rule {self.rule_index}{title} at {where}"
        return f"{where}{self.message}"


class RulesetInvalid(Invalid):
    """A ruleset that cannot compile: every problem found, each with its position.

    An :class:`~patron.domain.errors.Invalid`, so a surface maps it to its
    400; ``rule_problems`` keep the pointers for the vendor's error body
    (Talon's ``errors[].source.pointer``).
    """

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.rule_problems = problems
        first = problems[0].describe()
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            first + more,
            [Problem(problem.describe(), field=problem.pointer) for problem in problems],
        )


class EvaluationError(Exception):
    """An expression failed at run time: a missing attribute, a division by zero.

    ``catch`` turns it into its fallback; otherwise a condition that raises
    fails its rule (the message becomes the failure reason's details) and an
    effect that raises becomes an ``error`` effect.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
