"""RE2 matching: the portable subset's meaning, and what RE2 itself refuses."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.domain.criteria.matcher import MatcherRefused, compile_matcher
from patron.domain.criteria.regex import PatternError, compile_pattern


@pytest.mark.parametrize(
    ("spelling", "text", "expected"),
    [
        ("b", "abc", True),  # anywhere in the text
        ("^b", "abc", False),
        ("a.c", "a\nc", True),  # "." matches a newline
        ("a$", "a\n", False),  # "$" is the very end, not before a final newline
        ("a$", "ba", True),
        ("[^x]", "\n", True),
        ("é.", "éé", True),  # characters, not bytes
        ("^.$", "🙂", True),
        ("(?:ab){2}", "xababy", True),
        ("A", "a", False),  # case-sensitive
    ],
)
def test_what_a_spelling_matches(spelling: str, text: str, expected: bool) -> None:
    assert compile_matcher(spelling)(text) is expected


@pytest.mark.parametrize("spelling", ["\\Z", "(?=a)", "(a)\\1", "a{1001}", "[b-a]"])
def test_what_re2_refuses_is_refused_with_its_reason(spelling: str) -> None:
    with pytest.raises(MatcherRefused) as refused:
        compile_matcher(spelling)
    assert str(refused.value)


def test_a_lone_surrogate_is_no_error() -> None:
    assert compile_matcher("a")("a\ud800") is True
    assert compile_matcher("^x$")("\ud800") is False
    assert compile_matcher("^.$")("\ud800") is True  # one character, as in Python


@pytest.mark.parametrize(
    ("source", "spelling"),
    [
        ("(ab|c)+d", None),  # refused: a repeated group with "|"
        ("(ab)(c|d)", "(?:ab)(?:c|d)"),  # groups never capture
        ("\\/\\-\\_\\ \\#", "/-_ #"),  # escaped only where a metacharacter
        ("\\.\\{\\(\\[\\|", "\\.\\{\\(\\[\\|"),
        ("[\\]a-c^-]", "[\\]a-c\\^\\-]"),
        ("[-\\n\\t]", "[\\-\\n\\t]"),
        ("a\nb", "a\\nb"),
    ],
)
def test_the_spelling_is_plain_and_has_no_capturing_group(
    source: str, spelling: str | None
) -> None:
    if spelling is None:
        with pytest.raises(PatternError):
            compile_pattern(source)
    else:
        assert compile_pattern(source).spelling == spelling


ATOMS = ["a", "b", ".", "[ab]", "[^a]", "[a-c]", "\\.", "-", "é", "\\n", "(?:ab)", "(ba|a)"]
REPEATS = ["", "", "*", "+", "?", "{2}", "{0,2}", "{1,}"]


@st.composite
def patterns(draw: st.DrawFn) -> str:
    piece = st.tuples(st.sampled_from(ATOMS), st.sampled_from(REPEATS))
    pieces = draw(st.lists(piece, min_size=1, max_size=4))
    body = "".join(atom + ("" if "|" in atom else repeat) for atom, repeat in pieces)
    if draw(st.booleans()):
        body = f"{body}|{draw(st.sampled_from(ATOMS))}"
    return ("^" if draw(st.booleans()) else "") + body + ("$" if draw(st.booleans()) else "")


@settings(max_examples=300, deadline=None)
@given(pattern=patterns(), text=st.text(alphabet="ab.-é\nc", max_size=8))
def test_re2_agrees_with_pythons_re_on_the_subset(pattern: str, text: str) -> None:
    """Python's ``re`` (fine on tiny texts) is the reference for what the spelling means."""
    spelling = compile_pattern(pattern).spelling
    # Python's "$" also matches before a final newline: the reference uses \\Z.
    reference = re.compile(re.sub(r"(?<!\\)\$", r"\\Z", spelling), re.DOTALL)
    assert compile_matcher(spelling)(text) == (reference.search(text) is not None)
