"""``patron coupons``: create a campaign's coupon codes in bulk, and list them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table

from patron.commands.support import (
    JsonOption,
    WorkspaceOption,
    console,
    errors,
    print_json,
    run_with_services,
)
from patron.domain.promotions.coupon_model import CouponQuery, CouponTerms, StoredCoupon
from patron.domain.promotions.coupons import CLI_MAX, CodeRequest
from patron.domain.tenancy.service import DEFAULT_WORKSPACE

coupons_app = typer.Typer(no_args_is_help=True, help="Create and list coupon codes (promotions).")

ApplicationOption = Annotated[int, typer.Option("--application", help="The application's id.")]
CampaignOption = Annotated[int, typer.Option("--campaign", help="The campaign's id.")]


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter("a date or an ISO 8601 time", param_hint=option) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@coupons_app.command("create")
def coupons_create(
    application: ApplicationOption,
    campaign: CampaignOption,
    count: Annotated[int, typer.Option("--count", help=f"How many codes (up to {CLI_MAX:,}).")],
    pattern: Annotated[
        str | None,
        typer.Option(help="# = a random character; default: the campaign's coupon pattern."),
    ] = None,
    characters: Annotated[
        str | None, typer.Option(help="The characters # draws from (default: A-Z and 0-9).")
    ] = None,
    prefix: Annotated[str, typer.Option(help="Put before every code.")] = "",
    usage_limit: Annotated[int, typer.Option(help="Redemptions per code; 0: unlimited.")] = 1,
    per_profile_limit: Annotated[int, typer.Option(help="Redemptions per customer; 0: any.")] = 0,
    start: Annotated[str | None, typer.Option(help="Valid from (ISO 8601).")] = None,
    expiry: Annotated[str | None, typer.Option(help="Valid until (ISO 8601).")] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """Create COUNT random codes for a campaign, in one transaction, showing progress."""
    terms = CouponTerms(
        usage_limit=usage_limit,
        per_profile_limit=per_profile_limit,
        start_date=_moment(start, "--start"),
        expiry_date=_moment(expiry, "--expiry"),
    )
    request = CodeRequest(
        count=count,
        pattern=pattern,
        characters=tuple(characters) if characters else None,
        prefix=prefix,
        maximum=CLI_MAX,
    )
    with Progress(
        *Progress.get_default_columns(), MofNCompleteColumn(), console=errors, disable=as_json
    ) as progress:
        bar = progress.add_task("creating codes", total=count)
        made = run_with_services(
            lambda s: s.coupons.create_in_named_workspace(
                workspace=workspace,
                application_id=application,
                campaign_id=campaign,
                terms=terms,
                request=request,
                progress=lambda done: progress.update(bar, completed=done),
            )
        )
    summary = {"batchId": made.batch_id, "created": made.count, "campaignId": campaign}
    if as_json:
        print_json(summary)
    else:
        console.print(f"{made.count} codes created in campaign {campaign} (batch {made.batch_id})")


@coupons_app.command("list")
def coupons_list(
    application: ApplicationOption,
    campaign: Annotated[
        int | None, typer.Option("--campaign", help="Only this campaign's.")
    ] = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch's.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1 to 1000).")] = 100,
    skip: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """List coupons of an application, oldest first."""
    query = CouponQuery(
        application_id=application, campaign_id=campaign, batch_id=batch, limit=limit, skip=skip
    )
    found = run_with_services(
        lambda s: s.coupons.list_in_named_workspace(workspace=workspace, query=query)
    )
    if as_json:
        print_json([_coupon_json(coupon) for coupon in found])
        return
    table = Table("id", "code", "campaign", "used", "limit", "expires")
    for coupon in found:
        table.add_row(
            str(coupon.id),
            coupon.value,
            str(coupon.campaign_id),
            str(coupon.usage_counter),
            str(coupon.terms.usage_limit or "∞"),
            coupon.terms.expiry_date.isoformat() if coupon.terms.expiry_date else "",
        )
    console.print(table)


def _coupon_json(coupon: StoredCoupon) -> dict[str, Any]:
    terms = coupon.terms
    return {
        "id": coupon.id,
        "value": coupon.value,
        "campaignId": coupon.campaign_id,
        "batchId": coupon.batch_id,
        "usageLimit": terms.usage_limit,
        "usageCounter": coupon.usage_counter,
        "perProfileLimit": terms.per_profile_limit,
        "startDate": terms.start_date,
        "expiryDate": terms.expiry_date,
        "created": coupon.created_at,
    }
