"""Random coupon codes for the Management API and the CLI (unguessable, unlike rules' codes).

A pattern's ``#`` is a character drawn from the valid characters with the
operating system's secure randomness; everything else is kept. Bytes are drawn
in bulk and mapped without modulo bias (a byte that would favour the first
characters is thrown away), so 100,000 codes cost a few reads of
``os.urandom``, not a system call per character.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.campaigns import DEFAULT_PATTERN, DEFAULT_VALID_CHARACTERS

MIN_CODE = 4  # Talon's Coupon.value: at least 4 characters
MAX_CODE = 200  # the ``coupons.value`` column
MAX_PATTERN = 100
SLOT = "#"


def random_characters(characters: Sequence[str], count: int) -> Iterator[str]:
    """``count`` characters drawn uniformly from ``characters`` (at most 256 of them)."""
    size = len(characters)
    usable = 256 - 256 % size  # bytes at or above this would bias the draw
    produced = 0
    while produced < count:
        for byte in os.urandom(max(64, (count - produced) * 2)):
            if byte < usable:
                yield characters[byte % size]
                produced += 1
                if produced == count:
                    return


def random_codes(
    pattern: str, characters: Sequence[str], count: int, prefix: str = ""
) -> list[str]:
    """``count`` codes: ``prefix`` then ``pattern`` with each ``#`` drawn at random."""
    slots = [index for index, char in enumerate(pattern) if char == SLOT]
    drawn = random_characters(characters, count * len(slots))
    template = list(pattern)
    codes = []
    for _ in range(count):
        for index in slots:
            template[index] = next(drawn)
        codes.append(prefix + "".join(template))
    return codes


def capacity(pattern: str, characters: Sequence[str]) -> int:
    """How many different codes the pattern can make."""
    return int(len(set(characters)) ** pattern.count(SLOT))


def check_pattern(
    pattern: str, characters: Sequence[str], prefix: str, count: int, field: str = "couponPattern"
) -> None:
    """Invalid unless ``count`` codes of this pattern can be made and stored."""
    problems = []
    if not 3 <= len(pattern) <= MAX_PATTERN:
        problems.append(Problem(f"3 to {MAX_PATTERN} characters", field))
    elif SLOT not in pattern and count > 1:
        problems.append(
            Problem("at least one # (a random character) for more than one code", field)
        )
    if not characters or len(characters) > 256 or any(len(c) != 1 for c in characters):
        problems.append(Problem("1 to 256 single characters", "validCharacters"))
    if not MIN_CODE <= len(prefix) + len(pattern) <= MAX_CODE:
        problems.append(Problem(f"codes of {MIN_CODE} to {MAX_CODE} characters", field))
    if not problems and SLOT in pattern and capacity(pattern, characters) < 2 * count:
        problems.append(
            Problem(f"too few # for {count} different codes: add # or characters", field)
        )
    if problems:
        raise Invalid.of(problems)


def settings_of(coupon_settings: object) -> tuple[str, tuple[str, ...]]:
    """A campaign's ``couponSettings`` (Talon's JSON) as a pattern and its characters."""
    pattern, characters = DEFAULT_PATTERN, DEFAULT_VALID_CHARACTERS
    if isinstance(coupon_settings, dict):
        found = coupon_settings.get("couponPattern", coupon_settings.get("pattern"))
        if isinstance(found, str) and found:
            pattern = found
        chars = coupon_settings.get("validCharacters", coupon_settings.get("valid_characters"))
        if isinstance(chars, list | tuple) and chars and all(isinstance(c, str) for c in chars):
            characters = tuple(chars)
    return pattern, characters
