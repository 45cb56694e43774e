"""The ``patron`` command: run the server, manage workspaces, inspect customers."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table

from patron.domain.customers import rows as customer_rows
from patron.domain.customers.model import CustomerView
from patron.domain.errors import PatronError
from patron.domain.jobs.model import AsyncAction
from patron.domain.tenancy.service import DEFAULT_WORKSPACE, IssuedKeys, KeyKind
from patron.services import Services, open_services, wait_for_database
from patron.settings import get_settings
from patron.store.database import Database
from patron.surfaces.voucherify.customer_rows import rows_from_csv

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="Patron, a self-hosted customer data platform.")
workspace_app = typer.Typer(no_args_is_help=True, help="Create and list workspaces (tenants).")
customers_app = typer.Typer(no_args_is_help=True, help="Inspect customer profiles.")
events_app = typer.Typer(no_args_is_help=True, help="Inspect events.")
app.add_typer(workspace_app, name="workspace")
app.add_typer(customers_app, name="customers")
app.add_typer(events_app, name="events")

console = Console()
errors = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
WorkspaceOption = Annotated[
    str, typer.Option("--workspace", "-w", help="Name of the workspace to act in.")
]


def _run(work: Callable[[Services], Awaitable[T]]) -> T:
    """Open the services, run one piece of work, close; domain errors exit with 1."""

    async def main() -> T:
        services = await open_services(get_settings())
        try:
            return await work(services)
        finally:
            await services.close()

    try:
        return asyncio.run(main())
    except PatronError as error:
        errors.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(1) from None


def _print_json(value: Any) -> None:
    sys.stdout.write(
        orjson.dumps(value, option=orjson.OPT_INDENT_2, default=_jsonable).decode() + "\n"
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [PATRON_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [PATRON_PORT].")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Server processes, PostgreSQL only [PATRON_WORKERS].")
    ] = None,
) -> None:
    """Run the Patron server (migrates the database first)."""
    import uvicorn

    settings = get_settings()
    workers = workers or settings.workers
    if workers > 1 and settings.is_sqlite:
        errors.print("[red]error:[/red] SQLite takes one server process; use PostgreSQL to scale")
        raise typer.Exit(2)
    wait_for_database(settings)  # PostgreSQL may still be starting: wait, or one line and exit
    uvicorn.run(
        "patron.app:create_app",
        factory=True,
        host=host or settings.host,
        port=settings.port if port is None else port,
        workers=workers,
        log_level=settings.log_level,
        access_log=settings.access_log,
        server_header=False,
    )


@workspace_app.command("create")
def workspace_create(
    name: str,
    write_key: Annotated[
        str | None,
        typer.Option(help="Use this tracking write key (e.g. the one your apps already ship)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a workspace and print its credentials (shown only now)."""
    keys: dict[KeyKind, str | None] = {KeyKind.TRACKING_WRITE_KEY: write_key}
    issued = _run(lambda s: s.workspaces.create(name=name, keys=keys))
    _print_issued(issued, as_json)


@workspace_app.command("add-key")
def workspace_add_key(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    kind: Annotated[
        KeyKind, typer.Option(help="Which API the key is for.")
    ] = KeyKind.TRACKING_WRITE_KEY,
    key: Annotated[
        str | None, typer.Option("--key", "--write-key", help="Use this key instead of a new one.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issue another key for a workspace (e.g. one lost after start-up); old keys keep working."""
    issued = _run(lambda s: s.workspaces.add_key(name=workspace, kind=kind, key=key))
    if as_json:
        _print_json({"workspace": workspace, kind.value: issued})
    else:
        console.print(f"{kind.value.replace('_', ' ')} for {workspace!r}: [bold]{issued}[/bold]")


@workspace_app.command("list")
def workspace_list(as_json: JsonOption = False) -> None:
    """List the workspaces."""
    found = _run(lambda s: s.workspaces.list())
    if as_json:
        _print_json([asdict(workspace) for workspace in found])
        return
    table = Table("name", "id", "created")
    for workspace in found:
        table.add_row(workspace.name, workspace.id, workspace.created_at.isoformat())
    console.print(table)


def _print_issued(issued: IssuedKeys, as_json: bool) -> None:
    document = {**asdict(issued.workspace), "igrp": issued.igrp, "credentials": issued.keys}
    if as_json:
        _print_json(document)
        return
    console.print(f"workspace [bold]{issued.workspace.name}[/bold] ({issued.workspace.id})")
    console.print(f"  igrp (Infinity installation): [bold]{issued.igrp}[/bold]")
    for kind, key in issued.keys.items():
        console.print(f"  {kind}: [bold]{key}[/bold]")
    console.print("Keys are stored hashed: keep them now, they are not shown again.")


@customers_app.command("get")
def customers_get(
    ref: Annotated[str, typer.Argument(metavar="ID_OR_USER_ID")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """Show a customer by Patron id, userId or anonymousId."""

    async def work(services: Services) -> CustomerView:
        found = await services.workspaces.get(name=workspace)
        return await services.customers.get(workspace_id=found.id, ref=ref)

    view = _run(work)
    document = customer_document(view)
    if as_json:
        _print_json(document)
    else:
        console.print_json(orjson.dumps(document, default=_jsonable).decode())


def customer_document(view: CustomerView) -> dict[str, Any]:
    """A customer as the CLI prints it."""
    profile = asdict(view.profile)
    profile.pop("workspace_id")
    profile["traits"] = view.profile.traits()
    profile["identities"] = [
        {"kind": kind.value, "value": value} for kind, value in view.identities
    ]
    profile["groups"] = view.groups
    return profile


@customers_app.command("import")
def customers_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV file.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """Import or update customers from a CSV file (Voucherify's columns), showing progress.

    The import is an async action like the API's: if this command is
    interrupted, a running Patron server (or the next import) finishes it.
    """
    data = file.read_bytes()

    async def work(services: Services) -> tuple[AsyncAction, dict[str, int], float]:
        found = await services.workspaces.get(name=workspace)
        rows = rows_from_csv(data)
        jobs = services.async_actions
        action = await jobs.submit(workspace_id=found.id, type_=customer_rows.CSV_IMPORT, rows=rows)
        started = time.perf_counter()
        runner = asyncio.create_task(jobs.run_pending())
        with Progress(
            *Progress.get_default_columns(), MofNCompleteColumn(), console=errors, disable=as_json
        ) as progress:
            bar = progress.add_task(f"importing {file.name}", total=action.total)
            while not runner.done():
                await asyncio.wait({runner}, timeout=0.25)
                action = await jobs.get(workspace_id=found.id, action_id=action.id)
                progress.update(bar, completed=action.processed)
        await runner
        seconds = time.perf_counter() - started
        results = await jobs.results(workspace_id=found.id, action_id=action.id)
        counts = Counter(result.outcome.status.value.lower() for result in results)
        for result in results:
            if result.outcome.error is not None and not as_json:
                errors.print(f"row {result.row + 1}: {result.outcome.error['message']}")
        return action, dict(counts), seconds

    action, counts, seconds = _run(work)
    summary = {
        "async_action_id": action.id,
        "status": action.status.value,
        "rows": action.total,
        "created": counts.get("created", 0),
        "updated": counts.get("updated", 0),
        "failed": counts.get("failed", 0),
        "seconds": round(seconds, 3),
        "rows_per_second": round(action.total / seconds) if seconds else None,
    }
    if as_json:
        _print_json(summary)
    else:
        console.print(
            f"{summary['rows']} rows in {summary['seconds']} s: {summary['created']} created, "
            f"{summary['updated']} updated, {summary['failed']} failed ({action.id})"
        )


@events_app.command("list")
def events_list(
    customer: Annotated[str, typer.Option(help="Patron id, userId or anonymousId.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: JsonOption = False,
) -> None:
    """List a customer's events, newest first, with every stored field."""

    async def work(services: Services) -> list[dict[str, Any]]:
        found = await services.workspaces.get(name=workspace)
        return await services.customers.list_events(
            workspace_id=found.id, ref=customer, limit=limit
        )

    events = _run(work)
    if as_json:
        _print_json(events)
        return
    table = Table(
        "timestamp", "type", "name", "user_id", "anonymous_id", "message_id", "segment", "group"
    )
    for event in events:
        table.add_row(
            event["timestamp"].isoformat(),
            event["type"],
            event["name"] or "",
            event["user_id"] or "",
            event["anonymous_id"] or "",
            event["message_id"],
            _text(event["segment_id"]),
            _text(event["segment_group_id"]),
        )
    console.print(table)


def _text(value: object) -> str:
    return "" if value is None else str(value)


@app.command()
def migrate() -> None:
    """Apply database migrations (the server also does this at start)."""
    settings = get_settings()
    database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        database.migrate()
    finally:
        database.dispose()
    console.print("database is up to date")


def main() -> None:
    app()
