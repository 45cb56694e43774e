"""Listing campaigns, rulesets and attributes as Talon's Management API does.

Talon's list operations take ``pageSize``, ``skip`` and ``sort`` (a field
name, ``-`` first for descending); ``GET …/campaigns`` also filters by the
Campaign Manager's state (``campaignState``), by name and tags
(case-insensitive, either matching when both are given) and by creation
time. An application has tens of campaigns, not millions: they are selected
here, in memory, from what the store returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.campaign_records import CampaignRecord, frontend_state

T = TypeVar("T")

MAX_PAGE = 1000  # Talon's largest pageSize
# campaignState: what the Campaign Manager shows; ``enabled`` = scheduled, running or expired.
STATES = {
    "enabled": {"scheduled", "running", "expired"},
    "running": {"running"},
    "scheduled": {"scheduled"},
    "expired": {"expired"},
    "disabled": {"disabled"},
    "archived": {"archived"},
}
Key = Callable[[Any], Any]
CAMPAIGN_SORTS: dict[str, Key] = {
    "id": lambda c: c.id,
    "name": lambda c: c.name.casefold(),
    "created": lambda c: c.created_at,
    "updated": lambda c: c.updated_at,
    "startTime": lambda c: c.start_time,
    "endTime": lambda c: c.end_time,
    "state": lambda c: c.state,
    "priority": lambda c: c.priority,
}


@dataclass(frozen=True, slots=True)
class Paging:
    page_size: int = MAX_PAGE
    skip: int = 0
    sort: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.page_size <= MAX_PAGE:
            problems.append(Problem(f"1 to {MAX_PAGE}", "pageSize"))
        if self.skip < 0:
            problems.append(Problem("0 or more", "skip"))
        if problems:
            raise Invalid.of(problems)

    def apply(self, items: Sequence[T], keys: dict[str, Key]) -> tuple[int, list[T]]:
        """How many ``items`` there are, and the page of them in the asked order."""
        ordered = list(items)
        if self.sort:
            name = self.sort.removeprefix("-")
            key = keys.get(name)
            if key is None:
                raise Invalid.of([Problem(f"one of {', '.join(keys)}, - first to reverse", "sort")])
            # None (no start time…) sorts first; ties keep their id order.
            ordered.sort(key=lambda item: _nulls_first(key(item)), reverse=self.sort[0] == "-")
        return len(ordered), ordered[self.skip : self.skip + self.page_size]


def _nulls_first(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if value is not None else 0)


@dataclass(frozen=True, slots=True)
class CampaignQuery:
    paging: Paging = Paging()
    state: str | None = None  # campaignState
    name: str | None = None
    tags: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in STATES:
            raise Invalid.of([Problem(f"one of {', '.join(STATES)}", "campaignState")])

    def select(
        self, campaigns: Sequence[CampaignRecord], now: datetime
    ) -> tuple[int, list[CampaignRecord]]:
        chosen = [c for c in campaigns if self._matches(c, now)]
        return self.paging.apply(chosen, CAMPAIGN_SORTS)

    def _matches(self, campaign: CampaignRecord, now: datetime) -> bool:
        if self.state is not None and frontend_state(campaign, now) not in STATES[self.state]:
            return False
        created = campaign.created_at
        if created is not None:
            if self.created_before is not None and not created < self.created_before:
                return False
            if self.created_after is not None and not created > self.created_after:
                return False
        if self.name is None and self.tags is None:
            return True
        by_name = self.name is not None and self.name.casefold() in campaign.name.casefold()
        by_tag = self.tags is not None and any(
            self.tags.casefold() in tag.casefold() for tag in campaign.tags
        )
        return by_name or by_tag
