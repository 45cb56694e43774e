"""Referral codes: made for advocates, used by friends, counted within their limit.

A code is the campaign's referral pattern (``referralSettings``:
``couponPattern``, ``#`` = one of ``validCharacters``) filled at random; it
is unique in its application as the application compares codes (its case
sensitivity, :func:`~patron.domain.promotions.codes.lookup_key`). A code
that comes out taken is drawn again; a batch (``create_many``) is written in
one transaction, all or nothing.

Using a code (a closed session, the sessions part) is one conditional
update that never takes the counter past the limit, however many sessions
close at once (:meth:`ReferralUnit.redeem_referral`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, NotFound, Problem
from patron.domain.promotions import codes
from patron.domain.promotions.campaign_records import CampaignRecord, code_settings
from patron.domain.promotions.campaigns import CodeSettings
from patron.domain.promotions.model import Application, Referral
from patron.domain.promotions.referral_requests import (
    ReferralRequest,
    parse_many,
    parse_new_referral,
    parse_update,
)
from patron.domain.store import Store
from patron.ids import new_id

DRAWS = 20  # rounds of drawing codes again before a pattern counts as full
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ReferralRecord:
    """A referral code as stored."""

    id: int
    application_id: int
    campaign_id: int
    code: str
    advocate_integration_id: str
    friend_integration_id: str | None = None
    usage_limit: int = 1  # 0: unlimited
    usage_counter: int = 0
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    batch_id: str | None = None
    created_at: datetime | None = None

    def engine(self) -> Referral:
        """The rule engine's view of it."""
        return Referral(
            id=self.id,
            code=self.code,
            campaign_id=self.campaign_id,
            advocate_integration_id=self.advocate_integration_id,
            friend_integration_id=self.friend_integration_id or "",
            usage_limit=self.usage_limit,
            usage_counter=self.usage_counter,
            start_date=self.start_date,
            expiry_date=self.expiry_date,
            attributes=self.attributes,
            created_at=self.created_at,
        )


@dataclass(frozen=True, slots=True)
class ReferralQuery:
    """A page of a campaign's referrals (``get_referrals_without_total_count``)."""

    skip: int = 0
    limit: int = MAX_PAGE
    descending: bool = False  # by id (= by creation)
    code: str | None = None  # contained, case-insensitively
    advocate: str | None = None
    usable: bool | None = None  # usage counter below the limit (or unlimited)
    valid: str | None = None  # expired, validNow or validFuture
    created_before: datetime | None = None
    created_after: datetime | None = None


class ReferralUnit(Protocol):
    """Storage of referral codes (and the application and campaign they belong to)."""

    def get_application(self, workspace_id: str, application_id: int) -> Application | None: ...

    def get_campaign(self, application_id: int, campaign_id: int) -> CampaignRecord | None: ...

    def taken_referral_lookups(self, application_id: int, lookups: Collection[str]) -> set[str]:
        """Which of these lookup keys the application's referrals already use."""
        ...

    def insert_referrals(
        self, referrals: Sequence[ReferralRecord], case_sensitivity: str
    ) -> list[ReferralRecord]:
        """Store new referrals (ids assigned), each with its lookup key."""
        ...

    def get_referral(
        self, application_id: int, campaign_id: int, referral_id: int
    ) -> ReferralRecord | None: ...

    def save_referral(self, referral: ReferralRecord) -> None:
        """Write the changeable fields (friend, limit, dates, attributes) back."""
        ...

    def delete_referral(self, referral_id: int) -> None: ...

    def list_referrals(
        self, application_id: int, campaign_id: int, query: ReferralQuery, now: datetime
    ) -> list[ReferralRecord]: ...

    def referral_for_code(
        self, application_id: int, case_sensitivity: str, code: str
    ) -> Referral | None: ...

    def redeem_referral(self, referral_id: int, friend_integration_id: str) -> str | None:
        """Count one use by the friend within the limit: None, or ``ReferralLimitReached``."""
        ...

    def unredeem_referral(self, referral_id: int, friend_integration_id: str) -> None: ...


def draw_codes(
    settings: CodeSettings,
    count: int,
    case_sensitivity: str,
    taken: Callable[[Collection[str]], set[str]],
) -> list[str]:
    """``count`` random codes of the pattern, unique among themselves and not ``taken``."""
    chosen: dict[str, str] = {}  # lookup key -> code
    for _ in range(DRAWS):
        wanted = count - len(chosen)
        if not wanted:
            break
        drawn: dict[str, str] = {}
        for _ in range(wanted):
            code = codes.fill_pattern(
                settings.pattern, settings.valid_characters, secrets.token_hex(16)
            )
            key = codes.lookup_key(code, case_sensitivity)
            if key not in chosen:
                drawn.setdefault(key, code)
        used = taken(list(drawn))
        chosen.update({k: c for k, c in drawn.items() if k not in used})
    if len(chosen) < count:
        raise Conflict("the referral pattern has no free codes left: use a longer pattern")
    return list(chosen.values())[:count]


class ReferralService:
    """Creates referral codes (Integration API) and manages them (Management API)."""

    def __init__(self, store: Store[ReferralUnit], clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def create(
        self, workspace_id: str, application_id: int, body: Mapping[str, Any]
    ) -> ReferralRecord:
        """``POST /v1/referrals``: one code for the advocate."""
        request = parse_new_referral(body)
        (made,) = await self._make(workspace_id, application_id, request, batch=False)
        return made

    async def create_many(
        self, workspace_id: str, application_id: int, body: Mapping[str, Any]
    ) -> list[ReferralRecord]:
        """``POST /v1/referrals_for_multiple_advocates``: one code per advocate, in one batch."""
        return await self._make(workspace_id, application_id, parse_many(body), batch=True)

    async def _make(
        self, workspace_id: str, application_id: int, request: ReferralRequest, *, batch: bool
    ) -> list[ReferralRecord]:
        now = self.clock()
        batch_id = new_id("batch") if batch else None

        def work(unit: ReferralUnit) -> list[ReferralRecord]:
            application = _application(unit, workspace_id, application_id)
            settings = _settings(unit, application_id, request)
            sensitivity = application.case_sensitivity
            made = draw_codes(
                settings,
                len(request.advocates),
                sensitivity,
                lambda keys: unit.taken_referral_lookups(application_id, keys),
            )
            terms = request.terms
            rows = [
                ReferralRecord(
                    id=0,
                    application_id=application_id,
                    campaign_id=request.campaign_id,
                    code=code,
                    advocate_integration_id=advocate,
                    friend_integration_id=request.friend,
                    usage_limit=terms.usage_limit,
                    start_date=terms.start_date,
                    expiry_date=terms.expiry_date,
                    attributes=dict(terms.attributes),
                    batch_id=batch_id,
                    created_at=now,
                )
                for code, advocate in zip(made, request.advocates, strict=True)
            ]
            return unit.insert_referrals(rows, sensitivity)

        return await self.store.write(work, size=len(request.advocates))

    async def update(
        self,
        workspace_id: str,
        application_id: int,
        campaign_id: int,
        referral_id: int,
        body: Mapping[str, Any],
    ) -> ReferralRecord:
        changes = parse_update(body)

        def work(unit: ReferralUnit) -> ReferralRecord:
            current = _referral(unit, workspace_id, application_id, campaign_id, referral_id)
            updated = replace(current, **dict(changes.values))
            start, expiry = updated.start_date, updated.expiry_date
            if start is not None and expiry is not None and expiry <= start:
                raise Invalid.of([Problem("must be after startDate", "expiryDate")])
            unit.save_referral(updated)
            return updated

        return await self.store.write(work)

    async def delete(
        self, workspace_id: str, application_id: int, campaign_id: int, referral_id: int
    ) -> None:
        def work(unit: ReferralUnit) -> None:
            _referral(unit, workspace_id, application_id, campaign_id, referral_id)
            unit.delete_referral(referral_id)

        await self.store.write(work)

    async def page(
        self, workspace_id: str, application_id: int, campaign_id: int, query: ReferralQuery
    ) -> tuple[list[ReferralRecord], bool]:
        """A page of the campaign's referrals, and whether there are more."""
        now = self.clock()

        def work(unit: ReferralUnit) -> tuple[list[ReferralRecord], bool]:
            _application(unit, workspace_id, application_id)
            if unit.get_campaign(application_id, campaign_id) is None:
                raise NotFound("campaign", campaign_id)
            found = unit.list_referrals(
                application_id, campaign_id, replace(query, limit=query.limit + 1), now
            )
            return found[: query.limit], len(found) > query.limit

        return await self.store.read(work)


def _application(unit: ReferralUnit, workspace_id: str, application_id: int) -> Application:
    found = unit.get_application(workspace_id, application_id)
    if found is None:
        raise NotFound("application", application_id)
    return found


def _settings(unit: ReferralUnit, application_id: int, request: ReferralRequest) -> CodeSettings:
    """The campaign's referral settings, overridden by the request's pattern and characters."""
    campaign = unit.get_campaign(application_id, request.campaign_id)
    if campaign is None:
        raise Invalid.of([Problem("no campaign of this application has this id", "campaignId")])
    if "referrals" not in campaign.features:
        raise Invalid.of(
            [Problem("the campaign does not have the referrals feature", "campaignId")]
        )
    settings = code_settings(campaign.referral_settings)
    if request.pattern is None and request.valid_characters is None:
        return settings
    try:
        return CodeSettings(
            pattern=request.pattern or settings.pattern,
            valid_characters=request.valid_characters or settings.valid_characters,
        )
    except Invalid as invalid:
        names = {"couponPattern": "referralPattern"}
        raise Invalid.of(
            [replace(p, field=names.get(p.field or "", p.field)) for p in invalid.problems]
        ) from None


def _referral(
    unit: ReferralUnit, workspace_id: str, application_id: int, campaign_id: int, referral_id: int
) -> ReferralRecord:
    _application(unit, workspace_id, application_id)
    found = unit.get_referral(application_id, campaign_id, referral_id)
    if found is None:
        raise NotFound("referral", referral_id)
    return found
