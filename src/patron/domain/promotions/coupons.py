"""Coupons of a campaign: created in bulk from a pattern (or given), updated, listed, deleted.

Codes are unique per application as the application compares them
(``codes.lookup_key`` — the ``lookup`` column). A random code that is taken
already, or drawn twice, is drawn again. A creation is one transaction: its
codes are checked against the stored ones and inserted in chunks of
:data:`CHUNK` (a statement per chunk, not per code), so 100,000 codes are a
few hundred statements; it is all or nothing.

Redemption counters are the store's (``redeem_coupon`` / ``unredeem_coupon``:
conditional updates that never pass a limit); reservations are in
:mod:`.reservations`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, NotFound, Problem
from patron.domain.promotions.applications import ApplicationUnit
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.codes import lookup_key
from patron.domain.promotions.coupon_codes import (
    MAX_CODE,
    MIN_CODE,
    check_pattern,
    random_codes,
    settings_of,
)
from patron.domain.promotions.coupon_model import (
    MAX_INTEGRATION_ID,
    SORTS,
    VALID_FILTERS,
    Batch,
    CouponQuery,
    CouponTerms,
    CreatedBatch,
    NewCoupon,
    ReservedProfile,
    StoredCoupon,
)
from patron.domain.promotions.model import Application
from patron.domain.store import Store
from patron.domain.tenancy.service import require_workspace
from patron.ids import new_id

CHUNK = 5_000  # codes per insert statement (and per progress report)
MAX_ATTEMPTS = 30  # rounds of redrawing taken codes before giving up
MAX_RECIPIENTS = 1000  # Talon's coupons_with_recipients
API_MAX = 20_000  # Talon's create_coupons without a unique prefix
API_MAX_WITH_PREFIX = 200_000
CLI_MAX = 1_000_000

Progress = Callable[[int], None]  # told how many codes are stored so far


class CouponUnit(ApplicationUnit, Protocol):
    """Storage of coupons and their reservations (``store/promotions/coupons.py``)."""

    def get_campaign(self, application_id: int, campaign_id: int) -> CampaignRecord | None:
        """A campaign of the application that is not deleted (the campaigns part's query)."""
        ...

    def taken_lookups(self, application_id: int, lookups: Collection[str]) -> set[str]:
        """Those of ``lookups`` some coupon of the application has already."""
        ...

    def insert_coupons(self, batch: Batch, coupons: Sequence[NewCoupon]) -> None: ...

    def coupons_of_batch(self, application_id: int, batch_id: str) -> list[StoredCoupon]: ...

    def find_coupon(self, application_id: int, coupon_id: int) -> StoredCoupon | None: ...

    def coupon_by_lookup(self, application_id: int, lookup: str) -> StoredCoupon | None: ...

    def save_coupon_terms(self, coupon_id: int, terms: CouponTerms) -> None: ...

    def delete_coupons(self, coupon_ids: Collection[int]) -> None:
        """Delete the coupons with their reservations and redemption counts."""
        ...

    def query_coupons(self, query: CouponQuery) -> list[StoredCoupon]: ...

    def add_reservations(
        self, coupon_id: int, workspace_id: str, integration_ids: Collection[str], now: datetime
    ) -> None:
        """Reserve the coupon for each id (already holding one: kept as is)."""
        ...

    def remove_reservations(self, coupon_id: int, integration_ids: Collection[str]) -> None: ...

    def reserved_profiles(self, coupon_id: int, workspace_id: str) -> list[ReservedProfile]: ...


@dataclass(frozen=True, slots=True)
class CodeRequest:
    """Which codes to make: ``count`` drawn from a pattern, or the ``codes`` given.

    ``pattern``/``characters`` None: the campaign's coupon settings. A pattern
    without ``#`` is one fixed code. ``recipients``: one code for each.
    """

    count: int = 1
    pattern: str | None = None
    characters: tuple[str, ...] | None = None
    prefix: str = ""
    codes: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    batch_id: str | None = None
    maximum: int = API_MAX

    def limit(self) -> int:
        return API_MAX_WITH_PREFIX if self.prefix and self.maximum == API_MAX else self.maximum


@dataclass(frozen=True, slots=True)
class CouponChanges:
    """An update: the terms given replace the stored ones (None: keep)."""

    values: Mapping[str, Any]  # CouponTerms field name -> new value


class CouponService:
    """The Management API's and the CLI's coupons."""

    def __init__(self, store: Store[CouponUnit], clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def create(
        self,
        *,
        workspace_id: str,
        application_id: int,
        campaign_id: int,
        terms: CouponTerms,
        request: CodeRequest,
        return_coupons: bool = True,
        progress: Progress | None = None,
    ) -> CreatedBatch:
        """Create the codes in one transaction; with ``return_coupons``, read them back."""
        _check_request(terms, request)
        now = self.clock()

        def work(unit: CouponUnit) -> CreatedBatch:
            application = _application(unit, workspace_id, application_id)
            return _create(
                unit,
                application,
                campaign_id=campaign_id,
                terms=terms,
                request=request,
                now=now,
                progress=progress,
                return_coupons=return_coupons,
            )

        return await self.store.write(work, size=max(1, len(request.codes) or request.count))

    async def create_in_named_workspace(
        self,
        *,
        workspace: str,
        application_id: int,
        campaign_id: int,
        terms: CouponTerms,
        request: CodeRequest,
        progress: Progress | None = None,
    ) -> CreatedBatch:
        """Like :meth:`create`, for the CLI (a workspace by name; the coupons not read back)."""

        def resolve(unit: CouponUnit) -> str:
            return require_workspace(unit, workspace).id

        workspace_id = await self.store.read(resolve)
        return await self.create(
            workspace_id=workspace_id,
            application_id=application_id,
            campaign_id=campaign_id,
            terms=terms,
            request=request,
            return_coupons=False,
            progress=progress,
        )

    async def update(
        self,
        *,
        workspace_id: str,
        application_id: int,
        campaign_id: int,
        coupon_id: int,
        changes: CouponChanges,
    ) -> StoredCoupon:
        def work(unit: CouponUnit) -> StoredCoupon:
            found = _coupon(unit, workspace_id, application_id, campaign_id, coupon_id)
            terms = replace(found.terms, **dict(changes.values))
            terms.check()
            unit.save_coupon_terms(found.id, terms)
            return replace(found, terms=terms)

        return await self.store.write(work)

    async def delete(
        self, *, workspace_id: str, application_id: int, campaign_id: int, coupon_id: int
    ) -> None:
        def work(unit: CouponUnit) -> None:
            found = _coupon(unit, workspace_id, application_id, campaign_id, coupon_id)
            unit.delete_coupons([found.id])

        await self.store.write(work)

    async def delete_matching(self, *, workspace_id: str, query: CouponQuery) -> int:
        """Delete every coupon the query matches (all pages); return how many."""
        check_query(query)

        def work(unit: CouponUnit) -> int:
            _application(unit, workspace_id, query.application_id)
            deleted = 0
            while found := unit.query_coupons(replace(query, skip=0, limit=1000)):
                unit.delete_coupons([coupon.id for coupon in found])
                deleted += len(found)
            return deleted

        return await self.store.write(work)

    async def find(self, *, workspace_id: str, query: CouponQuery) -> list[StoredCoupon]:
        return (await self.page(workspace_id=workspace_id, query=query))[0]

    async def page(
        self, *, workspace_id: str, query: CouponQuery
    ) -> tuple[list[StoredCoupon], bool]:
        """The coupons the query matches, one page of them, and whether more follow."""
        check_query(query)

        def work(unit: CouponUnit) -> tuple[list[StoredCoupon], bool]:
            _application(unit, workspace_id, query.application_id)
            if query.campaign_id is not None:
                _campaign_settings(unit, query.application_id, query.campaign_id)
            found = unit.query_coupons(replace(query, limit=query.limit + 1))
            return found[: query.limit], len(found) > query.limit

        return await self.store.read(work)

    async def list_in_named_workspace(
        self, *, workspace: str, query: CouponQuery
    ) -> list[StoredCoupon]:
        def resolve(unit: CouponUnit) -> str:
            return require_workspace(unit, workspace).id

        workspace_id = await self.store.read(resolve)
        return await self.find(workspace_id=workspace_id, query=query)


def check_query(query: CouponQuery) -> None:
    problems = []
    if query.valid and query.valid not in VALID_FILTERS:
        problems.append(Problem(f"one of {', '.join(VALID_FILTERS)}", "valid"))
    if query.sort.removeprefix("-") not in SORTS:
        problems.append(Problem(f"one of {', '.join(SORTS)} (- for descending)", "sort"))
    if not 1 <= query.limit <= 1000:
        problems.append(Problem("1 to 1000", "pageSize"))
    if query.skip < 0:
        problems.append(Problem("0 or more", "skip"))
    if query.usable is not None and query.redeemed is not None:
        problems.append(Problem("not together with usable", "redeemed"))
    if problems:
        raise Invalid.of(problems)


def _check_request(terms: CouponTerms, request: CodeRequest) -> None:
    problems = terms.problems()
    if request.recipients:
        if len(request.recipients) > MAX_RECIPIENTS:
            problems.append(Problem(f"1 to {MAX_RECIPIENTS} ids", "recipientsIntegrationIds"))
        if any(not r or len(r) > MAX_INTEGRATION_ID for r in request.recipients):
            problems.append(
                Problem(f"ids of 1 to {MAX_INTEGRATION_ID} characters", "recipientsIntegrationIds")
            )
    elif request.codes:
        if any(not MIN_CODE <= len(code) <= MAX_CODE for code in request.codes):
            problems.append(Problem(f"codes of {MIN_CODE} to {MAX_CODE} characters", "codes"))
    elif not 1 <= request.count <= request.limit():
        problems.append(Problem(f"1 to {request.limit()}", "numberOfCoupons"))
    if problems:
        raise Invalid.of(problems)


def _application(unit: CouponUnit, workspace_id: str, application_id: int) -> Application:
    application = unit.get_application(workspace_id, application_id)
    if application is None:
        raise NotFound("application", application_id)
    return application


def _campaign_settings(
    unit: CouponUnit, application_id: int, campaign_id: int
) -> Mapping[str, Any]:
    """The campaign's ``couponSettings`` ({} if none), or NotFound."""
    campaign = unit.get_campaign(application_id, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign.coupon_settings or {}


def _coupon(
    unit: CouponUnit, workspace_id: str, application_id: int, campaign_id: int, coupon_id: int
) -> StoredCoupon:
    _application(unit, workspace_id, application_id)
    found = unit.find_coupon(application_id, coupon_id)
    if found is None or found.campaign_id != campaign_id:
        raise NotFound("coupon", coupon_id)
    return found


def _create(
    unit: CouponUnit,
    application: Application,
    *,
    campaign_id: int,
    terms: CouponTerms,
    request: CodeRequest,
    now: datetime,
    progress: Progress | None,
    return_coupons: bool,
) -> CreatedBatch:
    settings = _campaign_settings(unit, application.id, campaign_id)
    if request.codes:
        made = _given(unit, application, request.codes)
    else:
        made = _drawn(unit, application, request, settings)
    batch_id = request.batch_id or new_id("batch")
    batch = Batch(application.id, campaign_id, terms, batch_id, now)
    for start in range(0, len(made), CHUNK):
        unit.insert_coupons(batch, made[start : start + CHUNK])
        if progress is not None:
            progress(min(start + CHUNK, len(made)))
    coupons = unit.coupons_of_batch(application.id, batch_id) if return_coupons else []
    return CreatedBatch(batch_id, len(made), coupons)


def _given(unit: CouponUnit, application: Application, codes: Sequence[str]) -> list[NewCoupon]:
    made = {}
    for code in codes:
        key = lookup_key(code, application.case_sensitivity)
        if key in made:
            raise Invalid.of([Problem(f"{code!r} is given twice", "codes")])
        made[key] = NewCoupon(code, key)
    taken = unit.taken_lookups(application.id, list(made))
    if taken:
        raise Conflict(f"a coupon with the code {made[min(taken)].value!r} exists already")
    return list(made.values())


def _drawn(
    unit: CouponUnit, application: Application, request: CodeRequest, settings: Mapping[str, Any]
) -> list[NewCoupon]:
    default_pattern, default_characters = settings_of(settings)
    pattern = request.pattern or default_pattern
    characters = request.characters or default_characters
    recipients = request.recipients or ("",) * request.count
    count = len(recipients)
    check_pattern(pattern, characters, request.prefix, count)
    if "#" not in pattern:  # one fixed code
        return [
            replace(c, recipient_integration_id=recipients[0])
            for c in _given(unit, application, [request.prefix + pattern])
        ]
    sensitivity = application.case_sensitivity
    made: dict[str, str] = {}
    for _ in range(MAX_ATTEMPTS):
        missing = count - len(made)
        if not missing:
            break
        fresh: dict[str, str] = {}
        for code in random_codes(pattern, characters, missing, request.prefix):
            key = lookup_key(code, sensitivity)
            if key not in made:
                fresh.setdefault(key, code)
        taken = unit.taken_lookups(application.id, list(fresh))
        made.update((key, code) for key, code in fresh.items() if key not in taken)
    if len(made) < count:
        raise Conflict(f"could not find {count} unused codes for {pattern!r}: widen the pattern")
    return [
        NewCoupon(code, key, recipient)
        for (key, code), recipient in zip(made.items(), recipients, strict=True)
    ]
