"""Customer segments: sets of customers, static or following a filter.

Voucherify's three kinds: a **static** segment is an explicit list of
customers; an **auto-update** segment holds the customers whose profile
matches its filter and records ``customer.segment.entered``/``left`` as they
come and go; a **passive** one follows its filter without those records.

A filter is Voucherify's syntax, translated once into the shared criteria
tree, over a customer's *profile document* (:func:`profile_document`)::

    {"junction": "and",
     "metadata.tier": {"conditions": {"$is": ["gold"]}},
     "address.city": {"conditions": {"$in": ["Paris", "Rome"]}, "junction": "or"}}

Besides the profile, a filter may ask about behaviour (``events.<name>``: how
many such track events, in a window) and identities
(``identities.anonymous_id``: one of the customer's anonymous ids, or none);
those are answered by counting rows in SQL (:data:`Clause`).

Membership is kept live: creating a segment fills it with one set-based SQL
statement (the store's backfill); every later change of a profile — through
the customers API, a bulk job or the tracking API — re-evaluates that
customer against the workspace's compiled segments, in Python, in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from patron.domain.segments.customers.filters import (
    SegmentRule,
    parse_filter,
)

MAX_STATIC_MEMBERS = 20_000  # Voucherify's bound for a static segment


class SegmentType(StrEnum):
    STATIC = "static"
    AUTO_UPDATE = "auto-update"
    PASSIVE = "passive"


@dataclass(frozen=True, slots=True)
class CustomerSegment:
    id: str
    workspace_id: str
    name: str
    type: SegmentType
    filter: dict[str, Any] | None  # as the client sent it (None: static)
    created_at: datetime
    updated_at: datetime

    swept_at: datetime | None = None  # the time sweep's last run over this segment

    def rule(self) -> SegmentRule | None:
        return None if self.filter is None else parse_filter(self.filter)

    @property
    def window_days(self) -> int | None:
        """The longest time window of its conditions (None: time alone changes nothing)."""
        rule = self.rule()
        if rule is None:
            return None
        days = [b.days for b in rule.behaviours if b.days]
        days += [days for _, days in rule.date_windows()]
        return max(days) if days else None
