"""A campaign with a coupon-gated rule, and coupons inserted as rows, for the session tests.

Coupons are inserted with SQL (the coupons part owns creating them); the
campaign and its ruleset are set up through ``services.campaigns``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from patron.domain.promotions.campaign_records import CampaignRecord
from patron.services import Services
from patron.store.promotions.tables import campaign_usage, coupons

COUPON_RULES = {
    "rules": [
        {
            "title": "Free money",
            "condition": ["and", ["couponValid"]],
            "effects": [["setDiscount", "Free money", 10]],
        }
    ],
    "bindings": [],
}


@dataclass(frozen=True)
class Setup:
    workspace_id: str
    application_id: int
    campaign_id: int


async def coupon_campaign(
    services: Services, workspace_id: str, application_id: int, **campaign: Any
) -> int:
    made = await services.campaigns.create(
        workspace_id,
        CampaignRecord(
            0, application_id, campaign.pop("name", "Spring"), features=("coupons",), **campaign
        ),
    )
    await services.campaigns.save_ruleset(
        workspace_id, application_id, made.id, COUPON_RULES, activate=True
    )
    return made.id


async def add_coupon(
    services: Services, application_id: int, campaign_id: int, code: str, usage_limit: int = 1
) -> int:
    values = {
        "application_id": application_id,
        "campaign_id": campaign_id,
        "value": code,
        "lookup": code,
        "usage_limit": usage_limit,
        "usage_counter": 0,
        "discount_limit": Decimal(0),
        "discount_counter": Decimal(0),
        "per_profile_limit": 0,
        "reservation_limit": 0,
        "attributes": {},
        "created_at": datetime.now(UTC),
    }

    def work(unit: Any) -> int:
        query = insert(coupons).values(values).returning(coupons.c.id)
        return int(unit.connection.execute(query).scalar_one())

    return int(await services.store.write(work))


async def coupon_counter(services: Services, coupon_id: int) -> int:
    def work(unit: Any) -> int:
        query = select(coupons.c.usage_counter).where(coupons.c.id == coupon_id)
        return int(unit.connection.scalar(query))

    return int(await services.store.read(work))


async def usage_rows(services: Services, campaign_id: int) -> dict[tuple[str, str], Decimal]:
    def work(unit: Any) -> dict[tuple[str, str], Decimal]:
        query = select(campaign_usage).where(campaign_usage.c.campaign_id == campaign_id)
        return {
            (row["action"], row["integration_id"]): row["used"]
            for row in unit.connection.execute(query).mappings()
        }

    return dict(await services.store.read(work))
