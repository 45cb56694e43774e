"""Promotions rows written straight to the database, for reading them back through the
APIs: a campaign with coupons, a reservation and a redemption, a referral code used by a
friend, a loyalty program with ledger entries, closed sessions. (The features that write
these rows have their own tests; these tests are about reading and erasing them.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine, func, insert, select

from patron.store.promotions.tables import (
    audiences,
    campaign_usage,
    campaigns,
    coupon_redemptions,
    coupon_reservations,
    coupons,
    customer_sessions,
    idempotent_answers,
    idempotent_profiles,
    loyalty_ledger,
    loyalty_programs,
    referral_redemptions,
    referrals,
)
from patron.store.schema import customer_segments, workspaces

NOW = datetime.now(UTC)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Seeded:
    campaign_id: int
    coupon_ids: dict[str, int]  # by code
    referral_id: int
    program_id: int


def workspace_id(database_url: str, name: str) -> str:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        found = connection.scalar(select(workspaces.c.id).where(workspaces.c.name == name))
    engine.dispose()
    assert found is not None
    return str(found)


def _coupon(application_id: int, campaign_id: int, code: str, **values: Any) -> dict[str, Any]:
    return {
        "application_id": application_id,
        "campaign_id": campaign_id,
        "value": code,
        "lookup": code,
        "usage_limit": 0,
        "usage_counter": 0,
        "discount_limit": Decimal(0),
        "discount_counter": Decimal(0),
        "per_profile_limit": 0,
        "reservation_limit": 0,
        "attributes": {},
        "created_at": NOW,
        **values,
    }


def seed(database_url: str, workspace: str, application_id: int, who: str, tag: str) -> Seeded:
    """Give ``who`` (an integration id) a set of holdings; ``tag`` keeps codes unique."""
    ws = workspace_id(database_url, workspace)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        campaign_id = connection.execute(
            insert(campaigns)
            .values(
                application_id=application_id,
                name=f"Spring {tag}",
                state="enabled",
                features=["coupons", "referrals", "loyalty"],
                tags=[],
                limits=[],
                attributes={},
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(campaigns.c.id)
        ).scalar_one()
        coupon_ids = {}
        for code, values in (
            (f"RESERVED-{tag}", {"usage_limit": 5, "usage_counter": 2, "per_profile_limit": 1}),
            (f"GIFT-{tag}", {"recipient_integration_id": who, "expiry_date": NOW - DAY}),
            (f"LATER-{tag}", {"start_date": NOW + DAY}),
            (f"NOBODYS-{tag}", {}),
        ):
            coupon_ids[code] = connection.execute(
                insert(coupons)
                .values(_coupon(application_id, campaign_id, code, **values))
                .returning(coupons.c.id)
            ).scalar_one()
        reserved = coupon_ids[f"RESERVED-{tag}"]
        connection.execute(
            insert(coupon_reservations).values(
                coupon_id=reserved, integration_id=who, workspace_id=ws, created_at=NOW
            )
        )
        connection.execute(
            insert(coupon_redemptions).values(
                coupon_id=reserved, integration_id=who, workspace_id=ws, count=1
            )
        )
        referral_id = connection.execute(
            insert(referrals)
            .values(
                application_id=application_id,
                campaign_id=campaign_id,
                code=f"REF-{tag}",
                lookup=f"REF-{tag}",
                advocate_integration_id=who,
                usage_limit=3,
                usage_counter=1,
                attributes={},
                created_at=NOW,
            )
            .returning(referrals.c.id)
        ).scalar_one()
        key = {"application_id": application_id, "key": f"key-{who}"}
        connection.execute(
            insert(idempotent_answers).values(
                **key, request_hash="h", status=200, body=f'{{"of": "{who}"}}', created_at=NOW
            )
        )
        connection.execute(insert(idempotent_profiles).values(**key, integration_id=who))
        connection.execute(
            insert(referral_redemptions).values(
                referral_id=referral_id, integration_id=f"friend-of-{who}", workspace_id=ws, count=1
            )
        )
        program_id = _loyalty(connection, ws, application_id, who, tag)
        _sessions(connection, ws, application_id, who, tag)
        connection.execute(
            insert(campaign_usage),
            [
                {"campaign_id": campaign_id, "action": "redeemCoupon", "integration_id": who,
                 "used": Decimal(1)},
                {"campaign_id": campaign_id, "action": "redeemCoupon", "integration_id": "",
                 "used": Decimal(1)},
            ],
        )  # fmt: skip
    engine.dispose()
    return Seeded(campaign_id, coupon_ids, referral_id, program_id)


def _loyalty(connection: Any, ws: str, application_id: int, who: str, tag: str) -> int:
    program_id: int = connection.execute(
        insert(loyalty_programs)
        .values(
            workspace_id=ws,
            name=f"club-{tag}",
            title=f"Club {tag}",
            subscribed_applications=[application_id],
            default_validity="unlimited",
            default_pending="immediate",
            timezone="UTC",
            created_at=NOW,
            updated_at=NOW,
        )
        .returning(loyalty_programs.c.id)
    ).scalar_one()
    entry = {
        "program_id": program_id,
        "integration_id": who,
        "subledger_id": "",
        "transaction_uuid": "t",
        "created_at": NOW,
        "application_id": application_id,
        "start_date": None,
        "expiry_date": None,
    }
    connection.execute(
        insert(loyalty_ledger),
        [
            {**entry, "type": "addition", "amount": Decimal(100), "remaining": Decimal(70)},
            {**entry, "type": "subtraction", "amount": Decimal(30), "remaining": Decimal(0)},
            {**entry, "type": "addition", "amount": Decimal(20), "remaining": Decimal(20),
             "start_date": NOW + DAY},
            {**entry, "type": "addition", "amount": Decimal(5), "remaining": Decimal(5),
             "expiry_date": NOW - DAY},
        ],
    )  # fmt: skip
    return program_id


def _sessions(connection: Any, ws: str, application_id: int, who: str, tag: str) -> None:
    session = {
        "application_id": application_id,
        "workspace_id": ws,
        "profile_integration_id": who,
        "data": {},
        "first_session": 0,
        "update_count": 1,
        "effects": [],
        "created_at": NOW,
        "updated_at": NOW,
    }
    connection.execute(
        insert(customer_sessions),
        [
            {**session, "integration_id": f"s1-{tag}", "state": "closed",
             "total": Decimal("19.5"), "closed_at": NOW},
            {**session, "integration_id": f"s2-{tag}", "state": "closed",
             "total": Decimal("10.25"), "closed_at": NOW},
            {**session, "integration_id": f"s3-{tag}", "state": "open",
             "total": Decimal(99), "closed_at": None},
        ],
    )  # fmt: skip


def add_audience(database_url: str, workspace: str, name: str) -> int:
    """A static customer segment with a Talon audience id."""
    ws = workspace_id(database_url, workspace)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        segment_id = f"seg_{name}"
        connection.execute(
            insert(customer_segments).values(
                id=segment_id, workspace_id=ws, name=name, type="static",
                created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        audience_id: int = connection.execute(
            insert(audiences)
            .values(workspace_id=ws, segment_id=segment_id, created_at=NOW)
            .returning(audiences.c.id)
        ).scalar_one()
    engine.dispose()
    return audience_id


PROMOTION_TABLES = {
    "sessions": (customer_sessions, customer_sessions.c.profile_integration_id),
    "coupon_reservations": (coupon_reservations, coupon_reservations.c.integration_id),
    "coupon_redemptions": (coupon_redemptions, coupon_redemptions.c.integration_id),
    "coupon_recipients": (coupons, coupons.c.recipient_integration_id),
    "referrals": (referrals, referrals.c.advocate_integration_id),
    "ledger_entries": (loyalty_ledger, loyalty_ledger.c.integration_id),
    "usage_counters": (campaign_usage, campaign_usage.c.integration_id),
    "idempotent_answers": (idempotent_profiles, idempotent_profiles.c.integration_id),
}


def rows_naming(database_url: str, who: str) -> dict[str, int]:
    """How many promotions rows name ``who``, by kind."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        counts = {}
        for kind, (table, column) in PROMOTION_TABLES.items():
            query = select(func.count()).select_from(table).where(column == who)
            counts[kind] = int(connection.scalar(query) or 0)
    engine.dispose()
    return counts


def anonymous_counters(database_url: str) -> tuple[list[int], list[int]]:
    """Every coupon's and referral's usage counter, and the overall campaign usage rows."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        coupon_counts = list(connection.scalars(select(coupons.c.usage_counter)))
        overall = select(func.count()).where(campaign_usage.c.integration_id == "")
        referral_counts = list(connection.scalars(select(referrals.c.usage_counter)))
        usage = int(connection.scalar(overall) or 0)
    engine.dispose()
    return [*sorted(coupon_counts), usage], sorted(referral_counts)
