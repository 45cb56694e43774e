"""Campaign usage counters, idempotent answers and session locks, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from patron.domain.promotions.idempotency import StoredAnswer
from patron.services import Services
from patron.store.promotions.sessions import promotion_lock_number
from tests.conftest import make_workspace
from tests.domain.promotions.sessions_support import coupon_campaign

pytestmark = pytest.mark.anyio


async def campaign(services: Services) -> tuple[int, int]:
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    made = await coupon_campaign(services, workspace.id, issued.application.id)
    return issued.application.id, made


async def test_usage_counters_never_pass_their_limit(services: Services) -> None:
    _application_id, campaign_id = await campaign(services)

    async def take_async(amount: str, limit: str | None, who: str = "") -> bool:
        return bool(
            await services.store.write(
                lambda unit: unit.take_campaign_usage(
                    campaign_id,
                    "setDiscount",
                    who,
                    Decimal(amount),
                    Decimal(limit) if limit else None,
                )
            )
        )

    assert not await take_async("12.5", "10")  # a first use over the limit: nothing
    assert await take_async("7.25", "10")
    assert await take_async("2.75", "10")  # exactly at the limit
    assert not await take_async("0.01", "10")
    assert await take_async("100", None)  # no limit: counted all the same
    assert await take_async("3", "5", who="alice")

    usage = await services.store.read(lambda unit: unit.campaign_usage([campaign_id], "alice"))
    assert usage[campaign_id].campaign == {"setDiscount": Decimal("110")}
    assert usage[campaign_id].profile == {"setDiscount": Decimal(3)}

    await services.store.write(
        lambda unit: unit.return_campaign_usage(campaign_id, "setDiscount", "", Decimal("10"))
    )
    usage = await services.store.read(lambda unit: unit.campaign_usage([campaign_id], ""))
    assert usage[campaign_id].campaign == {"setDiscount": Decimal("100")}
    assert usage[campaign_id].profile == {}


async def test_concurrent_takes_stop_at_the_limit(services: Services) -> None:
    _application_id, campaign_id = await campaign(services)
    results = await asyncio.gather(
        *(
            services.store.write(
                lambda unit: unit.take_campaign_usage(
                    campaign_id, "redeemCoupon", "", Decimal(1), Decimal(3)
                )
            )
            for _ in range(8)
        )
    )
    assert sorted(results) == [False] * 5 + [True] * 3


async def test_idempotent_answers_expire(services: Services) -> None:
    application_id, _campaign_id = await campaign(services)
    now = datetime.now(UTC)
    old = StoredAnswer("d", 200, "{}", now - timedelta(hours=25))
    await services.store.write(
        lambda unit: unit.keep_idempotent_answer(application_id, "k", old, now - timedelta(days=9))
    )
    since = now - timedelta(hours=24)
    found = await services.store.read(
        lambda unit: unit.idempotent_answer(application_id, "k", since)
    )
    assert found is None  # kept too long ago
    fresh = StoredAnswer("d2", 201, '{"a": 1}', now)
    await services.store.write(
        lambda unit: unit.keep_idempotent_answer(application_id, "k", fresh, since)
    )
    found = await services.store.read(
        lambda unit: unit.idempotent_answer(application_id, "k", since)
    )
    assert found == fresh


@pytest.mark.postgres
async def test_a_held_session_lock_is_waited_for_then_refused(postgres_url: str) -> None:
    from patron.services import open_services
    from patron.settings import Settings

    services = await open_services(Settings(database_url=postgres_url))
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as other, other.begin():
            other.execute(
                text("SELECT pg_advisory_xact_lock(:n)"),
                {"n": promotion_lock_number("session:1:s")},
            )
            held = await services.store.write(
                lambda unit: unit.lock_promotion_keys(["session:1:s"], 50)
            )
            free = await services.store.write(
                lambda unit: unit.lock_promotion_keys(["session:1:t"], 50)
            )
            assert (held, free) == (False, True)
        # Released with the other transaction: taken at once now.
        assert await services.store.write(
            lambda unit: unit.lock_promotion_keys(["session:1:s"], 50)
        )
    finally:
        engine.dispose()
        await services.close()
