"""Criteria trees compiled into one Python function: "which matches first?", "which match?".

Classifying an event against a workspace's segments is the hot path of
ingestion: with 100 segments, calling 100 closure-built predicates (each a
chain of small calls per condition) costs more than storing the event. So a
segment list is compiled into the source of ONE function that reads every
field path once into a local and tests each segment as an inline
expression, in order, returning the index of the first match.

The generated source contains no value from the criteria: every key,
operand and helper is passed in as a constant and referred to by a name
(``k0``, ``k1``, …), so nothing a client writes is ever parsed as code.

It implements exactly the rules of :mod:`.evaluate` (the missing-field rule,
one JSON type per comparison, numbers as doubles); operators without a
specialised expression — and node kinds it does not know — call the
:func:`compile_predicate` closure for that node, so the two cannot drift
apart. A property test checks that both agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from patron.domain.criteria.evaluate import compile_predicate
from patron.domain.criteria.matcher import compile_matcher
from patron.domain.criteria.tree import AllOf, AnyOf, Condition, Node, NotOf, Op, Path, Pattern

FirstMatch = Callable[[Mapping[str, Any], datetime], int]
"""``(record, now) -> index`` of the first matching tree, or -1."""
AllMatches = Callable[[Mapping[str, Any], datetime], list[int]]
"""``(record, now) -> indexes`` of every matching tree, in order."""

_NUMBER = (int, float)
_TEXT_OPS = frozenset({Op.BEGINS, Op.ENDS, Op.CONTAINS, Op.REGEX})


# Dispatch on a field when at least this many trees require it to be one of
# some strings, and the candidate lists compiled for its values hold no more
# trees, together, than this many times the whole list (plus a little).
_MIN_GUARDED = 4
_COMPILE_BUDGET = 4


def compile_first_match(nodes: Sequence[Node], *, min_guarded: int = _MIN_GUARDED) -> FirstMatch:
    """A function testing ``nodes`` in order against a record.

    Trees that can only match when some field is one of a few strings (say
    ``event`` equals "Order Completed") are not tried against records where
    it is not: the function first reads that field and picks a compiled
    list of only the candidates for its value. Analysts define segments per
    event name, so most of them are skipped for most events.
    """
    nodes = list(nodes)
    guards = [_string_guards(node) for node in nodes]
    counts = Counter(path for guard in guards for path in guard)
    if not counts:
        return _sequential_first_match(nodes)
    path, count = counts.most_common(1)[0]
    if count < min_guarded:
        return _sequential_first_match(nodes)

    def candidates(value: str | None) -> tuple[int, ...]:
        """The trees that may match when the field holds ``value`` (None: no listed string)."""
        return tuple(
            index
            for index, guard in enumerate(guards)
            if path not in guard or (value is not None and value in guard[path])
        )

    values = {value for guard in guards if path in guard for value in guard[path]}
    lists = {value: candidates(value) for value in values}
    fallback = candidates(None)
    distinct = {fallback, *lists.values()}
    if sum(map(len, distinct)) > _COMPILE_BUDGET * len(nodes) + 64:
        return _sequential_first_match(nodes)
    compiled = {
        indexes: (_sequential_first_match([nodes[i] for i in indexes]), indexes)
        for indexes in distinct
    }
    table = {value: compiled[indexes] for value, indexes in lists.items()}
    other = compiled[fallback]
    read = _reader(path)

    def first_match(record: Mapping[str, Any], now: datetime) -> int:
        value = read(record)
        match, indexes = table.get(value, other) if isinstance(value, str) else other
        found = match(record, now)
        return indexes[found] if found >= 0 else -1

    return first_match


def _string_guards(node: Node) -> dict[Path, frozenset[str]]:
    """The fields ``node`` requires to hold one of some strings, and those strings.

    Only the conditions ANDed at the top of the tree count: ``equals`` a
    string and ``in`` a list of strings (both need the value to be a string).
    """
    items = node.items if isinstance(node, AllOf) else (node,)
    guards: dict[Path, frozenset[str]] = {}
    for item in items:
        if not isinstance(item, Condition) or item.negated or not item.path:
            continue
        operand = item.operand
        if item.op is Op.EQUALS and isinstance(operand, str):
            allowed = frozenset([operand])
        elif (
            item.op is Op.IN
            and isinstance(operand, tuple)
            and all(isinstance(option, str) for option in operand)
        ):
            allowed = frozenset(cast(tuple[str, ...], operand))
        else:
            continue
        guards[item.path] = guards[item.path] & allowed if item.path in guards else allowed
    return guards


def _reader(path: Path) -> Callable[[Mapping[str, Any]], Any]:
    """The value at ``path``, as the compiled functions read it (None when unreachable)."""
    first, rest = path[0], path[1:]

    def read(record: Mapping[str, Any]) -> Any:
        value = record.get(first)
        for key in rest:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return read


def _sequential_first_match(nodes: Sequence[Node]) -> FirstMatch:
    """One function testing every one of ``nodes`` in order."""
    builder = _Builder()
    tests = [builder.expression(node) for node in nodes]
    body = [f"if {test}:\n    return {index}" for index, test in enumerate(tests)]
    return cast(FirstMatch, _function("first_match", builder, [*body, "return -1"]))


def compile_all_matches(nodes: Sequence[Node]) -> AllMatches:
    """One function listing which of ``nodes`` a record matches (customer segments)."""
    builder = _Builder()
    tests = [builder.expression(node) for node in nodes]
    body = ["found = []"]
    body += [f"if {test}:\n    found.append({index})" for index, test in enumerate(tests)]
    return cast(AllMatches, _function("all_matches", builder, [*body, "return found"]))


def _function(name: str, builder: _Builder, body: list[str]) -> Callable[..., Any]:
    """``def name(record, now)``: the builder's lookups, then ``body``."""
    lines = [f"def {name}(record, now):"]
    lines += [f"    {line}" for line in builder.lookups]
    lines += [f"    {line}" for line in "\n".join(body).splitlines()]
    names = ", ".join(builder.names)
    source = "\n".join(
        [
            f"def make({names}):" if names else "def make():",
            *(f"    {line}" for line in lines),
            f"    return {name}",
        ]
    )
    namespace: dict[str, Any] = {}
    # The source holds only names the builder made; every value is a constant.
    exec(compile(source, f"<criteria {name}>", "exec"), {"__builtins__": {}}, namespace)
    return cast(Callable[..., Any], namespace["make"](*builder.constants))


class _Builder:
    """Collects the constants, the path lookups and each tree's expression."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.constants: list[Any] = []
        self.lookups: list[str] = []
        self._paths: dict[Path, str] = {(): "record"}  # the local holding each path's value
        self._derived: dict[tuple[str, Path], str] = {}  # ("s" | "f", path): its local
        self._by_identity: dict[int, str] = {}
        for name, value in (
            ("isinstance", isinstance),
            ("dict", dict),
            ("str", str),
            ("float", float),
        ):
            self._bind(name, value)
        self._number = self.constant(_NUMBER)

    def _bind(self, name: str, value: Any) -> str:
        self.names.append(name)
        self.constants.append(value)
        return name

    def constant(self, value: Any) -> str:
        # Interned by identity: the same object (a key, a helper) gets one name.
        name = self._by_identity.get(id(value))
        if name is None:
            name = self._bind(f"k{len(self.names)}", value)
            self._by_identity[id(value)] = name
        return name

    def value(self, path: Path) -> str:
        """The local holding the value at ``path``: None when absent, null or unreachable."""
        name = self._paths.get(path)
        if name is None:
            parent = self.value(path[:-1])
            key = self.constant(path[-1])
            name = f"v{len(self._paths)}"
            if len(path) == 1:  # the record itself is any Mapping
                self.lookups.append(f"{name} = record.get({key})")
            else:  # below it, only objects are descended into
                self.lookups.append(
                    f"{name} = {parent}.get({key}) if isinstance({parent}, dict) else None"
                )
            self._paths[path] = name
        return name

    def is_text(self, path: Path) -> str:
        """A local: whether the value at ``path`` is a string (computed once per record)."""
        return self._derive(path, "s", "isinstance({v}, str)")

    def as_number(self, path: Path) -> str:
        """A local: the value at ``path`` as a float if it is a JSON number, else None."""
        return self._derive(
            path,
            "f",
            f"float({{v}}) if isinstance({{v}}, {self._number}) "
            "and {v} is not True and {v} is not False else None",
        )

    def _derive(self, path: Path, prefix: str, template: str) -> str:
        name = self._derived.get((prefix, path))
        if name is None:
            v = self.value(path)
            name = f"{prefix}{len(self._derived)}"
            self.lookups.append(f"{name} = " + template.format(v=v))
            self._derived[prefix, path] = name
        return name

    def expression(self, node: Node) -> str:
        if isinstance(node, AllOf):
            return (
                "(" + " and ".join(map(self.expression, node.items)) + ")" if node.items else "True"
            )
        if isinstance(node, AnyOf):
            return (
                "(" + " or ".join(map(self.expression, node.items)) + ")" if node.items else "False"
            )
        if isinstance(node, NotOf):
            return f"(not {self.expression(node.item)})"
        if isinstance(node, Condition):
            positive = self._condition(node)
            return f"(not {positive})" if node.negated else positive
        # A node kind this compiler does not specialise: its own evaluator.
        return f"{self.constant(compile_predicate(node))}(record, now)"

    def _condition(self, condition: Condition) -> str:
        path, op, operand = condition.path, condition.op, condition.operand
        v = self.value(path)
        if op is Op.EXISTS:
            return f"({v} is not None)"
        if op is Op.EQUALS:
            return self._equals(path, cast(str | float | bool, operand))
        if op is Op.IN:
            options = cast(tuple[str | float | bool, ...], operand)
            if len(options) > 1 and all(isinstance(option, str) for option in options):
                # One set lookup instead of a chain of comparisons.
                return f"({self.is_text(path)} and {v} in {self.constant(frozenset(options))})"
            return "(" + " or ".join(self._equals(path, option) for option in options) + ")"
        text = self.is_text(path) if op in _TEXT_OPS else ""
        if op is Op.BEGINS:
            return f"({text} and {v}.startswith({self.constant(operand)}))"
        if op is Op.ENDS:
            return f"({text} and {v}.endswith({self.constant(operand)}))"
        if op is Op.CONTAINS:
            return f"({text} and {self.constant(operand)} in {v})"
        if op is Op.REGEX:
            pattern = cast(Pattern, operand)
            search = f"{self.constant(compile_matcher(pattern.spelling))}({v})"
            required = pattern.required
            if len(required) >= 3:  # a substring test first rules most values out
                return f"({text} and {self.constant(required)} in {v} and {search})"
            return f"({text} and {search})"
        comparison = {Op.GT: ">", Op.GTE: ">=", Op.LT: "<", Op.LTE: "<="}.get(op)
        if comparison is not None:
            f = self.as_number(path)
            limit = self.constant(operand)  # as the evaluator: not converted
            return f"({f} is not None and {f} {comparison} {limit})"
        if op is Op.BETWEEN:
            f = self.as_number(path)
            low, high = (self.constant(x) for x in cast(tuple[float, float], operand))
            return f"({f} is not None and {low} <= {f} <= {high})"
        # Dates: the evaluator's own test for this one condition (positive form).
        positive = Condition(condition.path, op, operand)
        return f"{self.constant(compile_predicate(positive))}(record, now)"

    def _equals(self, path: Path, expected: str | float | bool) -> str:
        v = self.value(path)
        if isinstance(expected, bool):
            return f"({v} is {expected})"
        if isinstance(expected, str):
            return f"({self.is_text(path)} and {v} == {self.constant(expected)})"
        f = self.as_number(path)
        return f"({f} is not None and {f} == {self.constant(expected)})"
