"""Redemption counters: never past a limit, however many redeem at once.

The acceptance part races real transactions: threads with connections of
their own on both databases, and on PostgreSQL two processes as well (each
with its own engine, as two ``patron serve`` processes would have).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import select

from patron.domain.promotions.coupon_model import CouponTerms
from patron.domain.promotions.coupons import CodeRequest
from patron.services import Services
from patron.store.promotions.tables import coupon_redemptions, coupons
from patron.store.unit import SqlUnit
from tests.conftest import make_workspace
from tests.store.promotions.support import campaign_of, racing_engine

pytestmark = pytest.mark.anyio

D = Decimal


async def coupon(services: Services, database_url: str, terms: CouponTerms) -> tuple[int, int]:
    """A coupon ``CODE-1`` with these terms (insensitive codes); (application id, coupon id)."""
    workspace = await make_workspace(services)
    issued = await services.applications.create(
        workspace=workspace.name, name="Shop", case_sensitivity="insensitive-lowercase"
    )
    application_id = issued.application.id
    made = await services.coupons.create(
        workspace_id=workspace.id,
        application_id=application_id,
        campaign_id=await campaign_of(services, workspace.id, application_id),
        terms=terms,
        request=CodeRequest(codes=("CODE-1",)),
    )
    return application_id, made.coupons[0].id


def redeem(database_url: str, coupon_id: int, integration_id: str, attempts: int) -> int:
    """Redeem ``attempts`` times, a transaction each, on an engine of its own; successes."""
    engine = racing_engine(database_url)
    won = 0
    try:
        for _ in range(attempts):
            with engine.begin() as connection:
                refused = SqlUnit(connection).redeem_coupon(coupon_id, integration_id, D(1))
            won += refused is None
    finally:
        engine.dispose()
    return won


def redeem_in_threads(
    database_url: str, coupon_id: int, integration_ids: list[str], attempts: int
) -> int:
    with ThreadPoolExecutor(len(integration_ids)) as pool:
        runs = [
            pool.submit(redeem, database_url, coupon_id, integration_id, attempts)
            for integration_id in integration_ids
        ]
        return sum(run.result() for run in runs)


def counters(database_url: str, coupon_id: int) -> tuple[int, Decimal, dict[str, int]]:
    engine = racing_engine(database_url)
    try:
        with engine.connect() as connection:
            usage, discount = connection.execute(
                select(coupons.c.usage_counter, coupons.c.discount_counter).where(
                    coupons.c.id == coupon_id
                )
            ).one()
            per_customer = connection.execute(
                select(coupon_redemptions.c.integration_id, coupon_redemptions.c.count).where(
                    coupon_redemptions.c.coupon_id == coupon_id
                )
            )
            return usage, discount, {row[0]: row[1] for row in per_customer}
    finally:
        engine.dispose()


async def test_each_limit_refuses_and_changes_nothing(
    services: Services, database_url: str
) -> None:
    terms = CouponTerms(usage_limit=3, per_profile_limit=2, discount_limit=D("25"))
    application_id, coupon_id = await coupon(services, database_url, terms)

    def step(integration_id: str, discount: str) -> str | None:
        return redeem_once(services, coupon_id, integration_id, D(discount))

    assert await step("ann", "10") is None
    assert await step("ann", "10") is None
    assert await step("ann", "1") == "ProfileLimitReached"
    assert await step("bob", "6") == "CouponLimitReached"  # 26 > 25: over the discount limit
    assert await step("", "1") == "ProfileRequired"  # a per-profile limit needs a profile
    assert counters(database_url, coupon_id) == (2, D(20), {"ann": 2})
    assert await step("bob", "5") is None
    assert await step("cid", "0") == "CouponLimitReached"  # 3 of 3 used
    assert counters(database_url, coupon_id) == (3, D(25), {"ann": 2, "bob": 1})

    await services.store.write(lambda unit: unit.unredeem_coupon(coupon_id, "ann", D(10)))
    assert counters(database_url, coupon_id) == (2, D(15), {"ann": 1, "bob": 1})
    views = await services.store.read(
        lambda unit: unit.coupons_for_codes(
            application_id, "insensitive-lowercase", ["code-1", "CODE-1", "nope"], "ann"
        )
    )
    assert set(views) == {"code-1", "CODE-1"}
    view = views["code-1"]
    assert (view.usage_counter, view.profile_redemptions, view.per_profile_limit) == (2, 1, 2)
    assert (view.discount_limit, view.discount_counter, view.code) == (D(25), D(15), "CODE-1")
    assert view.reserved_by == frozenset()


async def redeem_once(
    services: Services, coupon_id: int, integration_id: str, discount: Decimal
) -> str | None:
    return await services.store.write(
        lambda unit: unit.redeem_coupon(coupon_id, integration_id, discount)
    )


async def test_redemptions_in_one_group_commit_stop_at_the_limit(
    services: Services, database_url: str
) -> None:
    """Many requests' redemptions may share one transaction: the limit holds inside it too."""
    import asyncio

    _, coupon_id = await coupon(services, database_url, CouponTerms(usage_limit=7))
    results = await asyncio.gather(
        *(redeem_once(services, coupon_id, f"c{n}", D(1)) for n in range(30))
    )
    assert results.count(None) == 7
    assert set(results) == {None, "CouponLimitReached"}
    assert counters(database_url, coupon_id)[0] == 7


async def test_threads_racing_for_a_coupon_get_exactly_its_limit(
    services: Services, database_url: str
) -> None:
    _, coupon_id = await coupon(services, database_url, CouponTerms(usage_limit=9))
    won = redeem_in_threads(database_url, coupon_id, [f"t{n}" for n in range(6)], attempts=4)
    assert won == 9
    usage, _, per_customer = counters(database_url, coupon_id)
    assert usage == 9
    assert sum(per_customer.values()) == 9


async def test_threads_of_one_customer_get_exactly_the_per_profile_limit(
    services: Services, database_url: str
) -> None:
    terms = CouponTerms(usage_limit=0, per_profile_limit=4)
    _, coupon_id = await coupon(services, database_url, terms)
    won = redeem_in_threads(database_url, coupon_id, ["ann"] * 6, attempts=3)
    assert won == 4
    assert counters(database_url, coupon_id) == (4, D(4), {"ann": 4})


@pytest.mark.postgres
async def test_two_processes_racing_on_postgresql(postgres_url: str) -> None:
    from patron.services import open_services
    from patron.settings import Settings

    services = await open_services(Settings(database_url=postgres_url))
    try:
        _, shared = await coupon(services, postgres_url, CouponTerms(usage_limit=11))
        _, personal = await coupon(
            services, postgres_url, CouponTerms(usage_limit=0, per_profile_limit=5)
        )
    finally:
        await services.close()
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as processes:
        shared_runs = [
            processes.apply_async(
                redeem_in_threads, (postgres_url, shared, [f"p{p}t{t}" for t in range(4)], 4)
            )
            for p in range(2)
        ]
        personal_runs = [
            processes.apply_async(redeem_in_threads, (postgres_url, personal, ["ann"] * 4, 3))
            for _ in range(2)
        ]
        assert sum(run.get(timeout=300) for run in shared_runs) == 11
        assert sum(run.get(timeout=300) for run in personal_runs) == 5
    assert counters(postgres_url, shared)[0] == 11
    assert counters(postgres_url, personal) == (5, D(5), {"ann": 5})
