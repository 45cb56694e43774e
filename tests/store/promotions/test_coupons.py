"""Coupon codes, their lookups and queries, on both databases (through the services)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from patron.domain.errors import Conflict, Invalid, NotFound
from patron.domain.promotions.coupon_model import CouponQuery, CouponTerms
from patron.domain.promotions.coupons import CodeRequest, CouponChanges
from patron.services import Services
from tests.conftest import make_workspace
from tests.store.promotions.support import campaign_of

pytestmark = pytest.mark.anyio


async def shop(services: Services, database_url: str, sensitivity: str = "sensitive") -> tuple:
    workspace = await make_workspace(services)
    issued = await services.applications.create(
        workspace=workspace.name, name="Shop", case_sensitivity=sensitivity
    )
    application_id = issued.application.id
    campaign_id = await campaign_of(
        services,
        workspace.id,
        application_id,
        {"couponPattern": "SPRING-####", "validCharacters": list("ABC123")},
    )
    return workspace.id, application_id, campaign_id


async def test_codes_follow_the_campaigns_settings_or_the_requests_pattern(
    services: Services, database_url: str
) -> None:
    workspace_id, application_id, campaign_id = await shop(services, database_url)
    place = {"workspace_id": workspace_id, "application_id": application_id}
    made = await services.coupons.create(
        **place, campaign_id=campaign_id, terms=CouponTerms(usage_limit=2),
        request=CodeRequest(count=5),
    )  # fmt: skip
    assert made.count == 5
    assert len(made.coupons) == 5
    assert all(re.fullmatch(r"SPRING-[ABC123]{4}", c.value) for c in made.coupons)
    assert len({c.value for c in made.coupons}) == 5
    assert {c.batch_id for c in made.coupons} == {made.batch_id}
    assert all(c.terms.usage_limit == 2 and c.usage_counter == 0 for c in made.coupons)
    own = await services.coupons.create(
        **place, campaign_id=campaign_id, terms=CouponTerms(),
        request=CodeRequest(count=3, pattern="X-###", characters=("q", "r"), prefix="P"),
    )  # fmt: skip
    assert all(re.fullmatch(r"PX-[qr]{3}", c.value) for c in own.coupons)


async def test_a_taken_code_is_drawn_again_until_the_pattern_runs_out(
    services: Services, database_url: str
) -> None:
    workspace_id, application_id, campaign_id = await shop(services, database_url)
    place = {"workspace_id": workspace_id, "application_id": application_id}
    request = CodeRequest(count=2, pattern="XY##", characters=("A", "B"))  # 4 codes in all
    first = await services.coupons.create(
        **place, campaign_id=campaign_id, terms=CouponTerms(), request=request
    )
    second = await services.coupons.create(
        **place, campaign_id=campaign_id, terms=CouponTerms(), request=request
    )
    values = {c.value for c in first.coupons + second.coupons}
    assert values == {"XYAA", "XYAB", "XYBA", "XYBB"}
    with pytest.raises(Conflict):
        await services.coupons.create(
            **place, campaign_id=campaign_id, terms=CouponTerms(),
            request=CodeRequest(count=1, pattern="XY##", characters=("A", "B")),
        )  # fmt: skip


async def test_codes_are_unique_as_the_application_compares_them(
    services: Services, database_url: str
) -> None:
    for sensitivity, clash in (("insensitive-uppercase", True), ("sensitive", False)):
        workspace_id, application_id, campaign_id = await shop(services, database_url, sensitivity)
        place = {"workspace_id": workspace_id, "application_id": application_id}
        await services.coupons.create(
            **place, campaign_id=campaign_id, terms=CouponTerms(),
            request=CodeRequest(codes=("Summer-2025",)),
        )  # fmt: skip
        again = services.coupons.create(
            **place, campaign_id=campaign_id, terms=CouponTerms(),
            request=CodeRequest(count=1, pattern="SUMMER-2025"),  # no #: one fixed code
        )  # fmt: skip
        if clash:
            with pytest.raises(Conflict):
                await again
        else:
            assert [c.value for c in (await again).coupons] == ["SUMMER-2025"]


async def test_a_large_batch_is_stored_in_chunks_with_progress(
    services: Services, database_url: str
) -> None:
    workspace_id, application_id, campaign_id = await shop(services, database_url)
    told: list[int] = []
    made = await services.coupons.create(
        workspace_id=workspace_id, application_id=application_id, campaign_id=campaign_id,
        terms=CouponTerms(), request=CodeRequest(count=12_000, pattern="BIG-########"),
        return_coupons=False, progress=told.append,
    )  # fmt: skip
    assert made.count == 12_000
    assert made.coupons == []
    assert told == [5_000, 10_000, 12_000]
    query = CouponQuery(application_id=application_id, batch_id=made.batch_id, limit=1000)
    pages = []
    for skip in range(0, 13_000, 1000):
        pages.extend(await services.coupons.find(workspace_id=workspace_id, query=CouponQuery(
            application_id=application_id, batch_id=made.batch_id, skip=skip)))  # fmt: skip
    assert len(pages) == 12_000 == len({c.value for c in pages})
    assert query.limit == 1000


async def test_bad_requests_and_strangers_are_refused(
    services: Services, database_url: str
) -> None:
    workspace_id, application_id, campaign_id = await shop(services, database_url)
    place = {"workspace_id": workspace_id, "application_id": application_id}
    with pytest.raises(Invalid):
        await services.coupons.create(
            **place, campaign_id=campaign_id, terms=CouponTerms(usage_limit=1_000_000),
            request=CodeRequest(count=1),
        )  # fmt: skip
    with pytest.raises(Invalid):  # a pattern without # makes one code only
        await services.coupons.create(
            **place, campaign_id=campaign_id, terms=CouponTerms(),
            request=CodeRequest(count=2, pattern="FIXED"),
        )  # fmt: skip
    with pytest.raises(Invalid):
        await services.coupons.create(
            **place, campaign_id=campaign_id, terms=CouponTerms(),
            request=CodeRequest(count=20_001),
        )  # fmt: skip
    with pytest.raises(NotFound):
        await services.coupons.create(
            **place, campaign_id=campaign_id + 1, terms=CouponTerms(), request=CodeRequest()
        )
    other = await make_workspace(services)
    with pytest.raises(NotFound):
        await services.coupons.create(
            workspace_id=other.id, application_id=application_id, campaign_id=campaign_id,
            terms=CouponTerms(), request=CodeRequest(),
        )  # fmt: skip


async def test_filters_update_and_delete(services: Services, database_url: str) -> None:
    workspace_id, application_id, campaign_id = await shop(services, database_url)
    place = {"workspace_id": workspace_id, "application_id": application_id}
    now = datetime.now(UTC)
    expired = await services.coupons.create(
        **place, campaign_id=campaign_id,
        terms=CouponTerms(expiry_date=now - timedelta(days=1), start_date=now - timedelta(days=9)),
        request=CodeRequest(codes=("OLD-ONE",)),
    )  # fmt: skip
    future = await services.coupons.create(
        **place, campaign_id=campaign_id,
        terms=CouponTerms(start_date=now + timedelta(days=1), recipient_integration_id="ann"),
        request=CodeRequest(codes=("NEW-ONE",)),
    )  # fmt: skip
    plain = await services.coupons.create(
        **place, campaign_id=campaign_id, terms=CouponTerms(usage_limit=0),
        request=CodeRequest(codes=("ANY-TIME",)),
    )  # fmt: skip

    async def values(**filters: object) -> list[str]:
        query = CouponQuery(application_id=application_id, campaign_id=campaign_id, now=now,
                            **filters)  # type: ignore[arg-type]  # fmt: skip
        return [
            c.value for c in await services.coupons.find(workspace_id=workspace_id, query=query)
        ]

    assert await values() == ["OLD-ONE", "NEW-ONE", "ANY-TIME"]
    assert await values(valid="expired") == ["OLD-ONE"]
    assert await values(valid="validNow") == ["ANY-TIME"]
    assert await values(valid="validFuture") == ["NEW-ONE"]
    assert await values(value="one") == ["OLD-ONE", "NEW-ONE"]
    assert await values(value="new-one", exact_match=True) == ["NEW-ONE"]
    assert await values(recipient_integration_id="ann") == ["NEW-ONE"]
    assert await values(batch_id=plain.batch_id) == ["ANY-TIME"]
    assert await values(sort="-value", limit=2) == ["OLD-ONE", "NEW-ONE"]
    assert await values(sort="value", skip=1) == ["NEW-ONE", "OLD-ONE"]
    assert await values(usable=True) == ["OLD-ONE", "NEW-ONE", "ANY-TIME"]
    with pytest.raises(Invalid):
        await values(valid="sometimes")

    coupon_id = future.coupons[0].id
    updated = await services.coupons.update(
        **place, campaign_id=campaign_id, coupon_id=coupon_id,
        changes=CouponChanges({"usage_limit": 5, "discount_limit": Decimal("12.5")}),
    )  # fmt: skip
    assert (updated.terms.usage_limit, updated.terms.discount_limit) == (5, Decimal("12.5"))
    assert updated.terms.recipient_integration_id == "ann"  # kept
    await services.coupons.delete(**place, campaign_id=campaign_id, coupon_id=coupon_id)
    with pytest.raises(NotFound):
        await services.coupons.delete(**place, campaign_id=campaign_id, coupon_id=coupon_id)
    assert await values() == ["OLD-ONE", "ANY-TIME"]
    assert expired.coupons[0].terms.expiry_date is not None
