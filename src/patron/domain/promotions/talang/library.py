"""The function table rules compile against: every family in one registry."""

from __future__ import annotations

from patron.domain.promotions.talang.functions import core, effects, lists, patron, strings, times
from patron.domain.promotions.talang.registry import Registry

REGISTRY = Registry(
    [
        *core.FUNCTIONS,
        *lists.FUNCTIONS,
        *strings.FUNCTIONS,
        *times.FUNCTIONS,
        *patron.FUNCTIONS,
        *effects.FUNCTIONS,
    ]
)
