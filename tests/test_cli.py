"""The CLI against a real database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from patron import __version__
from patron.cli import app
from patron.settings import URL_EXAMPLES, get_settings
from tests.patron_server import PATRON


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("PATRON_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run_json(cli: CliRunner, *args: str) -> object:
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_workspace_create_prints_every_credential(cli: CliRunner) -> None:
    created = run_json(cli, "workspace", "create", "acme")
    assert isinstance(created, dict)
    assert created["name"] == "acme"
    assert created["id"].startswith("ws_")
    assert len(created["credentials"]["tracking_write_key"]) >= 32
    listed = run_json(cli, "workspace", "list")
    assert [w["name"] for w in listed] == ["acme"]  # type: ignore[union-attr]


def test_a_supplied_write_key_is_kept_and_cannot_be_reused(cli: CliRunner) -> None:
    created = run_json(cli, "workspace", "create", "moved", "--write-key", "segment-key-123")
    credentials = created["credentials"]  # type: ignore[index]
    assert credentials["tracking_write_key"] == "segment-key-123"
    assert len(credentials["config_api_key"]) >= 32  # the Config API's key, generated
    assert isinstance(created["igrp"], int)  # type: ignore[index]
    again = cli.invoke(app, ["workspace", "create", "other", "--write-key", "segment-key-123"])
    assert again.exit_code == 1
    assert "already in use" in again.stderr


def test_duplicate_names_and_unknown_workspaces_are_clear_errors(cli: CliRunner) -> None:
    run_json(cli, "workspace", "create", "acme")
    duplicate = cli.invoke(app, ["workspace", "create", "acme"])
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.stderr
    missing = cli.invoke(app, ["customers", "get", "u1", "--workspace", "nope"])
    assert missing.exit_code == 1
    assert "no workspace named 'nope'" in missing.stderr


def test_add_key_issues_a_working_second_key(cli: CliRunner) -> None:
    run_json(cli, "workspace", "create", "acme")
    added = run_json(cli, "workspace", "add-key", "--workspace", "acme")
    assert len(added["tracking_write_key"]) == 32  # type: ignore[index]


def test_add_key_issues_keys_of_every_kind(cli: CliRunner, database_url: str) -> None:
    import anyio

    from patron.domain.tenancy.service import KeyKind
    from patron.services import open_services
    from patron.settings import Settings

    created = run_json(cli, "workspace", "create", "acme")
    added = run_json(cli, "workspace", "add-key", "--workspace", "acme", "--kind", "config_api_key")
    config_key = added["config_api_key"]  # type: ignore[index]
    chosen = run_json(cli, "workspace", "add-key", "--workspace", "acme", "--key", "chosen-key-1")
    assert chosen["tracking_write_key"] == "chosen-key-1"  # type: ignore[index]

    async def owners() -> tuple[str, str]:
        services = await open_services(Settings(database_url=database_url))
        try:
            return (
                await services.workspaces.authenticate(key=config_key, kind=KeyKind.CONFIG_API_KEY),
                await services.workspaces.authenticate(
                    key="chosen-key-1", kind=KeyKind.TRACKING_WRITE_KEY
                ),
            )
        finally:
            await services.close()

    workspace_id = created["id"]  # type: ignore[index]
    assert anyio.run(owners) == (workspace_id, workspace_id)
    refused = cli.invoke(app, ["workspace", "add-key", "--kind", "nonsense"])
    assert refused.exit_code == 2


def test_customers_and_events_are_inspectable(cli: CliRunner, database_url: str) -> None:
    import anyio

    from patron.domain.tracking.messages import MessageType, build_message
    from patron.services import open_services
    from patron.settings import Settings

    key = run_json(cli, "workspace", "create", "shop")["credentials"]["tracking_write_key"]  # type: ignore[index]
    assert key

    async def send() -> None:
        services = await open_services(Settings(database_url=database_url))
        workspace = await services.workspaces.get(name="shop")
        from datetime import UTC, datetime

        calls = [
            (MessageType.IDENTIFY, {"userId": "u1", "traits": {"email": "a@b.c", "plan": "pro"}}),
            (MessageType.TRACK, {"userId": "u1", "anonymousId": "a1", "event": "Paid"}),
        ]
        messages = [build_message(t, d, received_at=datetime.now(UTC))[0] for t, d in calls]
        await services.tracking.ingest(workspace_id=workspace.id, messages=messages)  # type: ignore[arg-type]
        await services.close()

    anyio.run(send)
    customer = run_json(cli, "customers", "get", "a1", "--workspace", "shop")
    assert customer["external_id"] == "u1"  # type: ignore[index]
    assert customer["email"] == "a@b.c"  # type: ignore[index]
    assert customer["traits"] == {"email": "a@b.c", "plan": "pro"}  # type: ignore[index]
    assert {"kind": "anonymous_id", "value": "a1"} in customer["identities"]  # type: ignore[index]
    events = run_json(cli, "events", "list", "--customer", "u1", "--workspace", "shop")
    assert [e["type"] for e in events] == ["track", "identify"]  # type: ignore[union-attr]
    assert events[0]["document"]["event"] == "Paid"  # type: ignore[index]
    assert events[0]["customer_id"] == customer["id"]  # type: ignore[index]
    table = cli.invoke(app, ["events", "list", "--customer", "u1", "--workspace", "shop"])
    assert "Paid" in table.stdout
    missing = cli.invoke(app, ["customers", "get", "nobody", "--workspace", "shop"])
    assert missing.exit_code == 1
    assert "no customer 'nobody'" in missing.stderr


def test_migrate_brings_an_empty_database_up_to_date(cli: CliRunner) -> None:
    result = cli.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout
    assert cli.invoke(app, ["migrate"]).exit_code == 0


def test_customers_import_reads_a_csv_and_reports_each_row(cli: CliRunner, tmp_path: Path) -> None:
    run_json(cli, "workspace", "create", "shop")
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("source_id,name,tier\nu1,Ada,gold\nu2,Bob,\nu3,,\nu4,Cy,x,extra\n")
    summary = run_json(cli, "customers", "import", str(csv_file), "--workspace", "shop")
    assert summary["status"] == "DONE"  # type: ignore[index]
    assert (summary["rows"], summary["created"], summary["failed"]) == (4, 3, 1)  # type: ignore[index]
    ada = run_json(cli, "customers", "get", "u1", "--workspace", "shop")
    assert ada["name"] == "Ada"  # type: ignore[index]
    assert ada["attributes"] == {"tier": "gold"}  # type: ignore[index]
    text = cli.invoke(app, ["customers", "import", str(csv_file), "--workspace", "shop"])
    assert text.exit_code == 0
    assert "row 4: has 4 cells but the header names 3 columns" in text.stderr
    assert "0 created, 3 updated, 1 failed" in text.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe")
    refused = cli.invoke(app, ["customers", "import", str(bad), "--workspace", "shop"])
    assert refused.exit_code == 1
    assert "UTF-8" in refused.stderr


def test_version_is_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"patron {__version__}\n"


BAD_URLS = {
    "mysql://patron@db/patron": "Patron does not run on 'mysql'",
    "nonsense": "not a database URL",
    "postgresql://host:notaport/db": "not a database URL",
    "postgresql://patron:secret@host:99999/db": "not a database URL",
}
EVERY_COMMAND = [
    ["serve"],
    ["migrate"],
    ["workspace", "create", "acme"],
    ["workspace", "list"],
    ["workspace", "add-key"],
    ["customers", "get", "u1"],
    ["events", "list", "--customer", "u1"],
]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_a_bad_database_url_is_a_one_line_error(
    url: str, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATRON_DATABASE_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, command)
    get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: PATRON_DATABASE_URL: {BAD_URLS[url]}: use {URL_EXAMPLES}\n"
    assert "secret" not in result.stderr


def test_the_installed_command_prints_no_traceback_for_a_bad_url(tmp_path: Path) -> None:
    env = {**os.environ, "PATRON_DATABASE_URL": "postgresql://host:notaport/db"}
    for command in (["serve"], ["customers", "get", "u1"]):
        result = subprocess.run(
            [str(PATRON), *command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


READING_COMMANDS = [
    ["workspace", "list"],
    ["workspace", "add-key"],
    ["customers", "get", "u1"],
    ["events", "list", "--customer", "u1"],
    ["customers", "import", "../customers.csv"],
]


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_commands_that_need_data_refuse_a_missing_database(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "customers.csv").write_text("source_id\nu1\n")
    elsewhere = tmp_path / "another-folder"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("PATRON_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, command)
    get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: no database at {elsewhere / 'patron.db'}: ")
    assert "PATRON_DATABASE_URL" in result.stderr
    assert result.stderr.count("\n") == 1
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("command", [["migrate"], ["workspace", "create", "acme"]], ids=" ".join)
def test_commands_that_create_may_create_the_database(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PATRON_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, command)
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "patron.db").exists()


def test_workspace_list_shows_each_igrp(cli: CliRunner) -> None:
    first = run_json(cli, "workspace", "create", "acme")
    second = run_json(cli, "workspace", "create", "shop")
    listed = run_json(cli, "workspace", "list")
    assert [(w["name"], w["igrp"]) for w in listed] == [  # type: ignore[union-attr]
        ("acme", first["igrp"]),  # type: ignore[index]
        ("shop", second["igrp"]),  # type: ignore[index]
    ]
    table = cli.invoke(app, ["workspace", "list"])
    assert "igrp" in table.stdout
    row = next(line for line in table.stdout.splitlines() if "shop" in line)
    assert f" {second['igrp']} " in row  # type: ignore[index]


@pytest.mark.postgres
@pytest.mark.parametrize("command", [*READING_COMMANDS[:4], ["migrate"]], ids=" ".join)
def test_a_postgresql_database_that_does_not_exist_is_a_one_line_error(
    command: list[str], postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = make_url(postgres_database).set(database="patron_absent_for_this_test")
    monkeypatch.setenv("PATRON_DATABASE_URL", absent.render_as_string(hide_password=False))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, command)
    get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: cannot use the database: ")
    assert 'database "patron_absent_for_this_test" does not exist' in result.stderr
    assert result.stderr.count("\n") == 1
