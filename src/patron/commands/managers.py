"""``patron managers``: who logs in to the Talon.One Management API (``POST /v1/sessions``)."""

from __future__ import annotations

import sys
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
from patron.domain.promotions.managers import Manager
from patron.domain.tenancy.service import DEFAULT_WORKSPACE

managers_app = typer.Typer(
    no_args_is_help=True, help="Create and list Management API logins (promotions)."
)


@managers_app.command("create")
def managers_create(
    email: Annotated[str, typer.Argument(help="The e-mail the manager logs in with.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a manager of a workspace; asks for the password (or reads it from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    manager = run_with_services(
        lambda s: s.managers.create(workspace=workspace, email=email, password=password)
    )
    if as_json:
        print_json(_manager_json(manager, workspace))
    else:
        console.print(f"manager [bold]{manager.email}[/bold] (id {manager.id}) in {workspace!r}")
        console.print("Log in with POST /v1/sessions; send the token as Authorization: Bearer.")


@managers_app.command("list")
def managers_list(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE, as_json: JsonOption = False
) -> None:
    """List a workspace's managers."""
    found = run_with_services(lambda s: s.managers.of_named_workspace(workspace=workspace))
    if as_json:
        print_json([_manager_json(manager, workspace) for manager in found])
        return
    table = Table("id", "email", "created")
    for manager in found:
        table.add_row(str(manager.id), manager.email, manager.created_at.isoformat())
    console.print(table)


def _manager_json(manager: Manager, workspace: str) -> dict[str, Any]:
    return {
        "id": manager.id,
        "email": manager.email,
        "workspace": workspace,
        "created": manager.created_at,
    }
