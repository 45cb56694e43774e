"""The queries of campaigns and rulesets (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from patron.domain.promotions.campaign_records import CampaignRecord, RulesetRecord, definition
from patron.domain.promotions.ports import CampaignDefinition
from patron.store.promotions.tables import campaigns, rulesets
from patron.store.unit_base import UnitBase


class CampaignQueries(UnitBase):
    """Implements :class:`~patron.domain.promotions.campaign_service.CampaignUnit`
    and the definitions half of ``CampaignReader``."""

    def insert_campaign(self, campaign: CampaignRecord) -> int:
        query = insert(campaigns).values(_campaign_values(campaign)).returning(campaigns.c.id)
        return int(self.connection.execute(query).scalar_one())

    def update_campaign(self, campaign: CampaignRecord) -> None:
        self.connection.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign.id)
            .values(_campaign_values(campaign))
        )

    def get_campaign(self, application_id: int, campaign_id: int) -> CampaignRecord | None:
        query = select(campaigns).where(
            campaigns.c.application_id == application_id,
            campaigns.c.id == campaign_id,
            campaigns.c.deleted_at.is_(None),
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _campaign(row)

    def list_campaigns(self, application_id: int) -> list[CampaignRecord]:
        query = (
            select(campaigns)
            .where(campaigns.c.application_id == application_id, campaigns.c.deleted_at.is_(None))
            .order_by(campaigns.c.id)
        )
        return [_campaign(row) for row in self.connection.execute(query).mappings()]

    def delete_campaign(self, application_id: int, campaign_id: int, now: datetime) -> None:
        self.connection.execute(
            update(campaigns)
            .where(campaigns.c.application_id == application_id, campaigns.c.id == campaign_id)
            .values(deleted_at=now, updated_at=now)
        )

    def insert_ruleset(self, ruleset: RulesetRecord) -> int:
        query = (
            insert(rulesets)
            .values(
                campaign_id=ruleset.campaign_id,
                rules=list(ruleset.rules),
                bindings=list(ruleset.bindings),
                rb_version=ruleset.rb_version,
                created_at=ruleset.created_at,
                activated_at=ruleset.activated_at,
            )
            .returning(rulesets.c.id)
        )
        return int(self.connection.execute(query).scalar_one())

    def get_ruleset(self, campaign_id: int, ruleset_id: int) -> RulesetRecord | None:
        query = select(rulesets).where(
            rulesets.c.campaign_id == campaign_id, rulesets.c.id == ruleset_id
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else RulesetRecord(**row)

    def list_rulesets(self, campaign_id: int) -> list[RulesetRecord]:
        query = (
            select(rulesets).where(rulesets.c.campaign_id == campaign_id).order_by(rulesets.c.id)
        )
        return [RulesetRecord(**row) for row in self.connection.execute(query).mappings()]

    def mark_ruleset_activated(self, ruleset_id: int, now: datetime) -> None:
        self.connection.execute(
            update(rulesets)
            .where(rulesets.c.id == ruleset_id, rulesets.c.activated_at.is_(None))
            .values(activated_at=now)
        )

    def campaign_definitions(self, application_id: int) -> list[CampaignDefinition]:
        """Every campaign of the application that is not deleted, with its active ruleset."""
        query = (
            select(campaigns, rulesets.c.rules, rulesets.c.bindings)
            .select_from(
                campaigns.outerjoin(rulesets, rulesets.c.id == campaigns.c.active_ruleset_id)
            )
            .where(campaigns.c.application_id == application_id, campaigns.c.deleted_at.is_(None))
            .order_by(campaigns.c.id)
        )
        found = []
        for row in self.connection.execute(query).mappings():
            record = _campaign(row)
            ruleset = None
            if record.active_ruleset_id is not None and row["rules"] is not None:
                ruleset = RulesetRecord(
                    record.active_ruleset_id, record.id, row["rules"], row["bindings"]
                )
            found.append(definition(record, ruleset))
        return found


def _campaign_values(campaign: CampaignRecord) -> dict[str, Any]:
    return {
        "application_id": campaign.application_id,
        "name": campaign.name,
        "description": campaign.description,
        "state": str(campaign.state),
        "start_time": campaign.start_time,
        "end_time": campaign.end_time,
        "priority": campaign.priority,
        "type": campaign.type,
        "features": list(campaign.features),
        "tags": list(campaign.tags),
        "limits": [dict(limit) for limit in campaign.limits],
        "coupon_settings": None
        if campaign.coupon_settings is None
        else dict(campaign.coupon_settings),
        "referral_settings": (
            None if campaign.referral_settings is None else dict(campaign.referral_settings)
        ),
        "attributes": dict(campaign.attributes),
        "active_ruleset_id": campaign.active_ruleset_id,
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
    }


def _campaign(row: Any) -> CampaignRecord:
    return CampaignRecord(
        id=row["id"],
        application_id=row["application_id"],
        name=row["name"],
        state=row["state"],
        description=row["description"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        priority=row["priority"],
        type=row["type"],
        features=tuple(row["features"]),
        tags=tuple(row["tags"]),
        limits=tuple(row["limits"]),
        coupon_settings=row["coupon_settings"],
        referral_settings=row["referral_settings"],
        attributes=row["attributes"],
        active_ruleset_id=row["active_ruleset_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
