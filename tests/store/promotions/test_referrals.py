"""Referral codes in SQL: looked up by the application's case sensitivity, counted
within their limit however many transactions use one at once (both databases)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select

from patron.domain.promotions.referrals import ReferralRecord
from patron.store.database import Database
from patron.store.promotions.tables import applications, campaigns, referral_redemptions
from patron.store.schema import workspaces
from patron.store.unit import SqlUnit

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    with database.writer.begin() as connection:
        connection.execute(insert(workspaces).values(id="ws_r", name="ws_r", created_at=NOW))
        for app_id, sensitivity in ((1, "sensitive"), (2, "insensitive-uppercase")):
            connection.execute(insert(applications).values(application_row(app_id, sensitivity)))
            connection.execute(insert(campaigns).values(campaign_row(app_id * 10, app_id)))
    try:
        yield database
    finally:
        database.dispose()


def application_row(app_id: int, sensitivity: str) -> dict[str, Any]:
    return {
        "id": app_id,
        "workspace_id": "ws_r",
        "name": f"app {app_id}",
        "currency": "EUR",
        "timezone": "UTC",
        "case_sensitivity": sensitivity,
        "attributes": {},
        "settings": {},
        "promotions_version": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }


def campaign_row(campaign_id: int, app_id: int) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "application_id": app_id,
        "name": "Friends",
        "state": "enabled",
        "features": ["referrals"],
        "tags": [],
        "limits": [],
        "referral_settings": {"couponPattern": "REF-####", "validCharacters": ["A", "B"]},
        "attributes": {},
        "created_at": NOW,
        "updated_at": NOW,
    }


def add_referral(
    database: Database,
    code: str,
    *,
    app_id: int = 1,
    limit: int = 1,
    sensitivity: str = "sensitive",
) -> ReferralRecord:
    record = ReferralRecord(
        0, app_id, app_id * 10, code, "advocate", usage_limit=limit, created_at=NOW
    )
    with database.writer.begin() as connection:
        [made] = SqlUnit(connection).insert_referrals([record], sensitivity)
    return made


def test_codes_are_found_as_the_application_compares_them(database: Database) -> None:
    sensitive = add_referral(database, "Ref-AbCd")
    folded = add_referral(database, "Ref-XyZw", app_id=2, sensitivity="insensitive-uppercase")
    with database.reader.connect() as connection:
        unit = SqlUnit(connection)
        found = unit.referral_for_code(1, "sensitive", "Ref-AbCd")
        assert found is not None
        assert (found.id, found.code, found.campaign_id) == (sensitive.id, "Ref-AbCd", 10)
        assert unit.referral_for_code(1, "sensitive", "REF-ABCD") is None
        again = unit.referral_for_code(2, "insensitive-uppercase", "ref-xyzw")
        assert again is not None
        assert again.id == folded.id
        assert unit.referral_for_code(2, "insensitive-uppercase", "Ref-AbCd") is None  # other app
        assert unit.taken_referral_lookups(2, ["ref-xyzw", "ref-none"]) == {"ref-xyzw"}


def test_redeeming_counts_up_to_the_limit_and_unredeeming_gives_it_back(
    database: Database,
) -> None:
    referral = add_referral(database, "REF-TWO", limit=2)
    with database.writer.begin() as connection:
        unit = SqlUnit(connection)
        assert unit.redeem_referral(referral.id, "friend-1") is None
        assert unit.redeem_referral(referral.id, "friend-1") is None
        assert unit.redeem_referral(referral.id, "friend-2") == "ReferralLimitReached"
        unit.unredeem_referral(referral.id, "friend-1")
        assert unit.redeem_referral(referral.id, "friend-2") is None
        found = unit.referral_for_code(1, "sensitive", "REF-TWO")
        assert found is not None
        assert found.usage_counter == 2
        counts = dict(
            connection.execute(
                select(referral_redemptions.c.integration_id, referral_redemptions.c.count)
            ).all()
        )
    assert counts == {"friend-1": 1, "friend-2": 1}


def test_an_unlimited_code_counts_every_use(database: Database) -> None:
    referral = add_referral(database, "REF-ANY", limit=0)
    with database.writer.begin() as connection:
        unit = SqlUnit(connection)
        assert all(unit.redeem_referral(referral.id, f"f{i}") is None for i in range(5))
        found = unit.referral_for_code(1, "sensitive", "REF-ANY")
    assert found is not None
    assert found.usage_counter == 5


@pytest.mark.parametrize("limit", [1, 3])
def test_concurrent_redemptions_never_pass_the_limit(
    database: Database, database_url: str, limit: int
) -> None:
    """Many transactions at once (each on its own connection on PostgreSQL): exactly
    ``limit`` of them redeem, the others are told the limit is reached."""
    referral = add_referral(database, f"REF-RACE{limit}", limit=limit)
    attempts = 8
    engine = (
        database.writer
        if database_url.startswith("sqlite")
        else create_engine(database_url, pool_size=attempts, max_overflow=0)
    )
    start = threading.Barrier(attempts)
    answers: list[Any] = []

    def redeem(index: int) -> None:
        try:
            start.wait(timeout=30)
            with engine.begin() as connection:
                answers.append(SqlUnit(connection).redeem_referral(referral.id, f"friend-{index}"))
        except BaseException as error:  # reported by the assertion below
            answers.append(error)

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if engine is not database.writer:
        engine.dispose()
    assert sorted(map(str, answers)) == sorted(
        ["None"] * limit + ["ReferralLimitReached"] * (attempts - limit)
    )
    with database.reader.connect() as connection:
        found = SqlUnit(connection).referral_for_code(1, "sensitive", f"REF-RACE{limit}")
        friends = connection.execute(select(referral_redemptions.c.integration_id)).all()
    assert found is not None
    assert found.usage_counter == limit
    assert len(friends) == limit
