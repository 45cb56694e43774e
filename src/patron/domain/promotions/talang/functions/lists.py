"""Lists: building them, and the block functions that run an expression per item.

``["filter", [".", "Session", "CartItems"], ["Item"], ["=", [".", "Item", "Category"], "shoes"]]``
keeps the shoes; the block's parameter (``Item`` here; any name) is the item.
``exists``/``every``/``filter`` need a boolean body, ``sum`` a number, ``map``
anything (effects too: one ``setDiscountPerItem`` per item).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from patron.domain.promotions.talang.errors import EvaluationError
from patron.domain.promotions.talang.nodes import Run, Scope
from patron.domain.promotions.talang.registry import Function, Overload, Site, strict
from patron.domain.promotions.talang.values import (
    ANY,
    ARITHMETIC,
    BOOLEAN,
    DECIMAL,
    LIST,
    STRING,
    UNKNOWN,
    Kind,
    Shape,
    as_bool,
    as_decimal,
    as_list,
    as_string,
    list_of,
    number,
    show,
)

ZERO = Decimal(0)


def _same_list(site: Site) -> Shape:
    return site.args[0].shape


def _item_of(site: Site) -> Shape:
    return site.args[0].shape.item()


def _block_runner(site: Site) -> tuple[Run, int, Run]:
    assert site.block is not None
    return site.args[0].run, site.block.slot, site.block.run


def _exists(site: Site) -> Run:
    source, slot, body = _block_runner(site)

    def run(scope: Scope) -> bool:
        frame = scope.frame
        for item in as_list(source(scope)):
            frame[slot] = item
            value = body(scope)
            if value is True or (value is not False and as_bool(value)):
                return True
        return False

    return run


def _every(site: Site) -> Run:
    source, slot, body = _block_runner(site)

    def run(scope: Scope) -> bool:
        frame = scope.frame
        for item in as_list(source(scope)):
            frame[slot] = item
            if not as_bool(body(scope)):
                return False
        return True

    return run


def _filter(site: Site) -> Run:
    source, slot, body = _block_runner(site)

    def run(scope: Scope) -> tuple[Any, ...]:
        frame = scope.frame
        kept = []
        for item in as_list(source(scope)):
            frame[slot] = item
            value = body(scope)
            if value is True or (value is not False and as_bool(value)):
                kept.append(item)
        return tuple(kept)

    return run


def _map(site: Site) -> Run:
    source, slot, body = _block_runner(site)

    def run(scope: Scope) -> tuple[Any, ...]:
        frame = scope.frame
        mapped = []
        for item in as_list(source(scope)):
            frame[slot] = item
            mapped.append(body(scope))
        return tuple(mapped)

    return run


def _sum_block(site: Site) -> Run:
    source, slot, body = _block_runner(site)

    def run(scope: Scope) -> Decimal:
        frame = scope.frame
        total = ZERO
        for item in as_list(source(scope)):
            frame[slot] = item
            total = ARITHMETIC.add(total, as_decimal(body(scope)))
        return total

    return run


def _sum(values: Any) -> Decimal:
    total = ZERO
    for value in as_list(values):
        total = ARITHMETIC.add(total, as_decimal(value))
    return total


def _item(values: Any, index: Any) -> Any:
    items = as_list(values)
    at = as_decimal(index)
    if at != at.to_integral_value() or not 0 <= at < len(items):
        raise EvaluationError(f"no item {show(at)} in {show(items)}")
    return items[int(at)]


def _nonempty(pick: Callable[[Sequence[Any]], Any], what: str) -> Callable[[Any], Any]:
    def run(values: Any) -> Any:
        items = as_list(values)
        if not items:
            raise EvaluationError(f"{what} of an empty list")
        return pick(items)

    return run


def _sort(values: Any, descending: Any = False) -> tuple[Any, ...]:
    items = as_list(values)
    if all(isinstance(item, str) for item in items):
        return tuple(sorted(items, reverse=as_bool(descending)))
    return tuple(sorted((as_decimal(i) for i in items), reverse=as_bool(descending)))


def _join(values: Any, glue: Any) -> str:
    return as_string(glue).join(as_string(item) for item in as_list(values))


def _list_shape(site: Site) -> Shape:
    shapes = site.shapes()
    if shapes and all(shape == shapes[0] for shape in shapes):
        return list_of(shapes[0])
    kind = Kind(0)
    for shape in shapes:
        kind |= shape.kind
    return list_of(Shape(kind) if shapes else UNKNOWN)


def _block(
    name: str,
    body: Kind,
    result: Shape | Callable[[Site], Shape],
    build: Callable[[Site], Run],
    summary: str,
) -> Function:
    return Function(name, (Overload((Kind.LIST,), result, lambda_body=body),), build, summary)


def _extreme(pick: Callable[[Sequence[Decimal]], Decimal], what: str) -> Callable[[Any], Decimal]:
    return _nonempty(lambda items: pick([as_decimal(item) for item in items]), what)


FUNCTIONS: list[Function] = [
    Function(
        "list",
        (Overload((), _list_shape, rest=ANY),),
        lambda site: _collect(site.runs),
        "a list of the arguments",
    ),
    strict(
        "count",
        (Kind.LIST,),
        DECIMAL,
        lambda values: number(len(as_list(values))),
        "the number of items",
    ),
    Function(
        "sum",
        (
            Overload((Kind.LIST,), DECIMAL),
            Overload((Kind.LIST,), DECIMAL, lambda_body=Kind.DECIMAL),
        ),
        lambda site: _sum_block(site) if site.block else _single(_sum, site),
        "the sum of the items, or of the block's value per item",
    ),
    _block("exists", Kind.BOOLEAN, BOOLEAN, _exists, "true when the block is true for an item"),
    _block("every", Kind.BOOLEAN, BOOLEAN, _every, "true when the block is true for every item"),
    _block("filter", Kind.BOOLEAN, _same_list, _filter, "the items the block is true for"),
    _block(
        "map",
        ANY,
        lambda site: list_of(site.block.shape if site.block else UNKNOWN),
        _map,
        "the block's value for each item",
    ),
    strict(
        "isEmpty",
        (Kind.LIST,),
        BOOLEAN,
        lambda values: not as_list(values),
        "true when the list has no items",
    ),
    strict(
        "head",
        (Kind.LIST,),
        _item_of,
        _nonempty(lambda items: items[0], "the head"),
        "the first item",
    ),
    strict(
        "tail",
        (Kind.LIST,),
        _same_list,
        lambda values: tuple(as_list(values)[1:]),
        "all items but the first",
    ),
    strict(
        "drop",
        (Kind.LIST,),
        _same_list,
        lambda values: tuple(as_list(values)[:-1]),
        "all items but the last",
    ),
    strict("item", (Kind.LIST, Kind.DECIMAL), _item_of, _item, "the item at an index (from 0)"),
    strict(
        "reverse",
        (Kind.LIST,),
        _same_list,
        lambda values: tuple(reversed(as_list(values))),
        "the items in reverse order",
    ),
    strict("min", (Kind.LIST,), DECIMAL, _extreme(min, "the minimum"), "the smallest number"),
    strict("max", (Kind.LIST,), DECIMAL, _extreme(max, "the maximum"), "the largest number"),
    strict(
        "append",
        (Kind.LIST, ANY),
        LIST,
        lambda values, *more: (*as_list(values), *more),
        "the list with the other arguments added at its end",
        rest=ANY,
    ),
    strict(
        "push",
        (Kind.LIST, ANY),
        LIST,
        lambda values, *more: (*as_list(values), *more),
        "the same as append",
        rest=ANY,
    ),
    Function(
        "sort",
        (Overload((Kind.LIST,), _same_list), Overload((Kind.LIST, Kind.BOOLEAN), _same_list)),
        lambda site: _collect_apply(_sort, site.runs),
        "numbers or strings in ascending order (descending if the second is true)",
    ),
    strict("join", (Kind.LIST, Kind.STRING), STRING, _join, "the strings joined with the glue"),
]


def _collect(runs: tuple[Run, ...]) -> Run:
    return lambda scope: tuple(run(scope) for run in runs)


def _single(impl: Callable[[Any], Any], site: Site) -> Run:
    (only,) = site.runs
    return lambda scope: impl(only(scope))


def _collect_apply(impl: Callable[..., Any], runs: tuple[Run, ...]) -> Run:
    return lambda scope: impl(*[run(scope) for run in runs])
