"""The ``patron`` command: run the server, manage workspaces, inspect customers."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table

from patron import __version__
from patron.commands.applications import applications_app
from patron.commands.coupons import coupons_app
from patron.commands.loyalty import loyalty_app
from patron.commands.managers import managers_app
from patron.commands.promotions import promotions_app
from patron.commands.support import (
    JsonOption,
    WorkspaceOption,
    console,
    database_errors,
    errors,
    fail,
    jsonable,
    load_settings,
    print_json,
    run_with_services,
)
from patron.domain.customers import rows as customer_rows
from patron.domain.customers.model import CustomerView
from patron.domain.jobs.model import AsyncAction, RowStatus
from patron.domain.jobs.runner import AsyncActionService
from patron.domain.tenancy.service import DEFAULT_WORKSPACE, IssuedKeys, KeyKind
from patron.observability.logs import uvicorn_log_config
from patron.observability.metrics import share_between_workers
from patron.services import Services, wait_for_database
from patron.store.database import Database
from patron.surfaces.voucherify.customer_rows import csv_rows

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="Patron, a self-hosted customer data platform.")
workspace_app = typer.Typer(no_args_is_help=True, help="Create and list workspaces (tenants).")
customers_app = typer.Typer(no_args_is_help=True, help="Inspect customer profiles.")
events_app = typer.Typer(no_args_is_help=True, help="Inspect events.")
app.add_typer(workspace_app, name="workspace")
app.add_typer(customers_app, name="customers")
app.add_typer(events_app, name="events")
app.add_typer(applications_app, name="applications")
app.add_typer(coupons_app, name="coupons")
app.add_typer(loyalty_app, name="loyalty")
app.add_typer(managers_app, name="managers")
app.add_typer(promotions_app, name="promotions")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"patron {__version__}\n")
        raise typer.Exit


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Patron, a self-hosted customer data platform."""


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

    settings = load_settings()
    workers = workers or settings.workers
    if workers > 1 and settings.is_sqlite:
        raise fail("SQLite takes one server process; use PostgreSQL to scale", 2)
    host = host or settings.host
    port = settings.port if port is None else port
    # The port first: a taken one must not leave a new database and keys behind.
    listener = _listen(host, port)
    wait_for_database(settings)  # PostgreSQL may still be starting: wait, or one line and exit
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "log_level": settings.log_level,
        "access_log": settings.access_log,
        "log_config": uvicorn_log_config(settings),
        "server_header": False,
    }
    share_between_workers(workers)  # one /metrics over every worker process
    if workers > 1:
        # uvicorn's supervisor binds the port again, still before any worker
        # opens the database, and hands its socket to the workers.
        listener.close()
        uvicorn.run("patron.app:create_app", workers=workers, **options)
        return
    server = uvicorn.Server(uvicorn.Config("patron.app:create_app", **options))
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("uvicorn.error").info(
        "Patron is listening on http://%s:%d (Press CTRL+C to quit)",
        shown,
        listener.getsockname()[1],
    )
    server.run(sockets=[listener])
    if not server.started:
        raise typer.Exit(3)  # as uvicorn exits when the app fails to start


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, or a one-line error (exit 1)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a restarted server may take a port that its predecessor's
    # connections still hold in TIME_WAIT. (On Linux this never lets a second
    # process bind a port that another one listens on.)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)
    except OSError as error:
        listener.close()
        reason = error.strerror or str(error)
        raise fail(f"cannot listen on {host}:{port}: {reason.lower()}", 1) from None
    return listener


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
    issued = run_with_services(lambda s: s.workspaces.create(name=name, keys=keys), creates=True)
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
    issued = run_with_services(lambda s: s.workspaces.add_key(name=workspace, kind=kind, key=key))
    if as_json:
        print_json({"workspace": workspace, kind.value: issued})
    else:
        console.print(f"{kind.value.replace('_', ' ')} for {workspace!r}: [bold]{issued}[/bold]")


@workspace_app.command("list")
def workspace_list(as_json: JsonOption = False) -> None:
    """List the workspaces with their igrp (the Config API's installation number)."""
    listed = run_with_services(lambda s: s.workspaces.list())
    if as_json:
        print_json([{**asdict(entry.workspace), "igrp": entry.igrp} for entry in listed])
        return
    table = Table("name", "id", "igrp", "created")
    for entry in listed:
        workspace = entry.workspace
        table.add_row(
            workspace.name, workspace.id, _text(entry.igrp), workspace.created_at.isoformat()
        )
    console.print(table)


def _print_issued(issued: IssuedKeys, as_json: bool) -> None:
    document = {**asdict(issued.workspace), "igrp": issued.igrp, "credentials": issued.keys}
    if as_json:
        print_json(document)
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

    view = run_with_services(work)
    document = customer_document(view)
    if as_json:
        print_json(document)
    else:
        console.print_json(orjson.dumps(document, default=jsonable).decode())


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
    The file is read as a stream: memory does not grow with its size.
    """

    async def work(services: Services) -> tuple[AsyncAction, dict[str, int], float]:
        found = await services.workspaces.get(name=workspace)
        jobs = services.async_actions
        with file.open("rb") as stream:
            action = await jobs.submit(
                workspace_id=found.id, type_=customer_rows.CSV_IMPORT, rows=csv_rows(stream)
            )
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
        counts = await jobs.result_counts(workspace_id=found.id, action_id=action.id)
        if not as_json:
            await _print_failed_rows(jobs, found.id, action.id)
        return action, {status.value.lower(): n for status, n in counts.items()}, seconds

    action, counts, seconds = run_with_services(work)
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
        print_json(summary)
    else:
        console.print(
            f"{summary['rows']} rows in {summary['seconds']} s: {summary['created']} created, "
            f"{summary['updated']} updated, {summary['failed']} failed ({action.id})"
        )


async def _print_failed_rows(
    jobs: AsyncActionService[Any], workspace_id: str, action_id: str
) -> None:
    """Each failed row's reason, read a page at a time (a large import may fail many)."""
    after = -1
    while page := await jobs.results(
        workspace_id=workspace_id,
        action_id=action_id,
        status=RowStatus.FAILED,
        after_row=after,
        limit=1000,
    ):
        for result in page:
            message = (result.outcome.error or {}).get("message")
            errors.print(f"row {result.row + 1}: {message}")
        after = page[-1].row


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

    events = run_with_services(work)
    if as_json:
        print_json(events)
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
    """Create the database or bring it up to date (the server also does this at start)."""
    settings = load_settings()
    database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        with database_errors():
            database.migrate()
    finally:
        database.dispose()
    console.print("database is up to date")


def main() -> None:
    app()
