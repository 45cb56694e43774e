"""Strings. ``contains``/``startsWith``/``endsWith``/``~`` test the first argument
against every other one; ``notContains`` is true when none contains it.

``~`` takes a regular expression of the portable, backtracking-safe subset
that segment criteria use (no ``\\d``, no back-references); it must be a
literal, so it is checked when the ruleset compiles.
"""

from __future__ import annotations

from typing import Any

from patron.domain.criteria.matcher import compile_matcher
from patron.domain.criteria.regex import PatternError, compile_pattern
from patron.domain.promotions.talang.nodes import Literal, Node, Run, Scope
from patron.domain.promotions.talang.registry import Function, Overload, Site, strict
from patron.domain.promotions.talang.values import (
    BOOLEAN,
    STRING,
    Kind,
    as_string,
    list_of,
    to_text,
)

TEXT = Kind.STRING


def _all(test: Any) -> Any:
    def check(first: Any, *others: Any) -> bool:
        needle = as_string(first)
        return all(test(needle, as_string(other)) for other in others)

    return check


def _none_contains(first: Any, *others: Any) -> bool:
    needle = as_string(first)
    return not any(needle in as_string(other) for other in others)


def _pattern_check(node: Node) -> str | None:
    if not isinstance(node, Literal) or not isinstance(node.value, str):
        return "the pattern must be a literal string"
    try:
        compile_pattern(node.value)
    except PatternError as error:
        return f"the pattern is refused: {error}"
    return None


def _matches(site: Site) -> Run:
    pattern = site.args[0]
    assert isinstance(pattern, Literal)
    # The criteria's matcher: linear time in the text, whatever the pattern.
    matches = compile_matcher(compile_pattern(pattern.value).spelling)
    runs = site.runs[1:]

    def run(scope: Scope) -> bool:
        return all(matches(as_string(each(scope))) for each in runs)

    return run


def _first_name(value: Any) -> str:
    words = as_string(value).split()
    return " ".join(words[:-1]) if len(words) > 1 else (words[0] if words else "")


def _last_name(value: Any) -> str:
    words = as_string(value).split()
    return words[-1] if words else ""


def _split(value: Any, separator: Any) -> tuple[str, ...]:
    glue = as_string(separator)
    return tuple(as_string(value).split(glue)) if glue else tuple(as_string(value))


FUNCTIONS: list[Function] = [
    strict(
        "concat",
        (TEXT, TEXT),
        STRING,
        lambda *parts: "".join(map(as_string, parts)),
        "the strings joined",
        rest=TEXT,
    ),
    strict(
        "contains",
        (TEXT, TEXT),
        BOOLEAN,
        _all(lambda needle, text: needle in text),
        "true when every other argument contains the first",
        rest=TEXT,
    ),
    strict(
        "notContains",
        (TEXT, TEXT),
        BOOLEAN,
        _none_contains,
        "true when no other argument contains the first",
        rest=TEXT,
    ),
    strict(
        "startsWith",
        (TEXT, TEXT),
        BOOLEAN,
        _all(lambda prefix, text: text.startswith(prefix)),
        "true when every other argument starts with the first",
        rest=TEXT,
    ),
    strict(
        "endsWith",
        (TEXT, TEXT),
        BOOLEAN,
        _all(lambda suffix, text: text.endswith(suffix)),
        "true when every other argument ends with the first",
        rest=TEXT,
    ),
    Function(
        "~",
        (Overload((TEXT, TEXT), BOOLEAN, rest=TEXT),),
        _matches,
        "true when the pattern (first) matches every other argument",
        literal_checks=((0, _pattern_check),),
    ),
    strict(
        "toString",
        (Kind.DECIMAL | Kind.STRING | Kind.BOOLEAN | Kind.TIME,),
        STRING,
        to_text,
        "the value as a string",
    ),
    strict("firstName", (TEXT,), STRING, _first_name, "all but the last word"),
    strict("lastName", (TEXT,), STRING, _last_name, "the last word"),
    strict(
        "split", (TEXT, TEXT), list_of(STRING), _split, "the parts of the string between separators"
    ),
]
