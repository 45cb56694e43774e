"""A declarative description of promotions (``patron promotions apply FILE.yaml``), read.

The document names what should exist, by name: applications of the
workspace, their campaigns, each campaign's rules, its coupons, and the
workspace's loyalty programs. Fields left out take their defaults, so the
file is the whole truth about what it names (and leaves alone what it does
not name). Reading checks everything — shapes, campaign settings, and every
ruleset compiles — before anything is applied, so a mistake anywhere in
the file changes nothing.

::

    applications:
      - name: Shop
        currency: EUR
        timezone: Europe/Berlin
        caseSensitivity: insensitive-uppercase
        campaigns:
          - name: Spring sale
            features: [coupons]
            couponSettings: {couponPattern: "SPRING-####"}
            rules:
              - title: 10% off with a coupon
                condition: ["and", ["couponValid"]]
                effects: [["setDiscount", "10% off", ["*", [".", "Session", "Total"], 0.1]]]
            coupons:
              - codes: [SPRING-2026]
                usageLimit: 100
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.applications import validate_application
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.campaign_service import validate_campaign
from patron.domain.promotions.codes import CaseSensitivity
from patron.domain.promotions.coupon_model import CouponTerms
from patron.domain.promotions.loyalty import IMMEDIATE, UNLIMITED, Program, validate_program
from patron.domain.promotions.talang import RulesetInvalid, compile_ruleset

# The keys each object takes (anything else is a typo, refused with its path).
APPLICATION_KEYS = frozenset(
    {"name", "currency", "timezone", "caseSensitivity", "description", "attributes", "campaigns"}
)
CAMPAIGN_KEYS = frozenset(
    {
        "name",
        "description",
        "state",
        "startTime",
        "endTime",
        "priority",
        "features",
        "tags",
        "limits",
        "couponSettings",
        "referralSettings",
        "attributes",
        "rules",
        "bindings",
        "coupons",
    }
)
COUPON_KEYS = frozenset(
    {
        "codes",
        "usageLimit",
        "discountLimit",
        "reservationLimit",
        "startDate",
        "expiryDate",
        "recipientIntegrationId",
        "attributes",
        "isReservationMandatory",
        "implicitlyReserved",
    }
)
PROGRAM_KEYS = frozenset(
    {
        "name",
        "title",
        "description",
        "applications",
        "defaultValidity",
        "defaultPending",
        "allowSubledger",
        "timezone",
    }
)


@dataclass(frozen=True, slots=True)
class DeclaredCoupons:
    """Coupons with these codes and terms (created if missing, updated if different)."""

    codes: tuple[str, ...]
    terms: CouponTerms


@dataclass(frozen=True, slots=True)
class DeclaredCampaign:
    record: CampaignRecord  # id and application id 0: assigned when applied
    ruleset: Mapping[str, Any] | None  # {"rules", "bindings"}; None: the file names no rules
    coupons: tuple[DeclaredCoupons, ...] = ()


@dataclass(frozen=True, slots=True)
class DeclaredApplication:
    name: str
    currency: str = "USD"
    timezone: str = "UTC"
    case_sensitivity: str = CaseSensitivity.SENSITIVE
    description: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    campaigns: tuple[DeclaredCampaign, ...] = ()


@dataclass(frozen=True, slots=True)
class DeclaredProgram:
    program: Program  # id 0, no applications: they are named, and found when applied
    applications: tuple[str, ...] = ()  # names of the applications it serves


@dataclass(frozen=True, slots=True)
class Declaration:
    applications: tuple[DeclaredApplication, ...] = ()
    loyalty_programs: tuple[DeclaredProgram, ...] = ()


class _Reader:
    """Collects every problem, each with its path in the document."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(Problem(message, where))

    def mapping(self, value: Any, where: str, keys: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, "must be a mapping")
            return {}
        for key in sorted(set(value) - keys, key=str):
            self.fail(f"{where}.{key}" if where else str(key), "unknown key")
        return value

    def items(self, value: Any, where: str) -> Sequence[Any]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(where, "must be a list")
            return ()
        return value

    def text(self, value: Any, where: str, default: str | None = None) -> str:
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "must be non-empty text")
            return ""
        return value

    def moment(self, value: Any, where: str) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):  # YAML reads timestamps itself
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        self.fail(where, "must be a date-time (2026-03-01T00:00:00Z)")
        return None


def read_declaration(document: Any) -> Declaration:
    """``document`` (parsed YAML or JSON) as a Declaration, or Invalid listing every problem."""
    reader = _Reader()
    top = reader.mapping(document, "", frozenset({"applications", "loyaltyPrograms"}))
    applications = tuple(
        _application(reader, raw, f"applications.{index}")
        for index, raw in enumerate(reader.items(top.get("applications"), "applications"))
    )
    programs = tuple(
        _program(reader, raw, f"loyaltyPrograms.{index}")
        for index, raw in enumerate(reader.items(top.get("loyaltyPrograms"), "loyaltyPrograms"))
    )
    _unique(reader, [a.name for a in applications], "applications", "application")
    _unique(reader, [p.program.name for p in programs], "loyaltyPrograms", "loyalty program")
    known = {a.name for a in applications}
    for index, program in enumerate(programs):
        for name in program.applications:
            if name not in known:
                reader.fail(
                    f"loyaltyPrograms.{index}.applications", f"no application {name!r} in the file"
                )
    if reader.problems:
        raise Invalid.of(reader.problems)
    return Declaration(applications, programs)


def _unique(reader: _Reader, names: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            reader.fail(where, f"the {what} {name!r} is named twice")
        seen.add(name)


def _application(reader: _Reader, raw: Any, where: str) -> DeclaredApplication:
    value = reader.mapping(raw, where, APPLICATION_KEYS)
    application = DeclaredApplication(
        name=reader.text(value.get("name"), f"{where}.name"),
        currency=reader.text(value.get("currency"), f"{where}.currency", "USD"),
        timezone=reader.text(value.get("timezone"), f"{where}.timezone", "UTC"),
        case_sensitivity=reader.text(
            value.get("caseSensitivity"), f"{where}.caseSensitivity", CaseSensitivity.SENSITIVE
        ),
        description=str(value.get("description") or ""),
        attributes=_object(reader, value.get("attributes"), f"{where}.attributes"),
    )
    for problem in validate_application(
        application.name or "x",
        application.currency,
        application.timezone,
        application.case_sensitivity,
    ):
        reader.fail(f"{where}.{problem.field}", problem.message)
    campaigns = tuple(
        _campaign(reader, item, f"{where}.campaigns.{index}")
        for index, item in enumerate(reader.items(value.get("campaigns"), f"{where}.campaigns"))
    )
    _unique(reader, [c.record.name for c in campaigns], f"{where}.campaigns", "campaign")
    return replace(application, campaigns=campaigns)


def _object(reader: _Reader, value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        reader.fail(where, "must be a mapping")
        return {}
    return dict(value)


def _campaign(reader: _Reader, raw: Any, where: str) -> DeclaredCampaign:
    value = reader.mapping(raw, where, CAMPAIGN_KEYS)
    priority = value.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        reader.fail(f"{where}.priority", "must be a whole number")
        priority = 0
    record = CampaignRecord(
        id=0,
        application_id=0,
        name=reader.text(value.get("name"), f"{where}.name"),
        state=str(value.get("state", "enabled")),
        description=str(value.get("description") or ""),
        start_time=reader.moment(value.get("startTime"), f"{where}.startTime"),
        end_time=reader.moment(value.get("endTime"), f"{where}.endTime"),
        priority=priority,
        features=tuple(str(f) for f in reader.items(value.get("features"), f"{where}.features")),
        tags=tuple(str(t) for t in reader.items(value.get("tags"), f"{where}.tags")),
        limits=tuple(reader.items(value.get("limits"), f"{where}.limits")),
        coupon_settings=value.get("couponSettings"),
        referral_settings=value.get("referralSettings"),
        attributes=_object(reader, value.get("attributes"), f"{where}.attributes"),
    )
    for problem in validate_campaign(record):
        if problem.field != "name" or record.name:
            reader.fail(f"{where}.{problem.field}", problem.message)
    ruleset = None
    if "rules" in value:
        ruleset = {
            "rules": list(reader.items(value.get("rules"), f"{where}.rules")),
            "bindings": list(reader.items(value.get("bindings"), f"{where}.bindings")),
        }
        try:
            compile_ruleset(ruleset)
        except RulesetInvalid as invalid:
            for problem in invalid.problems:
                reader.fail(f"{where}{(problem.field or '').replace('/', '.')}", problem.message)
    coupons = tuple(
        _coupons(reader, item, f"{where}.coupons.{index}")
        for index, item in enumerate(reader.items(value.get("coupons"), f"{where}.coupons"))
    )
    return DeclaredCampaign(record, ruleset, coupons)


def _coupons(reader: _Reader, raw: Any, where: str) -> DeclaredCoupons:
    value = reader.mapping(raw, where, COUPON_KEYS)
    codes = tuple(
        reader.text(code, f"{where}.codes.{index}")
        for index, code in enumerate(reader.items(value.get("codes"), f"{where}.codes"))
    )
    if not codes:
        reader.fail(f"{where}.codes", "name at least one code")
    terms = CouponTerms(
        usage_limit=_whole(reader, value.get("usageLimit", 1), f"{where}.usageLimit"),
        discount_limit=_decimal(reader, value.get("discountLimit", 0), f"{where}.discountLimit"),
        reservation_limit=_whole(
            reader, value.get("reservationLimit", 0), f"{where}.reservationLimit"
        ),
        start_date=reader.moment(value.get("startDate"), f"{where}.startDate"),
        expiry_date=reader.moment(value.get("expiryDate"), f"{where}.expiryDate"),
        recipient_integration_id=str(value.get("recipientIntegrationId") or ""),
        attributes=_object(reader, value.get("attributes"), f"{where}.attributes"),
        is_reservation_mandatory=bool(value.get("isReservationMandatory", False)),
        implicitly_reserved=bool(value.get("implicitlyReserved", False)),
    )
    for problem in terms.problems():
        reader.fail(f"{where}.{problem.field}", problem.message)
    return DeclaredCoupons(codes, terms)


def _whole(reader: _Reader, value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        reader.fail(where, "must be a whole number")
        return 0
    return value


def _decimal(reader: _Reader, value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        reader.fail(where, "must be a number")
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        reader.fail(where, "must be a number")
        return Decimal(0)


def _program(reader: _Reader, raw: Any, where: str) -> DeclaredProgram:
    value = reader.mapping(raw, where, PROGRAM_KEYS)
    name = reader.text(value.get("name"), f"{where}.name")
    program = Program(
        id=0,
        workspace_id="",
        name=name,
        title=str(value.get("title") or name),
        description=str(value.get("description") or ""),
        default_validity=str(value.get("defaultValidity", UNLIMITED)),
        default_pending=str(value.get("defaultPending", IMMEDIATE)),
        allow_subledger=bool(value.get("allowSubledger", False)),
        timezone=str(value.get("timezone", "UTC")),
    )
    for problem in validate_program(program):
        if problem.field != "name" or name:
            reader.fail(f"{where}.{problem.field}", problem.message)
    applications = tuple(
        str(a) for a in reader.items(value.get("applications"), f"{where}.applications")
    )
    return DeclaredProgram(program, applications)
