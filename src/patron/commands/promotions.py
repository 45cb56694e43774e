"""``patron promotions apply FILE.yaml``: promotions set up from a file kept in git."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape

from patron.commands.support import (
    JsonOption,
    WorkspaceOption,
    console,
    fail,
    print_json,
    run_with_services,
)
from patron.domain.errors import Invalid
from patron.domain.promotions.apply import Applied, PromotionsApplier
from patron.domain.promotions.declared import Declaration, read_declaration
from patron.domain.tenancy.service import DEFAULT_WORKSPACE
from patron.services import Services

promotions_app = typer.Typer(
    no_args_is_help=True, help="Set promotions up from a file (applications, campaigns, rules)."
)

STYLE = {"create": "green", "update": "yellow", "activate": "cyan", "unchanged": "dim"}


@promotions_app.command("apply")
def promotions_apply(
    file: Annotated[Path, typer.Argument(help="The YAML (or JSON) file describing them.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Make the workspace match the file: print the plan, then apply it (idempotent)."""
    declaration = _read(file)

    async def plan_then_apply(services: Services) -> tuple[Applied, Applied | None]:
        applier = PromotionsApplier(
            services.workspaces,
            services.applications,
            services.campaigns,
            services.coupons,
            services.loyalty,
        )
        plan = await applier.apply(workspace, declaration, execute=False)
        if dry_run or not plan.changed:
            return plan, None
        return plan, await applier.apply(workspace, declaration, execute=True)

    plan, done = run_with_services(plan_then_apply)
    if as_json:
        print_json(_json(plan, done))
        return
    for step in plan.steps:
        _print_step(step.action, step.target, step.changes)
    if not plan.changed:
        console.print("Nothing to change: the workspace matches the file.")
    elif done is None:
        console.print("Dry run: nothing was changed.")
    else:
        console.print(f"Applied {sum(s.changes_something for s in done.steps)} changes.")
        for issued in done.issued:
            application = issued.application
            console.print(
                f"application [bold]{escape(application.name)}[/bold] (id {application.id}): "
                f"Integration API key [bold]{issued.integration_key}[/bold], "
                f"Management API key [bold]{issued.management_key}[/bold] (shown only now)"
            )


def _read(file: Path) -> Declaration:
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise fail(f"cannot read {file}: {error.strerror or error}", 1) from None
    except yaml.YAMLError as error:
        raise fail(f"{file} is not valid YAML: {error}".replace("\n", " "), 1) from None
    try:
        return read_declaration(document)
    except Invalid as invalid:
        for problem in invalid.problems:
            console.print(f"[red]{escape(file.name)}:[/red] {escape(problem.describe())}")
        raise fail(
            f"{file} has {len(invalid.problems)} problem(s); nothing was changed", 1
        ) from None


def _print_step(action: str, target: str, changes: tuple[str, ...]) -> None:
    style = STYLE.get(action, "")
    console.print(f"[{style}]{action:>9}[/{style}] {escape(target)}")
    for change in changes:
        console.print(f"           {escape(change)}", style="dim")


def _json(plan: Applied, done: Applied | None) -> dict[str, Any]:
    return {
        "changed": plan.changed,
        "applied": done is not None,
        "steps": [
            {"action": s.action, "target": s.target, "changes": list(s.changes)} for s in plan.steps
        ],
        "issued": [
            {
                "application": i.application.name,
                "applicationId": i.application.id,
                "integrationKey": i.integration_key,
                "managementKey": i.management_key,
            }
            for i in (done.issued if done else [])
        ],
    }
