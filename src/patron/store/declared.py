"""Every table the code declares, on one metadata: what migrations are checked against.

Each capability's tables register on :data:`patron.store.schema.metadata` when
their module is imported; importing this module imports them all.
"""

from __future__ import annotations

from patron.store.promotions import tables as promotions_tables
from patron.store.schema import metadata

__all__ = ["metadata", "promotions_tables"]
