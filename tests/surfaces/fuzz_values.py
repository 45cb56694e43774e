"""Odd values for the fuzz test: text, numbers, dates, JSON, ids, each past some limit.

Control characters and NUL, digits of other scripts, numbers past 32 and 64
bits, dates that UTC cannot hold, text longer than the columns that keep it,
JSON nested past what each layer takes.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

CONTROLS = st.characters(max_codepoint=0x1F) | st.sampled_from(
    ["\x7f", "\x85", "\xa0", "\u2028", "\ufeff", "\U0010ffff"]
)
ODD_TEXT = st.text(max_size=20) | st.text(CONTROLS, min_size=1, max_size=3)
EDGE_NUMERALS = [
    *("0", "-0", "+1", "-1", " 6", "6 ", "\t6", "6\n", "\u0666", "\uff11", "1_000", "1e3"),
    *("0x1f", "1.0", "NaN", "inf", "", "2147483647", "2147483648", "-2147483649", "99", "100"),
    *("4294967296", "65535", "65536", "9223372036854775807", "9223372036854775808"),
    *("18446744073709551616", "9" * 30),
]
NUMERALS = st.one_of(
    st.sampled_from(EDGE_NUMERALS),
    st.integers(2**31, 2**70).map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.tuples(st.integers(0, 70_000).map(str), CONTROLS).map("".join),  # "6\x1d"
    st.tuples(CONTROLS, st.integers(0, 70_000).map(str)).map("".join),
)
EDGE_MOMENTS = [
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31", "0001-01-01",
    "2024-02-30", "2024-13-01T00:00:00Z", "2024-06-01T25:00:00Z", "2024-06-01 12:00:00 02:00",
    "2024-06-01T12:00:00.123456789Z", "-2024-01-01", "+02024-01-01", "2024-W01", "now",
]  # fmt: skip
MOMENTS = st.one_of(
    st.sampled_from(EDGE_MOMENTS),
    st.tuples(
        st.datetimes().map(lambda moment: moment.isoformat()),
        st.sampled_from(["", "Z", "+00:00", "+14:00", "-23:59", "+24:00"]),
    ).map("".join),
)
WORDS = [
    "track", "identify", "page", "screen", "group", "alias", "static", "auto-update",
    "equals", "nequals", "regex", "in", "between", "within", "exists", "before", "after",
    "$is", "$in", "$is_not", "$more_than", "$after", "$less_than_ago", "$has_value",
    "and", "or", "ACTION", "EFFECT", "created_at", "-created_at", "email", "-name",
    "customer.created", "segmentName", "-segment", "segment:2", "segmentGroupId:1",
]  # fmt: skip
# Longer than the fields that hold them: 40 (a birthdate), 100, 200, 1000 (ids).
LONG_TEXT = st.tuples(st.sampled_from([41, 101, 201, 1001]), st.sampled_from("xé\U0001f600")).map(
    lambda size_letter: size_letter[1] * size_letter[0]
)
TEXTS = st.one_of(ODD_TEXT, NUMERALS, MOMENTS, st.sampled_from(WORDS), LONG_TEXT)
INTEGERS = st.integers(-(2**70), 2**70) | st.sampled_from(
    [2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64 - 1, -(2**63) - 1, 65535, 65536, -1, 0, 1, 2]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    INTEGERS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, -0.0, 1.5]),
    TEXTS,
)
KEYS = st.one_of(ODD_TEXT, st.sampled_from(WORDS), st.sampled_from(["x", "a.b", "$x", ""]))


def _nested(depth: int) -> Any:
    value: Any = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


# Nested past what some layer takes: 32 (metadata), 254 (stored JSON), 1024 (the parser).
DEEP = st.sampled_from([33, 253, 256, 600]).map(_nested)
JSON = (
    st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
        max_leaves=10,
    )
    | DEEP
)
OBJECTS = st.dictionaries(KEYS, JSON, max_size=4)


def odd_ids(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Path ids no record has: real ones made odd, NUL, numbers, text of any length."""
    real = st.sampled_from(known)
    return st.one_of(
        st.tuples(real, CONTROLS).map("".join),
        st.tuples(CONTROLS, real).map("".join),
        st.sampled_from(["\x00", "a\x00b", *(f"{real}\x00" for real in known)]),
        NUMERALS,
        ODD_TEXT.filter(bool),
        LONG_TEXT,
    )


class Removed:
    """Stands for "no value": the property is left out."""

    def __repr__(self) -> str:
        return "REMOVED"


REMOVED = Removed()
# Any odd value for a place in a document (or none at all), each kind as often.
ODD = st.one_of(
    ODD_TEXT,
    NUMERALS,
    MOMENTS,
    LONG_TEXT,
    st.sampled_from(WORDS),
    INTEGERS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([None, True, False, "", [], {}]),
    JSON,
    DEEP,
    st.just(REMOVED),
)
