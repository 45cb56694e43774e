"""Regular expressions answered in time linear in the text: RE2's automata, never backtracking.

Python's ``re`` backtracks: ``.*.*.*.*.*.*[X]`` against 100 characters tries
every way of splitting them among the six ``.*`` and takes seconds, on the
thread that ingests every workspace's events. RE2 runs the same pattern as
an automaton, each character of the text stepped through once, whatever the
pattern; a criteria regex is only ever matched through :func:`compile_matcher`
(the Python evaluators directly, SQLite through ``patron_regexp``).
"""

from __future__ import annotations

from collections.abc import Callable

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

Matcher = Callable[[str], bool]
"""``text -> whether the pattern matches anywhere in it``."""


class MatcherRefused(ValueError):
    """RE2 cannot compile the pattern (its syntax, or a program over RE2's memory budget)."""


def _options() -> object:
    options = re2.Options()
    options.dot_nl = True  # "." matches a newline too, as in PostgreSQL
    # A yes/no answer needs no group positions: RE2 then answers from its DFA alone.
    options.never_capture = True
    options.log_errors = False  # a refused pattern is the caller's answer, not a log line
    return options


_OPTIONS = _options()


def compile_matcher(spelling: str) -> Matcher:
    """A test of whether ``spelling`` (RE2 syntax) matches somewhere in a text.

    Raises :class:`MatcherRefused` when RE2 refuses the pattern.
    """
    try:
        search = re2.compile(spelling, _OPTIONS).search
    except re2.error as error:
        raise MatcherRefused(_reason(error)) from None

    def matches(text: str) -> bool:
        # RE2 reads UTF-8. A lone surrogate (no JSON body Patron accepts can
        # carry one) would make encoding raise: "surrogatepass" writes it as
        # the 3 bytes RE2 reads as one character, as Python's own re would.
        return search(text.encode("utf-8", "surrogatepass")) is not None

    return matches


def _reason(error: Exception) -> str:
    reason = error.args[0] if error.args else ""
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
