"""``GET /v1/customers/{id}/redeemables``: the customer's coupons, referral codes and
loyalty balances (from every Talon.One application of the workspace), in the shape of
the ``voucherify`` SDK's ``CustomerRedeemable`` (its enums are strict: holder roles
OWNER/REFERRER, campaign types DISCOUNT_COUPONS/REFERRAL_PROGRAM/LOYALTY_PROGRAM,
statuses ACTIVE/USED/DISABLED/NOT_ACTIVE_YET/EXPIRED/NO_BALANCE)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.inventory import (
    CodeState,
    HeldCoupon,
    HeldReferral,
    Holdings,
    ProgramBalance,
)
from patron.surfaces.voucherify.wire import moment

STATUS = {
    CodeState.ACTIVE: "ACTIVE",
    CodeState.USED: "USED",
    CodeState.EXPIRED: "EXPIRED",
    CodeState.PENDING: "NOT_ACTIVE_YET",
    CodeState.DISABLED: "DISABLED",
}
ORDERS = frozenset({"created_at", "-created_at", "id", "-id"})


def _holder(
    holder_id: str,
    created: datetime,
    customer_id: str,
    kind: tuple[str, str, str],
    voucher: dict[str, Any],
    *,
    status: str,
) -> dict[str, Any]:
    role, campaign_type, voucher_type = kind
    return {
        "id": holder_id,
        "created_at": moment(created),
        "redeemable_id": voucher["id"],
        "redeemable_object": "voucher",
        "customer_id": customer_id,
        "holder_role": role,
        "campaign_id": voucher["campaign_id"],
        "campaign_type": campaign_type,
        "voucher_type": voucher_type,
        "redeemable": {"type": "voucher", "voucher": voucher, "status": status},
    }


def _voucher(
    voucher_id: str, code: str, campaign: tuple[int, str], customer_id: str, **fields: Any
) -> dict[str, Any]:
    campaign_id, campaign_name = campaign
    return {
        "id": voucher_id,
        "code": code,
        "campaign": campaign_name,
        "campaign_id": str(campaign_id),
        "categories": [],
        "holder_id": customer_id,
        "object": "voucher",
        **{key: value for key, value in fields.items() if value is not None},
    }


def coupon_json(coupon: HeldCoupon, customer_id: str, now: datetime) -> dict[str, Any]:
    voucher = _voucher(
        f"coupon_{coupon.id}",
        coupon.value,
        (coupon.campaign_id, coupon.campaign_name),
        customer_id,
        type="DISCOUNT_VOUCHER",
        start_date=moment(coupon.start_date),
        expiration_date=moment(coupon.expiry_date),
        active=coupon.campaign_enabled,
        metadata=dict(coupon.attributes),
        is_referral_code=False,
        created_at=moment(coupon.created),
        redemption={
            "quantity": coupon.usage_limit or None,
            "redeemed_quantity": coupon.usage_counter,
            "object": "list",
        },
    )
    kind = ("OWNER", "DISCOUNT_COUPONS", "DISCOUNT_VOUCHER")
    status = STATUS[coupon.state(now)]
    return _holder(
        f"rh_coupon_{coupon.id}", coupon.created, customer_id, kind, voucher, status=status
    )


def referral_json(referral: HeldReferral, customer_id: str, now: datetime) -> dict[str, Any]:
    voucher = _voucher(
        f"referral_{referral.id}",
        referral.code,
        (referral.campaign_id, referral.campaign_name),
        customer_id,
        type="DISCOUNT_VOUCHER",
        start_date=moment(referral.start_date),
        expiration_date=moment(referral.expiry_date),
        active=referral.campaign_enabled,
        metadata=dict(referral.attributes),
        is_referral_code=True,
        created_at=moment(referral.created),
        referrer_id=customer_id,
        redemption={
            "quantity": referral.usage_limit or None,
            "redeemed_quantity": referral.usage_counter,
            "object": "list",
        },
    )
    kind = ("REFERRER", "REFERRAL_PROGRAM", "DISCOUNT_VOUCHER")
    status = STATUS[referral.state(now)]
    holder_id = f"rh_referral_{referral.id}"
    return _holder(holder_id, referral.created, customer_id, kind, voucher, status=status)


def loyalty_json(program: ProgramBalance, customer_id: str) -> dict[str, Any]:
    balance = program.balance
    joined = program.joined or program.created
    voucher = _voucher(
        f"loyalty_{program.id}",
        program.name,
        (program.id, program.title),
        customer_id,
        type="LOYALTY_CARD",
        active=True,
        metadata={},
        is_referral_code=False,
        created_at=moment(joined),
        loyalty_card={
            "points": int(balance.current + balance.pending + balance.expired + balance.spent),
            "balance": int(balance.current),
            "pending_points": int(balance.pending),
            "expired_points": int(balance.expired),
            "subtracted_points": int(balance.spent),
        },
    )
    kind = ("OWNER", "LOYALTY_PROGRAM", "LOYALTY_CARD")
    status = "ACTIVE" if balance.current > 0 else "NO_BALANCE"
    return _holder(f"rh_loyalty_{program.id}", joined, customer_id, kind, voucher, status=status)


def redeemables_page(
    holdings: Holdings, customer_id: str, params: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """One page of the list: ``limit`` (1 to 100), ``order`` and ``starting_after_id``."""
    limit, order, after = _page_params(params)
    items = [
        *(coupon_json(c, customer_id, now) for c in holdings.coupons or []),
        *(referral_json(r, customer_id, now) for r in holdings.referrals or []),
        *(loyalty_json(p, customer_id) for p in holdings.loyalty or []),
    ]
    key = order.lstrip("-")
    items.sort(key=lambda item: (item[key], item["id"]), reverse=order.startswith("-"))
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise Invalid.of([Problem(f"no redeemable holder {after!r}", "starting_after_id")])
        start = ids.index(after) + 1
    page = items[start : start + limit]
    more = start + limit < len(items)
    return {
        "object": "list",
        "data_ref": "data",
        "data": page,
        "total": len(items),
        "has_more": more,
        "more_starting_after": page[-1]["id"] if more and page else None,
    }


def _page_params(params: Mapping[str, str]) -> tuple[int, str, str | None]:
    problems = []
    raw_limit = params.get("limit") or "10"
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= 100:
        problems.append(Problem("must be between 1 and 100", "limit"))
    order = params.get("order") or "-created_at"
    if order not in ORDERS:
        problems.append(Problem(f"must be one of {', '.join(sorted(ORDERS))}", "order"))
    if problems:
        raise Invalid.of(problems)
    return limit, order, params.get("starting_after_id") or None
