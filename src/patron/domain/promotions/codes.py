"""Codes for the coupons and referrals that rules create, and ids for loyalty transactions.

Evaluation is a pure function, so what it creates is derived, not drawn: a
code is the campaign's pattern (``#`` = a character from its valid
characters, anything else kept) filled from a hash of where it was created
(application, session, campaign, ruleset, rule, effect). Evaluating the same
session again yields the same code — the effects are the session's current
set, not new ones each time. A caller that finds the code taken (another
session's) asks again with the next ``attempt``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from enum import StrEnum

# A fixed namespace: transaction ids are uuid5 of where the points came from.
TRANSACTIONS = uuid.UUID("6c5d8a33-3b41-4f47-9a0e-3f0a8b2f1c17")


def origin(*parts: object) -> str:
    return "/".join(str(part) for part in parts)


def fill_pattern(pattern: str, characters: Sequence[str], seed: str, attempt: int = 0) -> str:
    """``pattern`` with every ``#`` replaced by a character chosen from ``seed``."""
    slots = pattern.count("#")
    stream = _stream(f"{seed}#{attempt}", slots * 4)
    chosen = iter(
        characters[int.from_bytes(stream[i * 4 : i * 4 + 4], "big") % len(characters)]
        for i in range(slots)
    )
    return "".join(next(chosen) if char == "#" else char for char in pattern)


def transaction_uuid(seed: str) -> str:
    return str(uuid.uuid5(TRANSACTIONS, seed))


def _stream(seed: str, size: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.blake2b(f"{counter}:{seed}".encode(), digest_size=64).digest()
        counter += 1
    return out[:size]


class CaseSensitivity(StrEnum):
    """How an application compares coupon and referral codes (Talon's ``caseSensitivity``)."""

    SENSITIVE = "sensitive"
    INSENSITIVE_UPPERCASE = "insensitive-uppercase"
    INSENSITIVE_LOWERCASE = "insensitive-lowercase"


def lookup_key(code: str, sensitivity: str) -> str:
    """The form of ``code`` that is unique per application and that lookups compare.

    Case-insensitive applications compare codes case-folded, whatever case
    they were stored or sent in; ``value`` keeps the code as it was made.
    """
    return code if sensitivity == CaseSensitivity.SENSITIVE else code.casefold()
