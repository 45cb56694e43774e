"""The queries of applications (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from patron.domain.promotions.model import Application
from patron.store.promotions.tables import applications, coupons, referrals
from patron.store.unit_base import UnitBase


class ApplicationQueries(UnitBase):
    """Implements :class:`~patron.domain.promotions.applications.ApplicationUnit`
    (with ``TenancyQueries``) and the version half of ``CampaignReader``."""

    def create_application(self, application: Application) -> Application:
        values = {
            "workspace_id": application.workspace_id,
            "name": application.name,
            "description": application.description,
            "currency": application.currency,
            "timezone": application.timezone,
            "case_sensitivity": application.case_sensitivity,
            "attributes": dict(application.attributes),
            "settings": dict(application.settings),
            "promotions_version": 0,
            "created_at": application.created_at,
            "updated_at": application.updated_at,
        }
        # (A name taken meanwhile by another process is a unique violation: the
        # store retries the work, which then finds the name taken.)
        new_id = self.connection.execute(
            insert(applications).values(values).returning(applications.c.id)
        ).scalar_one()
        return _application({**values, "id": new_id})

    def get_application(self, workspace_id: str, application_id: int) -> Application | None:
        query = select(applications).where(
            applications.c.workspace_id == workspace_id, applications.c.id == application_id
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _application(row)

    def list_applications(self, workspace_id: str) -> list[Application]:
        query = (
            select(applications)
            .where(applications.c.workspace_id == workspace_id)
            .order_by(applications.c.id)
        )
        return [_application(row) for row in self.connection.execute(query).mappings()]

    def update_application(self, application: Application) -> None:
        self.connection.execute(
            update(applications)
            .where(applications.c.id == application.id)
            .values(
                name=application.name,
                description=application.description,
                currency=application.currency,
                timezone=application.timezone,
                case_sensitivity=application.case_sensitivity,
                attributes=dict(application.attributes),
                settings=dict(application.settings),
                updated_at=application.updated_at,
            )
        )

    def has_codes(self, application_id: int) -> bool:
        found = select(coupons.c.id).where(coupons.c.application_id == application_id).limit(1)
        if self.connection.scalar(found) is not None:
            return True
        found = select(referrals.c.id).where(referrals.c.application_id == application_id)
        return self.connection.scalar(found.limit(1)) is not None

    def bump_promotions_version(self, application_id: int) -> None:
        self.connection.execute(
            update(applications)
            .where(applications.c.id == application_id)
            .values(promotions_version=applications.c.promotions_version + 1)
        )

    def promotions_version(self, application_id: int) -> int:
        query = select(applications.c.promotions_version).where(applications.c.id == application_id)
        return int(self.connection.scalar(query) or 0)


def _application(row: Any) -> Application:
    return Application(
        id=row["id"],
        name=row["name"],
        currency=row["currency"],
        timezone=row["timezone"],
        attributes=row["attributes"],
        partial_discounts=bool(row["settings"].get("partialDiscounts", False)),
        workspace_id=row["workspace_id"],
        description=row["description"],
        case_sensitivity=row["case_sensitivity"],
        settings=row["settings"],
        promotions_version=row["promotions_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
