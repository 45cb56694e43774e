"""What every ``patron`` command shares: consoles, options, running domain work, errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from patron.domain.errors import PatronError
from patron.services import Services, open_services
from patron.settings import Settings, get_settings

T = TypeVar("T")

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # soft wrap: an error stays on one line

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
WorkspaceOption = Annotated[
    str, typer.Option("--workspace", "-w", help="Name of the workspace to act in.")
]


def print_error(message: str) -> None:
    errors.print(f"[red]error:[/red] {escape(message)}", highlight=False)


def fail(message: str, code: int) -> typer.Exit:
    """Print a one-line error; the caller raises the returned exit."""
    print_error(message)
    return typer.Exit(code)


def load_settings() -> Settings:
    """The settings, or a one-line error per bad ``PATRON_*`` variable (exit 2)."""
    try:
        return get_settings()
    except ValidationError as invalid:
        for error in invalid.errors():
            variable = "PATRON_" + "_".join(str(part) for part in error["loc"]).upper()
            print_error(f"{variable}: {error['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(2) from None


def run_with_services(work: Callable[[Services], Awaitable[T]], *, creates: bool = False) -> T:
    """Open the services, run one piece of work, close; domain errors exit with 1.

    Only a command that ``creates`` something may create a new SQLite
    database; the others refuse to run on one that does not exist.
    """
    settings = load_settings()
    database = settings.sqlite_file
    if not creates and database is not None and not database.exists():
        raise fail(
            f"no database at {database.absolute()}: run this command in the folder where "
            "Patron runs, or point PATRON_DATABASE_URL at its database "
            "(sqlite:////absolute/path/patron.db)",
            1,
        )

    async def main() -> T:
        # A command answers at once: only a starting server waits for its database.
        services = await open_services(settings, wait=False)
        try:
            return await work(services)
        finally:
            await services.close()

    with database_errors():
        return asyncio.run(main())


@contextmanager
def database_errors() -> Iterator[None]:
    """Domain errors, and a database that cannot be reached, as one-line errors (exit 1)."""
    try:
        yield
    except PatronError as error:
        raise fail(error.message, 1) from None
    except OperationalError as error:  # unreachable, or refusing us (no such database, …)
        reason = str(error.orig or error).strip().splitlines()[0]
        raise fail(f"cannot use the database: {reason}", 1) from None


def print_json(value: Any) -> None:
    sys.stdout.write(
        orjson.dumps(value, option=orjson.OPT_INDENT_2, default=jsonable).decode() + "\n"
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError
