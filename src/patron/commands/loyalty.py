"""``patron loyalty``: Talon.One loyalty programs (Talon's web UI makes these) and balances."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from patron.commands.support import (
    JsonOption,
    WorkspaceOption,
    console,
    print_json,
    run_with_services,
)
from patron.domain.promotions.loyalty import IMMEDIATE, UNLIMITED, Balance, Program
from patron.domain.tenancy.service import DEFAULT_WORKSPACE

loyalty_app = typer.Typer(
    no_args_is_help=True, help="Create and list loyalty programs; show a customer's points."
)


@loyalty_app.command("create")
def loyalty_create(
    name: Annotated[str, typer.Argument(help="The program's name, unique in its workspace.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    application: Annotated[
        list[int] | None,
        typer.Option("--application", help="An application that earns and spends its points."),
    ] = None,
    title: Annotated[str, typer.Option(help="What customers see (default: the name).")] = "",
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    validity: Annotated[
        str, typer.Option(help="How long points stay valid: unlimited, or 30D, 2W, 1M, 1Y…")
    ] = UNLIMITED,
    pending: Annotated[
        str, typer.Option(help="How long new points wait to become active: immediate, or 14D…")
    ] = IMMEDIATE,
    subledgers: Annotated[
        bool, typer.Option("--subledgers", help="Allow subledgers besides the main ledger.")
    ] = False,
    timezone: Annotated[str, typer.Option(help="IANA time zone of its days and months.")] = "UTC",
    as_json: JsonOption = False,
) -> None:
    """Create a loyalty program for some applications of a workspace."""
    program = Program(
        id=0,
        workspace_id="",
        name=name,
        title=title or name,
        description=description,
        subscribed_applications=tuple(application or ()),
        default_validity=validity,
        default_pending=pending,
        allow_subledger=subledgers,
        timezone=timezone,
    )
    created = run_with_services(lambda s: s.loyalty.create(workspace=workspace, program=program))
    if as_json:
        print_json(_program_json(created, workspace))
        return
    console.print(
        f"loyalty program [bold]{created.name}[/bold] (id {created.id}) in {workspace!r}, "
        f"for applications {list(created.subscribed_applications)}"
    )


@loyalty_app.command("list")
def loyalty_list(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE, as_json: JsonOption = False
) -> None:
    """List a workspace's loyalty programs."""
    found = run_with_services(lambda s: s.loyalty.of_named_workspace(workspace=workspace))
    if as_json:
        print_json([_program_json(program, workspace) for program in found])
        return
    table = Table("id", "name", "title", "applications", "validity", "pending", "subledgers")
    for program in found:
        table.add_row(
            str(program.id),
            program.name,
            program.title,
            ", ".join(str(i) for i in program.subscribed_applications),
            program.default_validity,
            program.default_pending,
            "yes" if program.allow_subledger else "no",
        )
    console.print(table)


@loyalty_app.command("balance")
def loyalty_balance(
    program_id: Annotated[int, typer.Argument(help="The program's id.")],
    integration_id: Annotated[str, typer.Argument(help="The customer's integration id.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """A customer's points now: current, pending, expired, spent, owed; per subledger."""
    balances = run_with_services(
        lambda s: s.loyalty.balances_in_named_workspace(
            workspace=workspace, program_id=program_id, integration_id=integration_id
        )
    )
    if as_json:
        print_json({key: _balance_json(value) for key, value in balances.items()})
        return
    table = Table("subledger", "current", "pending", "expired", "spent", "negative")
    for key, value in balances.items():
        table.add_row(key or "(main)", *_balance_json(value).values())
    console.print(table)


def _program_json(program: Program, workspace: str) -> dict[str, Any]:
    return {
        "workspace": workspace,
        "programId": program.id,
        "name": program.name,
        "title": program.title,
        "description": program.description,
        "applications": list(program.subscribed_applications),
        "validity": program.default_validity,
        "pending": program.default_pending,
        "subledgers": program.allow_subledger,
        "timezone": program.timezone,
        "created": program.created_at,
    }


def _balance_json(balance: Balance) -> dict[str, str]:
    """Exact decimals, as text."""
    return {
        "current": str(balance.current),
        "pending": str(balance.pending),
        "expired": str(balance.expired),
        "spent": str(balance.spent),
        "negative": str(balance.negative),
    }
