"""The customer's tracked events as event-history rules see them (``eventCount``,
``lastEventTime``; Patron beyond Talon).

Asked lazily: an evaluation whose rules never ask costs nothing; each
question (event type, window) is one indexed query over that customer's
events, asked once per evaluation however many campaigns ask it. Every
``track`` event of the customer counts — sent to the tracking API (Segment's
``/v1/track``), or recorded by Talon sessions and events (``talon_session_*``
and custom event types) — up to, not including, the event being evaluated.
"""

from __future__ import annotations

from datetime import datetime

from patron.domain.promotions.rule_ports import RuleDataQueries


class CustomerHistory:
    """:class:`~patron.domain.promotions.model.EventHistory` of one customer, cached."""

    def __init__(self, unit: RuleDataQueries, workspace_id: str, customer_id: str) -> None:
        self.unit = unit
        self.workspace_id = workspace_id
        self.customer_id = customer_id
        self._counts: dict[tuple[str, datetime | None], int] = {}
        self._last: dict[str, datetime | None] = {}

    def count(self, event_type: str, since: datetime | None) -> int:
        key = (event_type, since)
        if key not in self._counts:
            self._counts[key] = self.unit.customer_event_count(
                self.workspace_id, self.customer_id, event_type, since
            )
        return self._counts[key]

    def last(self, event_type: str) -> datetime | None:
        if event_type not in self._last:
            self._last[event_type] = self.unit.customer_last_event(
                self.workspace_id, self.customer_id, event_type
            )
        return self._last[event_type]
