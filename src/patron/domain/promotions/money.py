"""Money: amounts rounded to the application currency's minor unit, half up.

Rules compute with exact decimals (``["*", 19.99, 0.15]`` is 2.9985); only
an amount that leaves the engine as a discount is rounded, to the
currency's minor unit (ISO 4217: two decimals unless listed below), half up
— the way a till rounds — so ``2.9985`` becomes ``3.00``. Loyalty points
are rounded to two decimals the same way (Talon's points have two).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

# ISO 4217 currencies whose minor unit is not 1/100.
_ZERO_DECIMALS: tuple[str, ...] = ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW")
_ZERO_DECIMALS += ("PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF")
_DECIMALS = {
    **dict.fromkeys(_ZERO_DECIMALS, 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
POINTS_DECIMALS = 2


@lru_cache(maxsize=256)
def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-_DECIMALS.get(currency.upper(), 2))


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def round_points(points: Decimal) -> Decimal:
    return points.quantize(Decimal(1).scaleb(-POINTS_DECIMALS), rounding=ROUND_HALF_UP)
