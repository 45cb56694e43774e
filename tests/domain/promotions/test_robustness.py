"""Whatever a compiled ruleset says and whatever the session holds, evaluate() answers.

A rule can fail — it then fails alone, with a reason or an error effect —
but evaluation itself never raises, so no ruleset can turn a session update
into a server error.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from patron.domain.promotions.campaigns import Campaign
from patron.domain.promotions.evaluate import evaluate
from patron.domain.promotions.model import CartItem, Coupon, Profile, Session
from patron.domain.promotions.talang import compile_ruleset
from tests.domain.promotions.support import NOW, context
from tests.domain.promotions.talang.test_roundtrip import RULESETS

ATTRIBUTE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
)
ATTRIBUTES = st.dictionaries(st.sampled_from(["tier", "color", "c", "flag"]), ATTRIBUTE)
ITEMS = st.lists(
    st.builds(
        CartItem,
        sku=st.text(min_size=1, max_size=5),
        quantity=st.integers(1, 50),
        price=st.decimals(min_value=0, max_value=10**6, places=2),
        category=st.sampled_from(["shoes", "socks", ""]),
        attributes=ATTRIBUTES,
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(RULESETS, ITEMS, ATTRIBUTES, st.booleans())
def test_evaluate_never_raises(
    document: dict[str, Any], items: list[CartItem], attributes: dict[str, Any], coupon: bool
) -> None:
    ruleset = compile_ruleset(document, ruleset_id=1)
    session = Session(
        "s", cart_items=tuple(items), attributes=attributes, coupon_codes=("C",) if coupon else ()
    )
    ctx = context(
        session=session,
        profile=Profile("p", attributes=attributes),
        coupons={"C": Coupon(1, "C", 1)},
    )
    evaluation = evaluate(ctx, [Campaign(1, "c", ruleset)], NOW)
    given_total = sum(
        (e.props.props()["value"] for e in evaluation.of_type("setDiscount")),
        start=sum(
            (e.props.props()["value"] for e in evaluation.of_type("setDiscountPerItem")), start=0
        ),
    )
    assert given_total <= session.total  # never below zero
    if coupon:
        verdicts = evaluation.of_type("acceptCoupon") + evaluation.of_type("rejectCoupon")
        assert len(verdicts) == 1
