"""The regular-expression subset that means the same in Python, SQLite and PostgreSQL.

SQLite has no regular expressions of its own: Patron registers a function
that runs Python's ``re`` (see ``patron.store.criteria_sql``). The subset is
what Python's ``re`` and PostgreSQL's advanced regular expressions agree on,
minus whatever can make a backtracking matcher take exponential time:

* literal characters; ``\\`` before any punctuation character makes it
  literal; ``\\n`` and ``\\t``;
* ``.`` (any character, newlines included), ``^`` and ``$`` (start and end of
  the whole value only);
* bracket classes ``[abc]``, ``[^abc]``, ``[a-z0-9]`` (``-`` literal first or
  last, ``\\`` escapes inside);
* groups ``( … )`` and ``(?: … )`` and alternation ``|`` (no empty branch);
* repetition ``*``, ``+``, ``?``, ``{m}``, ``{m,}``, ``{m,n}`` (at most 255)
  after a character, class or group; a repeated group may contain neither a
  repetition nor ``|``.

Matching is case-sensitive and unanchored (``contains`` semantics) unless the
pattern uses ``^``/``$``. Everything else (``\\d``, ``\\w``, back-references,
look-around, flags, lazy quantifiers, POSIX ``[:classes:]``) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from patron.domain.criteria.tree import Pattern

MAX_PATTERN_LENGTH = 500
MAX_REPEAT = 255
_SPECIAL = set("\\.^$|?*+()[]{}")
_ESCAPABLE = set("\\.^$|?*+()[]{}/-'\"#&~!%,:;<=>@`_ ")
_ESCAPES = {"n": "\n", "t": "\t"}
_BOUNDS = re.compile(r"\{(\d{1,3})(,(\d{1,3})?)?\}")


class PatternError(ValueError):
    """The pattern is outside the portable subset."""


@dataclass
class _Group:
    has_repeat: bool = False
    has_alternation: bool = False
    branch_empty: bool = True


@dataclass
class _Scanner:
    text: str
    pos: int = 0
    out: list[str] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=lambda: [_Group()])
    last: str | None = None  # "atom", "group:<has_repeat|alt>", "repeat", or None
    # Plain characters every match contains: runs of the top-level sequence.
    run: str = ""
    best: str = ""
    last_literal: bool = False  # the last atom is the last character of ``run``
    top_alternation: bool = False  # "a|b" at the top level: nothing is required

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""


def compile_pattern(source: str) -> Pattern:
    """Check ``source`` against the subset; return it with its Python spelling."""
    if not source:
        raise PatternError("the pattern is empty")
    if len(source) > MAX_PATTERN_LENGTH:
        raise PatternError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    scanner = _Scanner(source)
    while scanner.pos < len(source):
        _step(scanner)
    if len(scanner.groups) > 1:
        raise PatternError("a group is not closed")
    _end_branch(scanner)
    python = "".join(scanner.out)
    re.compile(python)  # the subset always compiles; this guards the checker itself
    _break(scanner)
    required = "" if scanner.top_alternation else scanner.best
    return Pattern(source=source, python=python, required=required)


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
        _break(s)
        _emit(s, "\\Z" if char == "$" else "^", None, 1)
        s.groups[-1].branch_empty = False
    elif char in "]}":
        raise PatternError(f"escape {char!r} at position {s.pos} as \\{char}")
    elif char == ".":
        _break(s)
        _atom(s, ".", 1)
    else:
        _literal(s, char)
        _atom(s, re.escape(char), 1)


def _emit(s: _Scanner, text: str, last: str | None, width: int) -> None:
    s.out.append(text)
    s.last = last
    s.pos += width


def _atom(s: _Scanner, text: str, width: int) -> None:
    s.groups[-1].branch_empty = False
    _emit(s, text, "atom", width)


def _escape(s: _Scanner) -> None:
    nxt = s.peek(1)
    if nxt in _ESCAPES:
        _literal(s, _ESCAPES[nxt])
        _atom(s, re.escape(_ESCAPES[nxt]), 2)
    elif nxt in _ESCAPABLE:
        _literal(s, nxt)
        _atom(s, re.escape(nxt), 2)
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
        items.append(_class_char(s, start))
        if s.peek() == "-" and s.peek(1) not in ("]", ""):
            s.pos += 1
            high = _class_char(s, start)
            if ord(_unescape(high)) < ord(_unescape(items[-1])):
                raise PatternError(f"the range at position {start} runs backwards")
            items[-1] = f"{items[-1]}-{high}"
    if not items:
        raise PatternError(f"the class at position {start} is empty")
    s.pos += 1
    _atom(s, "".join([*parts, *items, "]"]), 0)


def _class_char(s: _Scanner, start: int) -> str:
    char = s.peek()
    if char == "":
        raise PatternError(f"the class at position {start} is not closed")
    if char == "[":
        raise PatternError(f"escape '[' inside the class at position {start} as \\[")
    if char == "\\":
        nxt = s.peek(1)
        if nxt in _ESCAPES:
            s.pos += 2
            return re.escape(_ESCAPES[nxt])
        if nxt not in _ESCAPABLE:
            raise PatternError(f"\\{nxt} at position {s.pos} is not in the portable subset")
        s.pos += 2
        return "\\" + nxt
    s.pos += 1
    return "\\-" if char == "-" else re.escape(char) if char in "^\\]" else char


def _unescape(item: str) -> str:
    return item[-1] if item.startswith("\\") else item


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
    if text == "{":
        bounds = _BOUNDS.match(s.text, s.pos)
        if bounds is None:
            raise PatternError(f"'{{' at position {s.pos} must be {{m}}, {{m,}} or {{m,n}}")
        low, comma, high = bounds.group(1), bounds.group(2), bounds.group(3)
        if int(low) > MAX_REPEAT or (high and not int(low) <= int(high) <= MAX_REPEAT):
            raise PatternError(f"repetition bounds at position {s.pos} must be 0 to {MAX_REPEAT}")
        text = bounds.group(0)
        del comma
    if s.last_literal:  # the repeated character may be absent, or there many times
        s.run = s.run[:-1]
    _break(s)
    s.groups[-1].has_repeat = True
    _emit(s, text, "repeat", len(text))
    if s.peek() in ("?", "+"):
        raise PatternError(f"lazy or possessive repetition at position {s.pos} is not portable")
