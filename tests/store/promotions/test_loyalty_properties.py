"""Whatever happens to a ledger, its balances add up (both databases).

Random sequences of additions (pending or not, expiring or not), deductions,
rollbacks of any earlier transaction and time passing; after each step, for
each subledger: ``current + pending + expired - negative = added - spent``
(``added``: additions not rolled back; ``spent``: deductions not rolled
back), nothing is below zero, a negative balance leaves no current or
pending points, and a deduction succeeds exactly when the current balance
covers it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from patron.domain.promotions.loyalty import Balance
from patron.store.database import Database
from tests.chaos import scale
from tests.store.promotions.loyalty_support import NOW, Ledger, make_program, open_database

CUSTOMERS = itertools.count()
DAY = timedelta(days=1)

points = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)
days = st.none() | st.integers(min_value=1, max_value=20)
subledgers = st.sampled_from(["", "", "b"])
adds = st.tuples(st.just("add"), points, days, days, subledgers)
deducts = st.tuples(st.just("deduct"), points, subledgers)
reverses = st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50))
steps = st.one_of(
    adds, deducts, reverses, adds, deducts, reverses, st.tuples(st.just("wait"), days)
)
# An addition spent and then rolled back: a debt that the next points pay off.
DEBT = [("add", Decimal(50), None, None, ""), ("deduct", Decimal(40), ""), ("reverse", 0)]
DEBT += [("add", Decimal(15), 1, None, ""), ("wait", 2), ("reverse", 2), ("deduct", Decimal(1), "")]


@dataclass
class Transaction:
    uuid: str
    subledger: str
    amount: Decimal
    kind: str  # add or deduct
    reversed: bool = False


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    yield from open_database(database_url)


@settings(
    max_examples=scale(25, 300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(steps, min_size=1, max_size=25))
@example(DEBT)
def test_balances_always_add_up(database: Database, sequence: list[tuple]) -> None:
    program = make_program(database, name=f"p{next(CUSTOMERS)}", allow_subledger=True)
    ledger = Ledger(database, program.id)
    done: list[Transaction] = []
    now = NOW
    for step in sequence:
        now = apply(ledger, done, now, step)
        for subledger in ("", "b"):
            check(ledger.balance(now, subledger), [t for t in done if t.subledger == subledger])


def apply(ledger: Ledger, done: list[Transaction], now, step: tuple):  # type: ignore[no-untyped-def]
    kind = step[0]
    if kind == "wait":
        return now + (step[1] or 0) * DAY
    if kind == "add":
        _, amount, pending, validity, subledger = step
        start = now + pending * DAY if pending else None
        expiry = (start or now) + validity * DAY if validity else None
        uuid = ledger.add(str(amount), at=now, start=start, expiry=expiry, subledger=subledger)
        done.append(Transaction(uuid, subledger, amount, "add"))
    elif kind == "deduct":
        _, amount, subledger = step
        current = ledger.balance(now, subledger).current
        uuid = ledger.deduct(str(amount), at=now, subledger=subledger)
        assert (uuid is not None) == (amount <= current)
        if uuid is not None:
            done.append(Transaction(uuid, subledger, amount, "deduct"))
    elif done:
        target = done[step[1] % len(done)]
        ledger.reverse(target.uuid, at=now)
        target.reversed = True
    return now


def check(found: Balance, done: list[Transaction]) -> None:
    added = sum((t.amount for t in done if t.kind == "add" and not t.reversed), Decimal(0))
    spent = sum((t.amount for t in done if t.kind == "deduct" and not t.reversed), Decimal(0))
    assert found.spent == spent
    assert found.current + found.pending + found.expired - found.negative == added - spent
    assert min(found.current, found.pending, found.expired, found.negative) >= 0
    if found.negative:
        assert found.current == found.pending == 0
