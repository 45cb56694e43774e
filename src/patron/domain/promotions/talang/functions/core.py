"""Logic, comparison, arithmetic and control: Talang's core functions.

Numbers are decimals: ``["*", 19.99, 3]`` is exactly 59.97. Comparisons
take numbers or times (a string that reads as one is one); ``=`` compares
any values, a number equal to a string that reads as that number (Talang's
``(= 1 "1")`` is true). Variadic comparisons test the first argument
against each of the others.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, DecimalException
from typing import Any

from patron.domain.promotions.talang.errors import EvaluationError
from patron.domain.promotions.talang.intents import NOOP
from patron.domain.promotions.talang.nodes import Literal, Run, Scope
from patron.domain.promotions.talang.registry import Function, Overload, Site, folded, strict
from patron.domain.promotions.talang.values import (
    ANY,
    ARITHMETIC,
    BOOLEAN,
    DECIMAL,
    EFFECT,
    STRING,
    VALUE,
    Kind,
    Shape,
    as_bool,
    as_decimal,
    as_string,
    as_time,
    parse_number,
    parse_time,
    show,
)

NUMBER_OR_TIME = Kind.DECIMAL | Kind.TIME


# The hot path: a condition is an ``and`` of comparisons. Booleans are tested
# by identity and anything else goes through as_bool only to fail.


def _and(site: Site) -> Run:
    runs = site.runs
    if len(runs) == 1:
        (only,) = runs

        def run_one(scope: Scope) -> bool:
            value = only(scope)
            return value if value is True or value is False else as_bool(value)

        return run_one

    def run(scope: Scope) -> bool:
        for each in runs:
            value = each(scope)
            if value is not True:
                return as_bool(value)  # False, or a failure
        return True

    return run


def _or(site: Site) -> Run:
    runs = site.runs

    def run(scope: Scope) -> bool:
        for each in runs:
            value = each(scope)
            if value is not False:
                return as_bool(value)  # True, or a failure
        return False

    return run


def _if(site: Site) -> Run:
    test, then, otherwise = site.runs
    return lambda scope: then(scope) if as_bool(test(scope)) else otherwise(scope)


def _catch(site: Site) -> Run:
    fallback, attempt = site.runs

    def run(scope: Scope) -> Any:
        try:
            return attempt(scope)
        except EvaluationError:
            return fallback(scope)

    return run


def _union(site: Site) -> Shape:
    """The shape of a value that is one of the last two arguments (``if``, ``catch``)."""
    first, second = site.args[-2].shape, site.args[-1].shape
    return first if first == second else Shape(first.kind | second.kind)


def equal(a: Any, b: Any) -> bool:
    if type(a) is type(b):
        return bool(a == b)
    if isinstance(a, Decimal) and isinstance(b, str):
        return parse_number(b) == a
    if isinstance(a, str) and isinstance(b, Decimal):
        return parse_number(a) == b
    if isinstance(a, datetime) and isinstance(b, str):
        return parse_time(b) == a
    if isinstance(a, str) and isinstance(b, datetime):
        return parse_time(a) == b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return False


def _ordered(a: Any, b: Any) -> tuple[Any, Any]:
    if type(a) is Decimal and type(b) is Decimal:
        return a, b
    if isinstance(a, datetime) or isinstance(b, datetime):
        return as_time(a), as_time(b)
    if isinstance(a, str) and isinstance(b, str) and parse_number(a) is None:
        return as_time(a), as_time(b)
    return as_decimal(a), as_decimal(b)


def _comparison(test: Callable[[Any, Any], bool]) -> Callable[[Site], Run]:
    def pair(a: Any, b: Any) -> bool:
        if type(a) is Decimal and type(b) is Decimal:
            return test(a, b)
        return test(*_ordered(a, b))

    def against(first: Run, constant: Any) -> Run:
        if type(constant) is not Decimal:
            return lambda scope: pair(first(scope), constant)

        def run_number(scope: Scope) -> bool:
            value = first(scope)
            return test(value, constant) if type(value) is Decimal else pair(value, constant)

        return run_number

    def build(site: Site) -> Run:
        runs = site.runs
        if len(runs) == 2:
            first, second = runs
            if isinstance(site.args[1], Literal):  # a threshold: no call to read it
                return against(first, site.args[1].value)
            return lambda scope: pair(first(scope), second(scope))

        def run(scope: Scope) -> bool:
            value = runs[0](scope)
            return all(pair(value, other(scope)) for other in runs[1:])

        return run

    return build


def _equality(negate: bool) -> Callable[[Site], Run]:
    def build(site: Site) -> Run:
        runs = site.runs
        if len(runs) == 2:
            first, second = runs
            if isinstance(site.args[1], Literal):  # (= Item.Category "shoes"): no call to read it
                constant = site.args[1].value
                same = type(constant)

                def run_literal(scope: Scope) -> bool:
                    value = first(scope)
                    if type(value) is same:  # (what equal() does first, without the call)
                        return (value == constant) is not negate
                    return equal(value, constant) is not negate

                return run_literal
            return lambda scope: equal(first(scope), second(scope)) is not negate

        def run(scope: Scope) -> bool:
            value = runs[0](scope)
            others = [other(scope) for other in runs[1:]]
            if negate:
                return not any(equal(value, other) for other in others)
            return all(equal(value, other) for other in others)

        return run

    return build


def _between(*values: Any) -> bool:
    *tested, low, high = values
    for value in tested:
        below, above = _ordered(low, value)
        if not below < above:
            return False
        below, above = _ordered(value, high)
        if not below < above:
            return False
    return True


def _arithmetic(step: Callable[[Decimal, Decimal], Decimal]) -> Callable[..., Decimal]:
    def compute(first: Any, *others: Any) -> Decimal:
        result = as_decimal(first)
        try:
            for other in others:
                result = step(result, as_decimal(other))
        except (DecimalException, ZeroDivisionError) as error:
            raise EvaluationError(f"arithmetic failed: {type(error).__name__}") from None
        return result

    return compute


_add = _arithmetic(ARITHMETIC.add)


def _plus(*values: Any) -> Any:
    """``+``: the sum of numbers, or the concatenation of strings (Talang's two overloads)."""
    if isinstance(values[0], str) and parse_number(values[0]) is None:
        return "".join(as_string(value) for value in values)
    return _add(*values)


def _plus_shape(site: Site) -> Shape:
    if all(shape.kind == Kind.DECIMAL for shape in site.shapes()):
        return DECIMAL
    first = site.args[0] if site.args else None
    if isinstance(first, Literal) and isinstance(first.value, str):
        return STRING if parse_number(first.value) is None else DECIMAL
    return Shape(Kind.DECIMAL | Kind.STRING)


def _rounded(mode: str) -> Callable[..., Decimal]:
    def round_to(value: Any, places: Any = Decimal(0)) -> Decimal:
        digits = as_decimal(places)
        if digits != digits.to_integral_value() or not 0 <= digits <= 20:
            raise EvaluationError(f"cannot round to {digits} places")
        exponent = Decimal(1).scaleb(-int(digits))
        try:
            return as_decimal(value).quantize(exponent, rounding=mode, context=ARITHMETIC)
        except DecimalException:
            raise EvaluationError(f"{show(value)} has too many digits to round") from None

    return round_to


def _variadic_compare(name: str, test: Callable[[Any, Any], bool], summary: str) -> Function:
    overload = Overload((NUMBER_OR_TIME, NUMBER_OR_TIME), BOOLEAN, rest=NUMBER_OR_TIME)
    return Function(name, (overload,), _comparison(test), summary)


def _math(name: str, step: Callable[[Decimal, Decimal], Decimal], summary: str) -> Function:
    return strict(
        name, (Kind.DECIMAL, Kind.DECIMAL), DECIMAL, _arithmetic(step), summary, rest=Kind.DECIMAL
    )


FUNCTIONS: list[Function] = [
    Function(
        "and",
        (Overload((Kind.BOOLEAN,), BOOLEAN, rest=Kind.BOOLEAN),),
        _and,
        "true when every argument is true (stops at the first false)",
    ),
    Function(
        "or",
        (Overload((Kind.BOOLEAN,), BOOLEAN, rest=Kind.BOOLEAN),),
        _or,
        "true when any argument is true (stops at the first true)",
    ),
    strict("not", (Kind.BOOLEAN,), BOOLEAN, lambda value: not as_bool(value), "the negation"),
    Function(
        "if",
        (Overload((Kind.BOOLEAN, ANY, ANY), _union),),
        _if,
        "the second argument if the first is true, else the third",
    ),
    Function(
        "catch",
        (Overload((ANY, ANY), _union),),
        _catch,
        "the second argument, or the first if evaluating the second fails",
    ),
    Function(
        "noop",
        (Overload((), EFFECT),),
        lambda _site: lambda _scope: NOOP,
        "no effect (a fallback for catch)",
        effect=True,
    ),
    Function(
        "=",
        (Overload((VALUE, VALUE), BOOLEAN, rest=VALUE),),
        _equality(negate=False),
        "true when the first argument equals every other",
    ),
    Function(
        "!=",
        (Overload((VALUE, VALUE), BOOLEAN, rest=VALUE),),
        _equality(negate=True),
        "true when the first argument equals none of the others",
    ),
    _variadic_compare("<", operator.lt, "true when the first is less than every other"),
    _variadic_compare("<=", operator.le, "true when the first is at most every other"),
    _variadic_compare(">", operator.gt, "true when the first is greater than every other"),
    _variadic_compare(">=", operator.ge, "true when the first is at least every other"),
    strict(
        "between",
        (NUMBER_OR_TIME, NUMBER_OR_TIME, NUMBER_OR_TIME),
        BOOLEAN,
        _between,
        "true when every argument but the last two lies strictly between them",
        rest=NUMBER_OR_TIME,
    ),
    Function(
        "+",
        (
            Overload(
                (Kind.DECIMAL | Kind.STRING,) * 2, _plus_shape, rest=Kind.DECIMAL | Kind.STRING
            ),
        ),
        lambda site: folded(_plus, site),
        "the sum of numbers, or strings joined",
    ),
    _math("-", ARITHMETIC.subtract, "the first minus the others"),
    _math("*", ARITHMETIC.multiply, "the product"),
    _math("/", ARITHMETIC.divide, "the first divided by the others (division by zero fails)"),
    _math("mod", ARITHMETIC.remainder, "the remainder of dividing by each other in turn"),
    strict("ceil", (Kind.DECIMAL,), DECIMAL, _rounded(ROUND_CEILING), "rounded up to an integer"),
    strict("floor", (Kind.DECIMAL,), DECIMAL, _rounded(ROUND_FLOOR), "rounded down to an integer"),
    Function(
        "couponValid",
        (Overload((), BOOLEAN),),
        lambda _site: lambda scope: scope.coupon is not None,
        "true when a valid coupon of this campaign is in the session",
    ),
    Function(
        "referralValid",
        (Overload((), BOOLEAN),),
        lambda _site: lambda scope: scope.referral is not None,
        "true when a valid referral of this campaign is in the session",
    ),
    Function(
        "round",
        (Overload((Kind.DECIMAL,), DECIMAL), Overload((Kind.DECIMAL,) * 2, DECIMAL)),
        lambda site: folded(_rounded(ROUND_HALF_UP), site),
        "rounded half up to the given decimal places (0 by default; Patron)",
    ),
]
