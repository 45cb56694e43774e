"""The regular-expression subset: one meaning, and linear-time matching, on every evaluator.

A criteria regex runs on three evaluators: the Python evaluators (events are
classified on ingest, profiles on every change), SQLite (``patron_regexp``,
see ``patron.store.criteria_sql``) and PostgreSQL (``~``).
:func:`compile_pattern` checks a pattern against the subset below and writes
it in the one spelling RE2 and PostgreSQL read alike: every group
non-capturing, every metacharacter that stands for itself escaped.

Why matching time is linear in the text's length, on each evaluator:

* Python and SQLite match with RE2 (:mod:`.matcher`): an automaton that
  steps through the text once, whatever the pattern; it never backtracks.
* PostgreSQL's engine is an automaton too, except for back-references
  (refused here): a yes/no ``~`` on a pattern without capturing groups runs
  its DFA alone, over the text once.
* An automaton's work per character grows with the pattern's size, so that
  size is bounded: at most :data:`MAX_POSITIONS` positions once counted
  repetitions are expanded (``x{m,n}`` counts ``x`` n times, ``x{m,}``
  m + 1 times). The worst pattern then costs microseconds per character.

The subset:

* literal characters; ``\\`` before any punctuation character makes it
  literal; ``\\n`` and ``\\t``;
* ``.`` (any character, newlines included), ``^`` and ``$`` (start and end of
  the whole value only);
* bracket classes ``[abc]``, ``[^abc]``, ``[a-z0-9]`` (``-`` literal first or
  last, ``\\`` escapes inside);
* groups ``( … )`` and ``(?: … )`` and alternation ``|`` (no empty branch);
* repetition ``*``, ``+``, ``?``, ``{m}``, ``{m,}``, ``{m,n}`` (at most 255)
  after a character, class or group; a repeated group may contain neither a
  repetition nor ``|``. Both automata would match either in linear time.
  Repetitions stay out because PostgreSQL compiles nested counted
  repetitions in time that grows steeply with the nesting
  (``(?:(?:(?:(?:a?){0,5}){0,5}){0,5}){0,4}`` takes it seconds) and RE2
  refuses nested counts whose product exceeds 1,000; ``|`` stays out only
  because it always has: allowing it needs the evaluators' agreement
  tested anew.

Matching is case-sensitive and unanchored (``contains`` semantics) unless the
pattern uses ``^``/``$``. Everything else (``\\d``, ``\\w``, back-references,
look-around, flags, lazy quantifiers, POSIX ``[:classes:]``) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from patron.domain.criteria.matcher import MatcherRefused, compile_matcher
from patron.domain.criteria.tree import Pattern

MAX_PATTERN_LENGTH = 500
MAX_REPEAT = 255
MAX_POSITIONS = 1000
_SPECIAL = set("\\.^$|?*+()[]{}")
_ESCAPABLE = set("\\.^$|?*+()[]{}/-'\"#&~!%,:;<=>@`_ ")
_ESCAPES = {"n": "\n", "t": "\t"}
_BOUNDS = re.compile(r"\{(\d{1,3})(,(\d{1,3})?)?\}")
# How both RE2 and PostgreSQL spell these characters inside a bracket class.
_CLASS_SPECIAL = set("\\]^-[")
_NAMED = {"\n": "\\n", "\t": "\\t"}


class PatternError(ValueError):
    """The pattern is outside the portable subset."""


@dataclass
class _Group:
    has_repeat: bool = False
    has_alternation: bool = False
    branch_empty: bool = True
    positions: int = 0  # of everything in the group so far, repetitions expanded


@dataclass
class _Scanner:
    text: str
    pos: int = 0
    out: list[str] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=lambda: [_Group()])
    last: str | None = None  # "atom", "group:<has_repeat|alt>", "repeat", or None
    last_positions: int = 0  # of the last atom or group: what a repetition repeats
    # Plain characters every match contains: runs of the top-level sequence.
    run: str = ""
    best: str = ""
    last_literal: bool = False  # the last atom is the last character of ``run``
    top_alternation: bool = False  # "a|b" at the top level: nothing is required

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""


def compile_pattern(source: str) -> Pattern:
    """Check ``source`` against the subset; return it with its RE2/PostgreSQL spelling."""
    if not source:
        raise PatternError("the pattern is empty")
    if len(source) > MAX_PATTERN_LENGTH:
        raise PatternError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    if "\x00" in source:
        raise PatternError("the pattern contains a NUL character")
    scanner = _Scanner(source)
    while scanner.pos < len(source):
        _step(scanner)
    if len(scanner.groups) > 1:
        raise PatternError("a group is not closed")
    _end_branch(scanner)
    positions = scanner.groups[0].positions
    if positions > MAX_POSITIONS:
        raise PatternError(
            f"the pattern is too large: its repetitions expand to {positions} character"
            f" positions, at most {MAX_POSITIONS}"
        )
    spelling = "".join(scanner.out)
    try:  # the subset always compiles; this guards the checker itself
        compile_matcher(spelling)
    except MatcherRefused as refused:
        raise PatternError(f"the pattern cannot be compiled: {refused}") from None
    _break(scanner)
    required = "" if scanner.top_alternation else scanner.best
    return Pattern(source=source, spelling=spelling, required=required)


def _spell(char: str) -> str:
    """A character that stands for itself, as RE2 and PostgreSQL both read it."""
    return "\\" + char if char in _SPECIAL else _NAMED.get(char, char)


def _spell_in_class(char: str) -> str:
    return "\\" + char if char in _CLASS_SPECIAL else _NAMED.get(char, char)


def _literal(s: _Scanner, char: str) -> None:
    """A plain character: part of the current required run, at the top level."""
    if len(s.groups) == 1:
        s.run += char
        s.last_literal = True


def _break(s: _Scanner) -> None:
    """Anything but a plain character ends the top level's current run."""
    if len(s.groups) == 1:
        s.best = max(s.best, s.run, key=len)
        s.run = ""
    s.last_literal = False


def _step(s: _Scanner) -> None:
    char = s.peek()
    if char == "\\":
        _escape(s)
    elif char == "[":
        _bracket(s)
    elif char == "(":
        _open_group(s)
    elif char == ")":
        _close_group(s)
    elif char == "|":
        if len(s.groups) == 1:
            s.top_alternation = True
        _end_branch(s)
        s.groups[-1].has_alternation = True
        s.groups[-1].branch_empty = True
        _emit(s, "|", None, 1)
    elif char in "*+?{":
        _repeat(s)
    elif char in "^$":
        # Both engines read ^ and $ as the start and end of the whole text
        # (RE2 without multi-line, PostgreSQL without newline-sensitive mode).
        _break(s)
        _emit(s, char, None, 1)
        s.groups[-1].branch_empty = False
    elif char in "]}":
        raise PatternError(f"escape {char!r} at position {s.pos} as \\{char}")
    elif char == ".":
        _break(s)
        _atom(s, ".", 1)
    else:
        _literal(s, char)
        _atom(s, _spell(char), 1)


def _emit(s: _Scanner, text: str, last: str | None, width: int) -> None:
    s.out.append(text)
    s.last = last
    s.pos += width


def _atom(s: _Scanner, text: str, width: int) -> None:
    s.groups[-1].branch_empty = False
    s.groups[-1].positions += 1
    s.last_positions = 1
    _emit(s, text, "atom", width)


def _escape(s: _Scanner) -> None:
    nxt = s.peek(1)
    if nxt in _ESCAPES:
        _literal(s, _ESCAPES[nxt])
        _atom(s, _spell(_ESCAPES[nxt]), 2)
    elif nxt in _ESCAPABLE:
        _literal(s, nxt)
        _atom(s, _spell(nxt), 2)
    else:
        raise PatternError(f"\\{nxt} at position {s.pos} is not in the portable subset")


def _bracket(s: _Scanner) -> None:
    _break(s)
    start = s.pos
    s.pos += 1
    parts = ["["]
    if s.peek() == "^":
        parts.append("^")
        s.pos += 1
    items: list[str] = []
    while s.peek() != "]":
        low = _class_char(s, start)
        if s.peek() == "-" and s.peek(1) not in ("]", ""):
            s.pos += 1
            high = _class_char(s, start)
            if ord(high) < ord(low):
                raise PatternError(f"the range at position {start} runs backwards")
            items.append(f"{_spell_in_class(low)}-{_spell_in_class(high)}")
        else:
            items.append(_spell_in_class(low))
    if not items:
        raise PatternError(f"the class at position {start} is empty")
    s.pos += 1
    _atom(s, "".join([*parts, *items, "]"]), 0)


def _class_char(s: _Scanner, start: int) -> str:
    """The character the class's next item stands for."""
    char = s.peek()
    if char == "":
        raise PatternError(f"the class at position {start} is not closed")
    if char == "[":
        raise PatternError(f"escape '[' inside the class at position {start} as \\[")
    if char == "\\":
        nxt = s.peek(1)
        if nxt not in _ESCAPES and nxt not in _ESCAPABLE:
            raise PatternError(f"\\{nxt} at position {s.pos} is not in the portable subset")
        s.pos += 2
        return _ESCAPES.get(nxt, nxt)
    s.pos += 1
    return char


def _open_group(s: _Scanner) -> None:
    width = 3 if s.text.startswith("(?:", s.pos) else 1
    if width == 1 and s.peek(1) == "?":
        raise PatternError(f"'(?' at position {s.pos}: only (?: is in the portable subset")
    _break(s)
    s.groups[-1].branch_empty = False
    s.groups.append(_Group())
    _emit(s, "(?:", None, width)


def _close_group(s: _Scanner) -> None:
    if len(s.groups) == 1:
        raise PatternError(f"')' at position {s.pos} closes no group")
    _end_branch(s)
    group = s.groups.pop()
    s.last_literal = False
    kind = "group:complex" if group.has_repeat or group.has_alternation else "group:simple"
    if group.has_repeat:
        s.groups[-1].has_repeat = True
    s.groups[-1].positions += group.positions
    s.last_positions = group.positions
    _emit(s, ")", kind, 1)


def _end_branch(s: _Scanner) -> None:
    if s.groups[-1].branch_empty:
        raise PatternError(f"empty alternative or group before position {s.pos}")


def _repeat(s: _Scanner) -> None:
    if s.last is None or s.last == "repeat":
        raise PatternError(f"{s.peek()!r} at position {s.pos} repeats nothing")
    if s.last == "group:complex":
        raise PatternError(
            f"a repeated group may not contain a repetition or '|' (position {s.pos})"
        )
    text = s.peek()
    copies = 1  # *, + and ?: the automaton loops over, or skips, one copy
    if text == "{":
        bounds = _BOUNDS.match(s.text, s.pos)
        if bounds is None:
            raise PatternError(f"'{{' at position {s.pos} must be {{m}}, {{m,}} or {{m,n}}")
        low, comma, high = bounds.group(1), bounds.group(2), bounds.group(3)
        if int(low) > MAX_REPEAT or (high and not int(low) <= int(high) <= MAX_REPEAT):
            raise PatternError(f"repetition bounds at position {s.pos} must be 0 to {MAX_REPEAT}")
        text = bounds.group(0)
        copies = int(high) if high else int(low) + 1 if comma else int(low)
    if s.last_literal:  # the repeated character may be absent, or there many times
        s.run = s.run[:-1]
    _break(s)
    s.groups[-1].has_repeat = True
    s.groups[-1].positions += s.last_positions * (max(copies, 1) - 1)
    _emit(s, text, "repeat", len(text))
    if s.peek() in ("?", "+"):
        raise PatternError(f"lazy or possessive repetition at position {s.pos} is not portable")
