"""A session update's request: validation with pointers, the merge, the state machine."""

from __future__ import annotations

from decimal import Decimal

import pytest

from patron.domain.errors import Invalid
from patron.domain.promotions.session_request import (
    SessionEvent,
    engine_session,
    merge,
    parse_session_request,
    transition,
)


def fields_of(error: Invalid) -> set[str | None]:
    return {problem.field for problem in error.problems}


def test_every_problem_is_named_with_its_field() -> None:
    body = {
        "customerSession": {
            "cartItems": [
                {"sku": "a", "quantity": 0},
                {"sku": "", "quantity": 1},
                {"sku": "b", "quantity": 2, "price": "12"},
            ],
            "state": "finished",
            "couponCodes": "SPRING",
            "attributes": [],
        }
    }
    with pytest.raises(Invalid) as refused:
        parse_session_request(body)
    assert fields_of(refused.value) == {
        "customerSession.cartItems.0.quantity",
        "customerSession.cartItems.1.sku",
        "customerSession.cartItems.2.price",
        "customerSession.state",
        "customerSession.couponCodes",
        "customerSession.attributes",
    }


def test_cart_limits() -> None:
    many = {"customerSession": {"cartItems": [{"sku": "a", "quantity": 1}] * 1001}}
    with pytest.raises(Invalid) as refused:
        parse_session_request(many)
    assert fields_of(refused.value) == {"customerSession.cartItems"}
    heavy = {"customerSession": {"cartItems": [{"sku": "a", "quantity": 5001}] * 2}}
    with pytest.raises(Invalid) as refused:
        parse_session_request(heavy)
    assert "10000" in refused.value.problems[0].message
    # Exactly at the limits is fine.
    parse_session_request({"customerSession": {"cartItems": [{"sku": "a", "quantity": 10}] * 1000}})


def test_the_session_is_required() -> None:
    with pytest.raises(Invalid) as refused:
        parse_session_request({"responseContent": []})
    assert fields_of(refused.value) == {"customerSession"}


def test_merge_replaces_present_fields_keeps_absent_ones_and_merges_attributes() -> None:
    stored = {
        "couponCodes": ["A"],
        "referralCode": "R",
        "cartItems": [{"sku": "x", "quantity": 1}],
        "attributes": {"a": 1, "b": 2},
    }
    keep = parse_session_request({"customerSession": {"attributes": {"b": 3, "c": 4}}})
    merged = merge(stored, keep)
    assert merged["couponCodes"] == ["A"]
    assert merged["cartItems"] == [{"sku": "x", "quantity": 1}]
    assert merged["attributes"] == {"a": 1, "b": 3, "c": 4}
    clear = parse_session_request(
        {"customerSession": {"couponCodes": [], "referralCode": "", "cartItems": []}}
    )
    cleared = merge(stored, clear)
    assert cleared["couponCodes"] == []
    assert cleared["referralCode"] == ""
    assert cleared["cartItems"] == []


@pytest.mark.parametrize(
    ("current", "wanted", "event"),
    [
        (None, "open", SessionEvent.CREATED),
        (None, "closed", SessionEvent.CLOSED),
        ("open", "open", SessionEvent.UPDATED),
        ("open", "closed", SessionEvent.CLOSED),
        ("open", "cancelled", SessionEvent.CANCELLED),
        ("closed", "cancelled", SessionEvent.REVOKED),
        ("partially_returned", "cancelled", SessionEvent.REVOKED),
    ],
)
def test_allowed_transitions(current: str | None, wanted: str, event: SessionEvent) -> None:
    assert transition(current, wanted) is event


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (None, "cancelled"),
        (None, "partially_returned"),
        ("closed", "closed"),
        ("closed", "open"),
        ("closed", "partially_returned"),
        ("cancelled", "open"),
        ("cancelled", "cancelled"),
        ("open", "partially_returned"),
    ],
)
def test_other_transitions_are_refused(current: str | None, wanted: str) -> None:
    with pytest.raises(Invalid) as refused:
        transition(current, wanted)
    assert fields_of(refused.value) == {"customerSession.state"}


def test_the_engine_sees_totals_before_discounts() -> None:
    fields = {
        "cartItems": [
            {"sku": "a", "quantity": 2, "price": 10.5, "additionalCosts": {"wrap": {"price": 1}}},
            {"sku": "b", "quantity": 1},
        ],
        "additionalCosts": {"shipping": {"price": 4.5}},
        "couponCodes": ["X"],
    }
    session = engine_session("s-1", fields)
    assert session.cart_item_total == Decimal("21.0")
    assert session.additional_cost_total == Decimal("5.5")
    assert session.total == Decimal("26.5")
    assert session.coupon_codes == ("X",)
