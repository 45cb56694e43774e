"""The CLI against a real database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.settings import get_settings


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
