"""Whole numbers written as text: path ids, query parameters, numbers sent as strings.

One strict reading for every surface. ``int()`` is too lenient for the wire:
it takes surrounding whitespace, ``_`` between digits and digits of any
script (``"٦"`` is 6), and callers that ``strip()`` first take more than it
does (``str.strip`` removes the separators ``\\x1c``-``\\x1f``, ``int`` refuses
them), so a value could pass a check and fail the conversion after it.
"""

from __future__ import annotations

import re

# ASCII digits only, an optional minus, nothing around them (matched whole).
_WHOLE = re.compile(r"-?[0-9]{1,19}")


def whole_number(text: str) -> int | None:
    """The number ``text`` writes in plain decimal digits, or None.

    At most 19 digits: more cannot be a 64-bit integer, the largest a
    database column holds, and are refused before any conversion.
    """
    if _WHOLE.fullmatch(text) is None:
        return None
    return int(text)
