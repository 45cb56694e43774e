"""What a start tells its operator: the first start's keys never reach a log."""

from __future__ import annotations

import io
import logging
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from patron import startup
from patron.app import create_app
from patron.domain.tenancy.model import Workspace
from patron.domain.tenancy.service import IssuedKeys, ListedWorkspace
from patron.settings import Settings

KEYS = {
    "tracking_write_key": "tw-secret-0123456789",
    "config_api_key": "cf-secret-0123456789",
    "voucherify_app_id": "va-secret-0123456789",
    "voucherify_app_token": "vt-secret-0123456789",
}
ISSUED = IssuedKeys(Workspace("ws_abc", "default", datetime.now(UTC)), KEYS, igrp=7)


class Recorder(logging.Handler):
    """Every record the ``patron`` logger emits, as its handlers would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def logged() -> Iterator[Recorder]:
    recorder = Recorder()
    logger = logging.getLogger("patron")
    old_level = logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(old_level)


def assert_no_key_in(text: str, keys: dict[str, str]) -> None:
    for kind, key in keys.items():
        assert key not in text, f"the {kind} was logged"


def test_on_a_terminal_the_keys_are_printed_there_and_no_file_is_made(
    tmp_path: Path, logged: Recorder
) -> None:
    terminal = io.StringIO()
    assert startup.hand_over_keys(ISSUED, terminal=terminal, folder=tmp_path) is None
    shown = terminal.getvalue()
    for kind, key in KEYS.items():
        assert f"{kind}={key}\n" in shown
    assert "igrp=7\n" in shown
    assert list(tmp_path.iterdir()) == []
    assert_no_key_in(logged.text, KEYS)
    assert "'default' workspace (igrp 7)" in logged.text


def test_without_a_terminal_the_keys_go_to_a_file_only_its_owner_reads(
    tmp_path: Path, logged: Recorder
) -> None:
    path = startup.hand_over_keys(ISSUED, terminal=None, folder=tmp_path)
    assert path == tmp_path / "patron-keys-ws_abc.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert {f"{kind}={key}" for kind, key in KEYS.items()} <= set(lines)
    assert "igrp=7" in lines
    assert_no_key_in(logged.text, KEYS)
    assert str(path) in logged.text  # the log says where the keys are
    assert logged.lines[-1].startswith("WARNING: ")


def test_an_existing_file_or_link_is_never_written_through(
    tmp_path: Path, logged: Recorder
) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    (tmp_path / "patron-keys-ws_abc.txt").symlink_to(elsewhere)
    assert startup.hand_over_keys(ISSUED, terminal=None, folder=tmp_path) is None
    assert not elsewhere.exists()
    assert_no_key_in(logged.text, KEYS)
    assert logged.lines[-1].startswith("ERROR: ")
    assert "patron workspace add-key --workspace default" in logged.text


def test_an_unwritable_folder_is_an_error_naming_the_remedy(
    tmp_path: Path, logged: Recorder
) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    assert startup.hand_over_keys(ISSUED, terminal=None, folder=missing) is None
    assert_no_key_in(logged.text, KEYS)
    assert "could not write its keys" in logged.text


def test_the_keys_folder_is_the_setting_else_the_databases_else_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PATRON_KEYS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    sqlite = Settings(database_url="sqlite:///data/patron.db")
    assert startup.keys_folder(sqlite) == tmp_path / "data"
    postgres = Settings(database_url="postgresql://patron@db:5432/patron")
    assert startup.keys_folder(postgres) == tmp_path
    chosen = Settings(database_url="sqlite:///patron.db", keys_dir="/run/secrets")
    assert startup.keys_folder(chosen) == Path("/run/secrets")


def test_the_start_names_each_workspace_with_its_igrp(logged: Recorder) -> None:
    now = datetime.now(UTC)
    listed = [ListedWorkspace(Workspace(f"ws_{n}", f"shop-{n}", now), n) for n in range(1, 13)]
    startup.log_workspaces(listed[:2])
    assert logged.lines[-1] == "INFO: workspaces: 'shop-1' (igrp 1), 'shop-2' (igrp 2)"
    startup.log_workspaces(listed)
    assert "'shop-10' (igrp 10) and 2 more (`patron workspace list`)" in logged.lines[-1]
    assert "shop-11" not in logged.lines[-1]


@pytest.mark.anyio
@pytest.mark.parametrize("on_terminal", [True, False], ids=["terminal", "no-terminal"])
async def test_the_first_start_hands_over_the_keys_and_never_logs_them(
    settings: Settings,
    tmp_path: Path,
    logged: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    on_terminal: bool,
) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(startup, "interactive_terminal", lambda: terminal if on_terminal else None)
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    settings = settings.model_copy(update={"keys_dir": str(keys_dir)})
    app = create_app(settings)
    async with app.api.router.lifespan_context(app.api):
        listed = await app.services.workspaces.list()
    files = list(keys_dir.iterdir())
    shown = terminal.getvalue() if on_terminal else files[0].read_text()
    assert len(files) == (0 if on_terminal else 1)
    keys = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    assert keys.pop("igrp") == str(listed[0].igrp)
    assert set(keys) == set(KEYS)
    assert_no_key_in(logged.text, keys)
    assert f"workspaces: 'default' (igrp {listed[0].igrp})" in logged.text
    async with app.api.router.lifespan_context(app.api):  # a second start shows no keys
        pass
    assert len(list(keys_dir.iterdir())) == len(files)
    assert terminal.getvalue() == (shown if on_terminal else "")
