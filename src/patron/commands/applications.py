"""``patron applications``: Talon.One applications and their keys (Talon's web UI makes these)."""

from __future__ import annotations

from dataclasses import asdict
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
from patron.domain.promotions.applications import IssuedApplication, TalonKey
from patron.domain.promotions.codes import CaseSensitivity
from patron.domain.promotions.model import Application
from patron.domain.tenancy.service import DEFAULT_WORKSPACE

applications_app = typer.Typer(
    no_args_is_help=True, help="Create and list Talon.One applications (promotions)."
)


@applications_app.command("create")
def applications_create(
    name: Annotated[str, typer.Argument(help="The application's name, unique in its workspace.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    currency: Annotated[str, typer.Option(help="ISO 4217 code of its money.")] = "USD",
    timezone: Annotated[str, typer.Option(help="IANA time zone of its campaigns.")] = "UTC",
    case_sensitivity: Annotated[
        CaseSensitivity, typer.Option(help="How coupon and referral codes compare.")
    ] = CaseSensitivity.SENSITIVE,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an application; print its id, its Integration API key and a Management API key."""
    issued = run_with_services(
        lambda s: s.applications.create(
            workspace=workspace,
            name=name,
            currency=currency,
            timezone=timezone,
            case_sensitivity=case_sensitivity.value,
            description=description,
        ),
        creates=True,
    )
    if as_json:
        print_json(_issued_json(issued, workspace))
        return
    application = issued.application
    console.print(
        f"application [bold]{application.name}[/bold] (id {application.id}) in {workspace!r}"
    )
    console.print(f"  Integration API key (ApiKey-v1):     [bold]{issued.integration_key}[/bold]")
    console.print(f"  Management API key (ManagementKey-v1): [bold]{issued.management_key}[/bold]")
    console.print("Keys are shown only now; `patron applications add-key` issues more.")


@applications_app.command("add-key")
def applications_add_key(
    application_id: Annotated[int, typer.Argument(help="The application's id.")],
    kind: Annotated[str, typer.Option(help="integration or management.")] = "integration",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """Issue another key (one lost, or one per client); old keys keep working."""
    kinds = {"integration": TalonKey.INTEGRATION, "management": TalonKey.MANAGEMENT}
    if kind not in kinds:
        raise typer.BadParameter("integration or management", param_hint="--kind")
    key = run_with_services(
        lambda s: s.applications.add_key(
            workspace=workspace, application_id=application_id, kind=kinds[kind]
        )
    )
    if as_json:
        print_json({"applicationId": application_id, "kind": kind, "key": key})
    else:
        console.print(f"{kind} key for application {application_id}: [bold]{key}[/bold]")


@applications_app.command("list")
def applications_list(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE, as_json: JsonOption = False
) -> None:
    """List a workspace's applications."""
    found = run_with_services(lambda s: s.applications.of_named_workspace(workspace=workspace))
    if as_json:
        print_json([_application_json(application) for application in found])
        return
    table = Table("id", "name", "currency", "timezone", "codes")
    for application in found:
        table.add_row(
            str(application.id),
            application.name,
            application.currency,
            application.timezone,
            application.case_sensitivity,
        )
    console.print(table)


def _application_json(application: Application) -> dict[str, Any]:
    document = asdict(application)
    document.pop("partial_discounts")
    return document


def _issued_json(issued: IssuedApplication, workspace: str) -> dict[str, Any]:
    return {
        "workspace": workspace,
        "application": _application_json(issued.application),
        "applicationId": issued.application.id,
        "integrationKey": issued.integration_key,
        "managementKey": issued.management_key,
    }
