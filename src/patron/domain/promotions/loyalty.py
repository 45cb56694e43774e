"""Loyalty programs and the arithmetic of their points ledger (pure: no storage).

A program lives in a workspace; the applications it names (``subscribed
applications``) earn and spend its points. Every customer (a Talon
integration id) has one ledger per program, split into subledgers (``""``
is the main one; others only if the program allows them).

The ledger is a list of **additions** and **deductions**:

* an addition keeps what is left of it (``remaining``). It is *pending*
  before its start date, *expired* from its expiry date on (``None``: it
  never expires), *active* in between;
* a deduction takes active points, the earliest-expiring first and the
  never-expiring last (then the oldest first), and remembers how much it
  took from each addition (its ``sources``);
* the **balances** are: current = what is left of active additions,
  pending and expired likewise, spent = what deductions that were not rolled
  back took, negative = points the customer owes (see below).

Rollbacks reverse one transaction (its ``transaction_uuid``):

* a rolled-back **deduction** gives each share back to the addition it came
  from (points whose addition has expired meanwhile come back expired);
* a rolled-back **addition** takes back its whole amount: what is left of
  it, and — for the part already spent — the customer's other active, then
  pending points; what even those cannot cover becomes a **negative
  balance** (as Talon's ``unlimited`` return policy allows). Points that
  arrive later (additions, or shares given back) pay it off first.

So at any moment ``current + pending + expired - negative = added - spent``
(``added``: the additions not rolled back), and a negative balance means
no current or pending points. Points are exact ``Decimal``s.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from patron.domain.errors import Problem
from patron.domain.promotions import model

ZERO = Decimal(0)
MAX_POINTS = Decimal("999999999999.99")
MAX_NAME = 200
MAX_SUBLEDGER = 200
UNLIMITED = "unlimited"
IMMEDIATE = "immediate"

_DURATION = re.compile(r"([0-9]{1,6})([smhDWMY])(?:_([DU]))?")
_SECONDS = {"s": 1, "m": 60, "h": 3600}
_LONGEST = {"s": 3_155_760_000, "m": 52_596_000, "h": 876_600, "D": 36_525, "W": 5_218}
_LONGEST |= {"M": 1_200, "Y": 100}  # a hundred years in each unit


# -- durations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Duration:
    """A Talon duration: ``30s``, ``40m``, ``1h``, ``5D``, ``7W``, ``10M``, ``15Y``.

    ``_D`` after days rounds down to the start of that day; ``_U`` after
    days, weeks, months or years rounds up to the end of that day, week
    (Sunday), month or year (23:59:59) — in the program's time zone, as are
    days, weeks, months and years themselves (a month after 31 January is
    the last day of February). Seconds, minutes and hours are elapsed time.
    """

    amount: int
    unit: str
    rounding: str = ""

    @property
    def text(self) -> str:
        return f"{self.amount}{self.unit}" + (f"_{self.rounding}" if self.rounding else "")

    def after(self, moment: datetime, timezone: str = "UTC") -> datetime:
        if self.unit in _SECONDS:
            return moment + timedelta(seconds=self.amount * _SECONDS[self.unit])
        zone = _zone(timezone)
        local = moment.astimezone(zone).replace(tzinfo=None)
        if self.unit in "DW":
            local += timedelta(days=self.amount * (7 if self.unit == "W" else 1))
        else:
            local = _add_months(local, self.amount * (12 if self.unit == "Y" else 1))
        if self.rounding == "D":
            local = datetime.combine(local.date(), time())
        elif self.rounding == "U":
            local = _end_of(local, self.unit)
        return local.replace(tzinfo=zone).astimezone(UTC)


def parse_duration(text: str, *, none_word: str) -> Duration | None:
    """``text`` as a Duration; ``none_word`` (``unlimited``, ``immediate``) is None.

    Raises ValueError with what is expected.
    """
    if text == none_word:
        return None
    found = _DURATION.fullmatch(text)
    if found is None:
        raise ValueError(f"{none_word!r} or a number and a unit of s, m, h, D, W, M, Y (30D)")
    amount, unit, rounding = int(found[1]), found[2], found[3] or ""
    if (rounding == "D" and unit != "D") or (rounding == "U" and unit not in "DWMY"):
        raise ValueError("_D rounds days only, _U days, weeks, months and years")
    if amount == 0 and none_word == IMMEDIATE:
        return None
    if amount == 0:
        raise ValueError(f"a duration longer than nothing, or {none_word!r}")
    if amount > _LONGEST[unit]:
        raise ValueError("at most a hundred years")
    return Duration(amount, unit, rounding)


def _zone(timezone: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(timezone)


def _add_months(local: datetime, months: int) -> datetime:
    year, month = divmod(local.month - 1 + months, 12)
    year += local.year
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def _end_of(local: datetime, unit: str) -> datetime:
    day = local.date()
    if unit == "W":
        day += timedelta(days=6 - day.weekday())
    elif unit == "M":
        day = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    elif unit == "Y":
        day = day.replace(month=12, day=31)
    return datetime.combine(day, time(23, 59, 59))


# -- programs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Program:
    """A loyalty program as stored (durations as Talon writes them)."""

    id: int
    workspace_id: str
    name: str
    title: str
    description: str = ""
    subscribed_applications: tuple[int, ...] = ()
    default_validity: str = UNLIMITED
    default_pending: str = IMMEDIATE
    allow_subledger: bool = False
    timezone: str = "UTC"
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def validity(self) -> Duration | None:
        return parse_duration(self.default_validity, none_word=UNLIMITED)

    @property
    def pending(self) -> Duration | None:
        return parse_duration(self.default_pending, none_word=IMMEDIATE)

    def dates(
        self, now: datetime, pending: Duration | None = None, validity: Duration | None = None
    ) -> tuple[datetime | None, datetime | None]:
        """When points earned ``now`` become active (None: at once) and expire (None: never).

        ``pending``/``validity`` override the program's defaults.
        """
        pending = pending or self.pending
        validity = validity or self.validity
        start = pending.after(now, self.timezone) if pending else None
        expiry = validity.after(start or now, self.timezone) if validity else None
        return start, expiry

    def for_engine(
        self, now: datetime, main: model.LoyaltyBalance, subledgers: Mapping[str, Balance]
    ) -> model.LoyaltyProgram:
        """The engine's view: durations as the exact time spans they are from ``now``."""
        start, expiry = self.dates(now)
        return model.LoyaltyProgram(
            id=self.id,
            name=self.name,
            title=self.title,
            balance=main,
            subledgers={key: value.engine() for key, value in subledgers.items() if key},
            default_pending=start - now if start else None,
            default_validity=expiry - (start or now) if expiry else None,
        )


def validate_program(program: Program) -> list[Problem]:
    problems = []
    if not program.name.strip() or len(program.name) > MAX_NAME:
        problems.append(Problem(f"1 to {MAX_NAME} characters", "name"))
    if not program.title.strip() or len(program.title) > MAX_NAME:
        problems.append(Problem(f"1 to {MAX_NAME} characters", "title"))
    for value, word, where in (
        (program.default_validity, UNLIMITED, "defaultValidity"),
        (program.default_pending, IMMEDIATE, "defaultPending"),
    ):
        try:
            parse_duration(value, none_word=word)
        except ValueError as error:
            problems.append(Problem(str(error), where))
    try:
        _zone(program.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("an IANA time zone (Europe/Berlin, UTC)", "timezone"))
    return problems


def validate_points(points: Decimal, where: str = "points") -> list[Problem]:
    """Talon's points: more than 0, at most 999999999999.99, at most two decimals."""
    if not points.is_finite() or not ZERO < points <= MAX_POINTS:
        return [Problem(f"a number greater than 0 and at most {MAX_POINTS}", where)]
    if points != points.quantize(Decimal("0.01")):
        return [Problem("at most two decimals", where)]
    return []


# -- the ledger's arithmetic ---------------------------------------------------------------


class State(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(slots=True)
class Addition:
    """Points added, and what is left of them."""

    id: int
    amount: Decimal
    remaining: Decimal
    start: datetime | None = None  # pending before
    expiry: datetime | None = None  # expired from then on; None: never
    reversed: bool = False

    def state(self, now: datetime) -> State:
        if self.expiry is not None and self.expiry <= now:
            return State.EXPIRED
        if self.start is not None and self.start > now:
            return State.PENDING
        return State.ACTIVE


@dataclass(frozen=True, slots=True)
class Balance:
    """One (sub)ledger's balances, as Talon reports them."""

    current: Decimal = ZERO
    pending: Decimal = ZERO
    expired: Decimal = ZERO
    spent: Decimal = ZERO
    negative: Decimal = ZERO  # points owed (then current and pending are 0)

    def engine(self) -> model.LoyaltyBalance:
        return model.LoyaltyBalance(
            current=self.current,
            pending=self.pending,
            expired=self.expired,
            spent=self.spent,
            negative=self.negative,
        )


_FAR = datetime.max.replace(tzinfo=UTC)
_EARLY = datetime.min.replace(tzinfo=UTC)


def spend_order(additions: Iterable[Addition], now: datetime) -> list[Addition]:
    """The active additions with points left, in the order deductions take them."""
    usable = [a for a in additions if a.remaining > 0 and a.state(now) is State.ACTIVE]
    return sorted(usable, key=lambda a: (a.expiry or _FAR, a.start or _EARLY, a.id))


def take(additions: Iterable[Addition], amount: Decimal, now: datetime) -> dict[int, Decimal]:
    """How much a deduction of ``amount`` takes from each addition (by id), in spending
    order; less than ``amount`` in all when the active points do not cover it."""
    taken: dict[int, Decimal] = {}
    for addition in spend_order(additions, now):
        if amount <= 0:
            break
        share = min(addition.remaining, amount)
        taken[addition.id] = share
        amount -= share
    return taken


def claw_order(additions: Iterable[Addition], now: datetime) -> list[Addition]:
    """What a rolled-back addition takes back its spent part from: active points in
    spending order, then pending ones, the soonest to start first."""
    additions = list(additions)
    pending = [a for a in additions if a.remaining > 0 and a.state(now) is State.PENDING]
    pending.sort(key=lambda a: (a.start or _EARLY, a.id))
    return spend_order(additions, now) + pending


@dataclass(frozen=True, slots=True)
class Reversal:
    """What rolling back one transaction changes: additions' remaining points (by id)
    and the negative balance."""

    remaining: Mapping[int, Decimal] = field(default_factory=dict)
    negative: Decimal = ZERO


def reverse_addition(
    addition: Addition, others: Iterable[Addition], negative: Decimal, now: datetime
) -> Reversal:
    """Take back all of ``addition``: what is left of it, the rest from ``others``
    (active, then pending), and what they cannot cover as a negative balance."""
    owed = addition.amount - addition.remaining
    remaining = {addition.id: ZERO}
    for other in claw_order((o for o in others if o.id != addition.id), now):
        if owed <= 0:
            break
        share = min(other.remaining, owed)
        remaining[other.id] = other.remaining - share
        owed -= share
    return Reversal(remaining, negative + owed)


def reverse_deduction(
    sources: Mapping[int, Decimal], additions: Mapping[int, Addition], negative: Decimal
) -> Reversal:
    """Give each share back to the addition it came from, paying off a negative
    balance first."""
    remaining: dict[int, Decimal] = {}
    for addition_id, share in sources.items():
        paid = min(share, negative)
        negative -= paid
        addition = additions.get(addition_id)
        if addition is not None and share > paid:
            before = remaining.get(addition_id, addition.remaining)
            remaining[addition_id] = before + share - paid
    return Reversal(remaining, negative)


def settle(amount: Decimal, negative: Decimal) -> Decimal:
    """How much of ``amount`` new points pay off a negative balance."""
    return min(amount, max(negative, ZERO))
