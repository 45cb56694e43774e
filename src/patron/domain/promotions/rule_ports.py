"""What committing the effects of rules needs from storage (beyond the session pipeline's).

Codes rules create go in through the coupons and referrals parts' own
inserts (``taken_lookups``/``insert_coupons``, ``taken_referral_lookups``/
``insert_referrals``); each rule's creation is one batch whose id derives
from where the rule fired, so finding that batch again tells a re-evaluated
session that its code is already there. The customer's tracked events
answer the event-history rules (``eventCount``, ``lastEventTime``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from patron.domain.promotions.coupon_model import Batch, NewCoupon, StoredCoupon
from patron.domain.promotions.referrals import ReferralRecord


class RuleDataQueries(Protocol):
    def taken_lookups(self, application_id: int, lookups: Collection[str]) -> set[str]: ...

    def insert_coupons(self, batch: Batch, coupons_: Sequence[NewCoupon]) -> None: ...

    def coupons_of_batch(self, application_id: int, batch_id: str) -> list[StoredCoupon]: ...

    def taken_referral_lookups(self, application_id: int, lookups: Collection[str]) -> set[str]: ...

    def insert_referrals(
        self, referrals_: Sequence[ReferralRecord], case_sensitivity: str
    ) -> list[ReferralRecord]: ...

    def referrals_of_batch(self, application_id: int, batch_id: str) -> list[ReferralRecord]:
        """The referrals created together as ``batch_id``, by id."""
        ...

    def customer_event_count(
        self, workspace_id: str, customer_id: str, name: str, since: datetime | None
    ) -> int:
        """How many ``track`` events named ``name`` the customer has (at or after ``since``)."""
        ...

    def customer_last_event(
        self, workspace_id: str, customer_id: str, name: str
    ) -> datetime | None:
        """When the customer's latest ``track`` event named ``name`` happened."""
        ...
