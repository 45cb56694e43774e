"""Identifiers: time-ordered, random, prefixed by what they name (``cust_…``, ``ws_…``).

Time-ordered ids keep B-tree inserts at the right edge of the index, which
matters for the customers and events tables on both databases.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _base32(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, index = divmod(number, 32)
        chars.append(_ALPHABET[index])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """Return ``prefix_`` followed by 48 bits of milliseconds and 80 random bits."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"


def new_secret(length: int = 32) -> str:
    """Return a random alphanumeric secret, the shape of a Segment write key."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
