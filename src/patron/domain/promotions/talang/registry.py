"""The function table: every Talang function Patron knows, by name.

A :class:`Function` says how it may be called (its :class:`Overload` s, by
number of arguments, with the kinds each argument accepts), what it returns
and how to build its closure from its compiled arguments. The compiler knows
nothing of any particular function but ``.`` (paths) and ``kv``: adding a
function is adding a row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.promotions.talang.errors import EvaluationError
from patron.domain.promotions.talang.intents import Intent
from patron.domain.promotions.talang.nodes import Lambda, Literal, Node, Run
from patron.domain.promotions.talang.values import ANY, Kind, Shape

Returns = Shape | Callable[["Site"], Shape]


@dataclass(frozen=True, slots=True)
class Overload:
    """One way to call a function: fixed parameters, then variadic ones, then a block."""

    params: tuple[Kind, ...]
    returns: Returns
    rest: Kind | None = None  # the kind of any number of further arguments
    lambda_body: Kind | None = None  # a block follows, whose body must be this kind

    def accepts(self, count: int) -> bool:
        return count == len(self.params) or (self.rest is not None and count > len(self.params))

    def arity(self) -> str:
        n = len(self.params)
        noun = "argument" if n == 1 else "arguments"
        base = f"at least {n} {noun}" if self.rest is not None else f"{n} {noun}"
        return f"{base} and a block" if self.lambda_body is not None else base

    def kind_at(self, index: int) -> Kind:
        return self.params[index] if index < len(self.params) else (self.rest or ANY)


@dataclass(frozen=True, slots=True)
class Site:
    """A call being compiled: its compiled arguments and block."""

    name: str
    args: tuple[Node, ...]
    block: Lambda | None = None

    @property
    def runs(self) -> tuple[Run, ...]:
        return tuple(arg.run for arg in self.args)

    def shapes(self) -> tuple[Shape, ...]:
        return tuple(arg.shape for arg in self.args)


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    overloads: tuple[Overload, ...]
    build: Callable[[Site], Run]
    summary: str
    # Effect functions may appear only in a rule's effects.
    effect: bool = False
    # Checks of literal arguments at compile time: (index, check) -> message or None.
    literal_checks: tuple[tuple[int, Callable[[Any], str | None]], ...] = field(default=())

    def overload(self, count: int, has_block: bool) -> Overload | None:
        for overload in self.overloads:
            if (overload.lambda_body is not None) == has_block and overload.accepts(count):
                return overload
        return None

    def takes_block(self) -> bool:
        return any(overload.lambda_body is not None for overload in self.overloads)

    def arities(self) -> str:
        return " or ".join(overload.arity() for overload in self.overloads)


def returns(overload: Overload, site: Site) -> Shape:
    result = overload.returns
    return result if isinstance(result, Shape) else result(site)


def strict(
    name: str,
    params: tuple[Kind, ...],
    result: Returns,
    impl: Callable[..., Any],
    summary: str,
    *,
    rest: Kind | None = None,
) -> Function:
    """A function of its argument values: every argument is evaluated, in order, first."""
    return Function(
        name, (Overload(params, result, rest),), lambda site: folded(impl, site), summary
    )


def scoped(
    name: str,
    params: tuple[Kind, ...],
    result: Returns,
    impl: Callable[..., Any],
    summary: str,
    *,
    rest: Kind | None = None,
) -> Function:
    """Like :func:`strict`, but ``impl`` also receives the scope (``now``, the context) first."""
    return Function(
        name, (Overload(params, result, rest),), lambda site: apply_scoped(impl, site.runs), summary
    )


# Values a folded call may hand to every evaluation: nothing a caller could change.
_IMMUTABLE = (str, bool, Decimal, datetime, tuple, Intent)


def folded(impl: Callable[..., Any], site: Site) -> Run:
    """``apply``; but a call whose arguments are all literals is computed here, once (a
    function of its arguments alone gives the same value every time: ``["setDiscount",
    "10 off", 10]``). A call that fails is left to fail when evaluated, as it would."""
    literals = [arg.value for arg in site.args if isinstance(arg, Literal)]
    if site.args and len(literals) == len(site.args):
        try:
            value = impl(*literals)
        except EvaluationError:
            value = None  # (and so not folded)
        if isinstance(value, _IMMUTABLE):
            return lambda _scope: value
    return apply(impl, site.runs)


def apply(impl: Callable[..., Any], runs: Sequence[Run]) -> Run:
    # One closure per arity: no list is built for the common short calls.
    if len(runs) == 0:
        return lambda _scope: impl()
    if len(runs) == 1:
        (first,) = runs
        return lambda scope: impl(first(scope))
    if len(runs) == 2:
        first, second = runs
        return lambda scope: impl(first(scope), second(scope))
    if len(runs) == 3:
        one, two, three = runs
        return lambda scope: impl(one(scope), two(scope), three(scope))
    return lambda scope: impl(*[run(scope) for run in runs])


def apply_scoped(impl: Callable[..., Any], runs: Sequence[Run]) -> Run:
    if len(runs) == 1:
        (first,) = runs
        return lambda scope: impl(scope, first(scope))
    return lambda scope: impl(scope, *[run(scope) for run in runs])


class Registry:
    """Functions by name."""

    def __init__(self, functions: Iterable[Function]) -> None:
        self._functions: dict[str, Function] = {}
        for function in functions:
            if function.name in self._functions:
                raise ValueError(f"function {function.name!r} registered twice")
            self._functions[function.name] = function

    def get(self, name: str) -> Function | None:
        return self._functions.get(name)

    def names(self) -> list[str]:
        return sorted(self._functions)

    def functions(self) -> Mapping[str, Function]:
        return self._functions
