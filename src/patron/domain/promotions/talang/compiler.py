"""Compiling one Talang expression (JSON) into nodes, refusing what cannot run.

The checks, all made here and never at evaluation: the expression is a
number, string, boolean or a call (a JSON array whose first element names a
function); the function exists; it is called with a number of arguments one
of its overloads accepts; each argument can produce a kind of value the
function accepts (a string literal stands for a number or a time where only
those are accepted, and must parse as one); paths name known roots and
fields; blocks have one parameter. Every problem is recorded with its JSON
pointer and compilation goes on, so one answer lists them all.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patron.domain.promotions.talang.errors import RuleProblem
from patron.domain.promotions.talang.nodes import (
    FRAME_SIZE,
    Call,
    Lambda,
    Literal,
    Node,
    Pair,
    PathNode,
    Refused,
    Run,
    Scope,
)
from patron.domain.promotions.talang.paths import (
    ROOT_ATTRIBUTES,
    ROOTS,
    PathRefused,
    compile_fields,
    path_runner,
    split_parts,
)
from patron.domain.promotions.talang.registry import Function, Overload, Registry, Site, returns
from patron.domain.promotions.talang.values import (
    BOOLEAN,
    DECIMAL,
    FREE_MAP,
    STRING,
    TIME,
    UNKNOWN,
    VALUE,
    Kind,
    Shape,
    kind_names,
    number,
    parse_number,
    parse_time,
)

MAX_DEPTH = 32  # nesting of calls in one expression
MAX_BLOCK_DEPTH = FRAME_SIZE  # nesting of blocks (a filter inside a map…)
MAX_NODES = 2_000  # calls, paths and literals in one rule
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Effects the engine emits itself: a rule cannot call them.
ENGINE_EFFECTS = frozenset(
    {"acceptCoupon", "rejectCoupon", "acceptReferral", "rejectReferral", "couponCreated"}
    | {"referralCreated", "rollbackCoupon", "rollbackReferral", "rollbackDiscount"}
    | {"rollbackAddedLoyaltyPoints", "rollbackDeductedLoyaltyPoints"}
)


@dataclass(frozen=True, slots=True)
class Binding:
    """A name an expression may read with ``.``: a block's parameter or a ruleset binding."""

    shape: Shape
    read: Run
    slot: int | None = None  # a block parameter's frame slot


@dataclass
class Names:
    """The names in sight at one point of an expression, innermost first."""

    bindings: Mapping[str, Binding] = field(default_factory=dict)
    depth: int = 0  # blocks around this point: the next parameter's frame slot

    def inside(self, param: str, shape: Shape) -> Names:
        slot = self.depth

        def read(scope: Scope) -> Any:
            return scope.frame[slot]

        return Names({**self.bindings, param: Binding(shape, read, slot)}, self.depth + 1)


class ExpressionCompiler:
    """Compiles the expressions of one rule (or of the ruleset's bindings)."""

    def __init__(
        self,
        registry: Registry,
        problems: list[RuleProblem],
        rule_index: int | None = None,
        rule_title: str | None = None,
    ) -> None:
        self.registry = registry
        self.problems = problems
        self.rule_index = rule_index
        self.rule_title = rule_title
        self.nodes = 0

    def refuse(self, pointer: str, message: str, raw: Any, shape: Shape = UNKNOWN) -> Node:
        self.problems.append(RuleProblem(pointer, message, self.rule_index, self.rule_title))
        return Refused(raw, shape)

    def compile(
        self,
        raw: Any,
        pointer: str,
        names: Names,
        expect: Kind,
        *,
        where: str = "here",
        depth: int = 0,
    ) -> Node:
        """``raw`` compiled; a problem is recorded if it cannot produce a kind in ``expect``."""
        node = self._expression(raw, pointer, names, depth)
        return self.check(node, pointer, expect, where)

    def check(self, node: Node, pointer: str, expect: Kind, where: str) -> Node:
        if isinstance(node, Refused):
            return node
        node = _coerce_literal(node, expect)
        if node.shape.kind & expect:
            return node
        wanted = kind_names(expect)
        if node.shape.kind == Kind.EFFECT:
            message = f"{node.describe()} is an effect: effects belong in a rule's effects"
            return self.refuse(pointer, f"{message}, but {where} needs {wanted}", node.to_json())
        got = kind_names(node.shape.kind)
        return self.refuse(pointer, f"{where} needs {wanted}, got {got}", node.to_json())

    def _expression(self, raw: Any, pointer: str, names: Names, depth: int) -> Node:
        self.nodes += 1
        if self.nodes == MAX_NODES + 1:
            return self.refuse(pointer, f"a rule may hold at most {MAX_NODES} expressions", raw)
        if isinstance(raw, bool):
            return Literal(raw, raw, BOOLEAN)
        if isinstance(raw, int | float):
            if isinstance(raw, float) and not math.isfinite(raw):
                return self.refuse(pointer, "a number must be finite", raw)
            return Literal(raw, number(raw), DECIMAL)
        if isinstance(raw, str):
            return Literal(raw, raw, STRING)
        if not isinstance(raw, list):
            what = "null" if raw is None else type(raw).__name__
            return self.refuse(pointer, f"{what} is not a Talang expression", raw)
        if not raw:
            return self.refuse(pointer, "an empty array is not an expression", raw)
        if depth >= MAX_DEPTH:
            return self.refuse(pointer, f"expressions nest at most {MAX_DEPTH} deep", raw)
        head = raw[0]
        if not isinstance(head, str):
            return self.refuse(f"{pointer}/0", "a call starts with a function name", raw)
        if head == ".":
            return self._path(raw, pointer, names)
        if head == "kv":
            return self._pairs(raw, pointer, names, depth)
        function = self.registry.get(head)
        if function is None:
            return self.refuse(f"{pointer}/0", self._unknown(head), raw)
        return self._call(function, raw, pointer, names, depth)

    def _unknown(self, name: str) -> str:
        if name in ENGINE_EFFECTS:
            return f"{name!r} is an effect the engine emits itself; a rule cannot call it"
        close = difflib.get_close_matches(name, self.registry.names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown function {name!r}{hint}"

    def _call(
        self, function: Function, raw: list[Any], pointer: str, names: Names, depth: int
    ) -> Node:
        args, block_raw, style = _split_block(function, raw[1:])
        overload = function.overload(len(args), block_raw is not None)
        if overload is None:
            got = len(raw) - 1
            message = f"{function.name} takes {function.arities()}, got {got} arguments"
            return self.refuse(pointer, message, raw)
        compiled = tuple(
            self._argument(
                function,
                overload,
                index,
                arg,
                pointer=f"{pointer}/{index + 1}",
                names=names,
                depth=depth,
            )
            for index, arg in enumerate(args)
        )
        block = None
        if block_raw is not None and overload.lambda_body is not None:
            at = f"{pointer}/{len(args) + 1}"
            item = compiled[0].shape.item() if compiled else UNKNOWN
            block = self._block(
                block_raw,
                style,
                pointer=at,
                names=names,
                item=item,
                body_kind=overload.lambda_body,
                depth=depth,
            )
            if block is None:
                return Refused(raw, UNKNOWN)
        if any(isinstance(arg, Refused) for arg in compiled):
            return Refused(raw, _safe_returns(overload, function.name, compiled))
        site = Site(function.name, compiled, block)
        shape = returns(overload, site)
        all_args = (*compiled, block) if block is not None else compiled
        return Call(function.build(site), shape, function.name, all_args)

    def _argument(
        self,
        function: Function,
        overload: Overload,
        index: int,
        raw: Any,
        *,
        pointer: str,
        names: Names,
        depth: int,
    ) -> Node:
        node = self._expression(raw, pointer, names, depth + 1)
        where = f"argument {index + 1} of {function.name}"
        node = self.check(node, pointer, overload.kind_at(index), where)
        for at, check in function.literal_checks:
            if at == index and not isinstance(node, Refused):
                message = check(node)
                if message is not None:
                    return self.refuse(pointer, f"{where}: {message}", raw)
        return node

    def _block(
        self,
        raw: tuple[Any, Any],
        style: str,
        *,
        pointer: str,
        names: Names,
        item: Shape,
        body_kind: Kind,
        depth: int,
    ) -> Lambda | None:
        params, body = raw
        param = params if isinstance(params, str) else None
        if isinstance(params, list) and len(params) == 1 and isinstance(params[0], str):
            param = params[0]
        at = f"{pointer}/0" if style == "block" else pointer
        if param is None or not NAME.match(param):
            self.refuse(at, "a block takes exactly one parameter, a name", params)
            return None
        if param in ROOTS:
            self.refuse(at, f"a block parameter cannot be called {param!r}", params)
            return None
        if names.depth >= MAX_BLOCK_DEPTH:
            self.refuse(at, f"blocks nest at most {MAX_BLOCK_DEPTH} deep", params)
            return None
        body_at = f"{pointer}/1" if style == "block" else _next(pointer)
        inner = names.inside(param, item)
        node = self._expression(body, body_at, inner, depth + 1)
        node = self.check(node, body_at, body_kind, "the block")
        if isinstance(node, Refused):
            return None
        return Lambda(param, names.depth, node, style)

    def _path(self, raw: list[Any], pointer: str, names: Names) -> Node:
        if len(raw) < 2:
            return self.refuse(pointer, "a path needs at least a name", raw)
        try:
            parts = split_parts(tuple(raw[1:]))
        except PathRefused as refused:
            return self.refuse(f"{pointer}/{refused.index + 1}", str(refused), raw)
        (root_index, root_name), rest = parts[0], parts[1:]
        known = names.bindings.get(root_name)
        origin: str | int | None = None
        if known is not None:
            shape, read, origin = known.shape, known.read, known.slot
        elif root_name in ROOTS:
            shape, read = ROOTS[root_name]
            origin = ROOT_ATTRIBUTES.get(root_name)
        else:
            candidates = sorted({*names.bindings, *ROOTS})
            message = f"unknown name {root_name!r} (known here: {', '.join(candidates)})"
            return self.refuse(f"{pointer}/{root_index + 1}", message, raw)
        try:
            fields, shape = compile_fields(shape, rest)
        except PathRefused as refused:
            return self.refuse(f"{pointer}/{refused.index + 1}", str(refused), raw)
        node = PathNode(read, shape, tuple(raw[1:]))
        node.run = path_runner(read, fields, node.text, origin)
        return node

    def _pairs(self, raw: list[Any], pointer: str, names: Names, depth: int) -> Node:
        pairs: list[Pair] = []
        for index, pair in enumerate(raw[1:], start=1):
            at = f"{pointer}/{index}"
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                return self.refuse(at, "kv takes pairs: [name, value]", raw, FREE_MAP)
            if not NAME.match(pair[0]) or any(p.key == pair[0] for p in pairs):
                return self.refuse(f"{at}/0", f"{pair[0]!r} is not a new key name", raw, FREE_MAP)
            value = self.compile(
                pair[1], f"{at}/1", names, VALUE, where="a kv value", depth=depth + 1
            )
            if isinstance(value, Refused):
                return Refused(raw, FREE_MAP)
            pairs.append(Pair(pair[0], value))
        runs = tuple((pair.key, pair.value.run) for pair in pairs)

        def run(scope: Scope) -> Any:
            return {key: value(scope) for key, value in runs}

        return Call(run, FREE_MAP, "kv", tuple(pairs))


def _split_block(
    function: Function, rest: list[Any]
) -> tuple[list[Any], tuple[Any, Any] | None, str]:
    """The plain arguments, and the block (parameters, body) if the call ends with one."""
    if not function.takes_block():
        return rest, None, ""
    for overload in function.overloads:
        if overload.lambda_body is None:
            continue
        n = len(overload.params)
        if len(rest) == n + 2 and (
            isinstance(rest[n], str)
            or (isinstance(rest[n], list) and rest[n] and all(isinstance(p, str) for p in rest[n]))
        ):
            return rest[:n], (rest[n], rest[n + 1]), "name" if isinstance(rest[n], str) else "list"
        if (
            len(rest) == n + 1
            and isinstance(rest[n], list)
            and len(rest[n]) == 2
            and isinstance(rest[n][0], list)
        ):
            return rest[:n], (rest[n][0], rest[n][1]), "block"
    return rest, None, ""


def _next(pointer: str) -> str:
    """The pointer to the element after ``pointer`` in the same array."""
    head, _, last = pointer.rpartition("/")
    return f"{head}/{int(last) + 1}"


def _coerce_literal(node: Node, expect: Kind) -> Node:
    """A string literal where only numbers or times are accepted: that number or time."""
    if not isinstance(node, Literal) or not isinstance(node.raw, str) or expect & Kind.STRING:
        return node
    if expect & Kind.TIME and (moment := parse_time(node.raw)) is not None:
        return Literal(node.raw, moment, TIME)
    if expect & Kind.DECIMAL and (value := parse_number(node.raw)) is not None:
        return Literal(node.raw, value, DECIMAL)
    return node


def _safe_returns(overload: Overload, name: str, args: Sequence[Node]) -> Shape:
    try:
        return returns(overload, Site(name, tuple(args)))
    except (TypeError, ValueError, AttributeError):
        return UNKNOWN
