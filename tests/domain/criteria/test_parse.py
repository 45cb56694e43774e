"""Invalid criteria are refused with a problem naming the criterion."""

from __future__ import annotations

from typing import Any

import pytest

from patron.domain.criteria import OPERATORS, event_field, parse
from patron.domain.criteria.matcher import compile_matcher
from patron.domain.criteria.regex import PatternError, compile_pattern
from patron.domain.errors import Invalid


def problem_fields(criteria: Any, **kwargs: Any) -> list[str | None]:
    with pytest.raises(Invalid) as raised:
        parse(criteria, **kwargs)
    return [problem.field for problem in raised.value.problems]


@pytest.mark.parametrize(
    ("criterion", "where"),
    [
        ({"field": "a", "op": "like", "value": "x"}, "criteria[1].op"),
        ({"field": "a", "op": "gt", "value": "12"}, "criteria[1].value"),
        ({"field": "a", "op": "begins", "value": 3}, "criteria[1].value"),
        ({"field": "a", "op": "regex", "value": "(a+)+"}, "criteria[1].value"),
        ({"field": "a", "op": "regex", "value": "\\d+"}, "criteria[1].value"),
        ({"field": "a", "op": "in", "value": []}, "criteria[1].value"),
        ({"field": "a", "op": "between", "value": [3, 1]}, "criteria[1].value"),
        ({"field": "a", "op": "before", "value": "last week"}, "criteria[1].value"),
        ({"field": "a", "op": "within", "value": -1}, "criteria[1].value"),
        ({"field": "a", "op": "exists", "value": "x"}, "criteria[1].value"),
        ({"field": "", "op": "exists"}, "criteria[1].field"),
        ({"field": "a..b", "op": "exists"}, "criteria[1].field"),
        ({"field": "a.0", "op": "exists"}, "criteria[1].field"),
        ({"field": "a", "op": "exists", "extra": 1}, "criteria[1]"),
        ("a = 1", "criteria[1]"),
        ({"any": {"field": "a"}}, "criteria[1].any"),
    ],
)
def test_the_problem_names_the_offending_criterion(criterion: Any, where: str) -> None:
    ok = {"field": "a", "op": "exists"}
    assert problem_fields([ok, criterion]) == [where]


def test_every_problem_is_reported() -> None:
    criteria = [{"field": "a", "op": "nope"}, {"any": [{"field": "b", "op": "gt", "value": "x"}]}]
    assert problem_fields(criteria) == ["criteria[0].op", "criteria[1].any[0].value"]


def test_the_criteria_must_be_a_list() -> None:
    assert problem_fields({"field": "a"}) == ["criteria"]


@pytest.mark.parametrize("field", ["segment", "goal", "goalTitle", "goalValue", "goalCurrency"])
def test_event_criteria_refuse_the_fields_decided_after_segmentation(field: str) -> None:
    assert problem_fields([{"field": field, "op": "exists"}], fields=event_field) == [
        "criteria[0].field"
    ]


def test_event_criteria_refuse_attribution_fields() -> None:
    fields = problem_fields([{"field": "attributionSource", "op": "exists"}], fields=event_field)
    assert fields == ["criteria[0].field"]


def test_bare_event_fields_mean_properties() -> None:
    assert event_field("act") == ("properties", "act")
    assert event_field("context.page.url") == ("context", "page", "url")
    assert event_field("event") == ("event",)


def test_the_seeds_short_names_are_accepted() -> None:
    for name in ("begins", "nbegins", "equals", "nequals", "contains", "ncontains", "regex"):
        assert name in OPERATORS
    parse([{"field": "act", "op": "BEGINS", "value": "12"}])


@pytest.mark.parametrize(
    "pattern",
    [
        "abc",
        "^a.c$",
        "[a-z0-9_-]+",
        "[^/]*x",
        "(ab|cd)e",
        "(?:ab)+",
        "a{2,3}",
        "\\.\\$",
        "x|y",
        ".{250}.{250}.{250}.{250}",  # exactly 1,000 positions once expanded
        "(?:abcd){250}",
        "x{199,}[ab]{200}(?:ab){200}",
    ],
)
def test_the_portable_subset_is_accepted(pattern: str) -> None:
    compile_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "\\d",
        "\\w+",
        "(?i)a",
        "(?=a)",
        "(a)\\1",
        "a*?",
        "a++",
        "*a",
        "a**",
        "(a*)*",
        "(a|b)+",
        "a|",
        "()",
        "[]",
        "[z-a]",
        "[[:alpha:]]",
        "a{300}",
        "a{3,1}",
        "a{",
        "(a",
        "a)",
        "]",
        "a\x00",
        ".{255}.{255}.{255}.{255}",  # 1,020 positions once expanded
        "(?:abcd){251}",  # 1,004
        "x{200,}.{200}[ab]{200}(?:ab){200}",  # 201 + 200 + 200 + 400
    ],
)
def test_patterns_outside_the_subset_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "required"),
    [
        ("^https://(www\\.)?partner0\\.example\\.(com|net)/", "partner0.example."),
        ("abc?d", "ab"),  # c may be absent: the run before it
        ("ab{2}cd", "cd"),
        ("x[ab]yz", "yz"),
        ("a.bc", "bc"),
        ("(ab|c)d+ef", "ef"),
        ("\\n\\tabc", "\n\tabc"),
        ("a|bcd", ""),  # either branch: nothing is in every match
        ("(abc)*", ""),
    ],
)
def test_a_pattern_knows_the_text_every_match_contains(pattern: str, required: str) -> None:
    compiled = compile_pattern(pattern)
    assert compiled.required == required
    # Every match of the pattern really contains it (checked on strings that match).
    for text in ("https://partner0.example.com/x", "abd", "abbcd", "xayz", "aXbc", "cddef"):
        if compile_matcher(compiled.spelling)(text):
            assert required in text
