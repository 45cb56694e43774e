"""``patron serve`` as an operator starts it: a taken port, and the first start's keys."""

from __future__ import annotations

import os
import pty
import re
import select
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_URL
from tests.patron_server import PATRON, free_port, patron_env, stop

pytestmark = pytest.mark.server

KEY_LINE = re.compile(r"^(igrp|tracking_write_key|config_api_key|voucherify_app_\w+)=(\S+)$")
# Patron's text log format: "<UTC time> <LEVEL> <logger>: <message>".
LOG_LINE = re.compile(r"^\S+Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) +\S+: ")


def listening_socket(*, reuse_address: bool) -> socket.socket:
    """Another program's server, on a port of its own."""
    other = socket.socket()
    if reuse_address:  # as uvicorn (and so another Patron) binds
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    other.bind(("127.0.0.1", 0))
    other.listen()
    return other


@pytest.mark.parametrize("reuse_address", [False, True], ids=["plain", "reuse-address"])
def test_a_taken_port_is_reported_before_the_database_is_created(
    tmp_path: Path, keys_dir: Path, reuse_address: bool
) -> None:
    database = tmp_path / "new" / "patron.db"
    before = set(keys_dir.iterdir())
    with listening_socket(reuse_address=reuse_address) as other:
        port = other.getsockname()[1]
        result = subprocess.run(
            [str(PATRON), "serve", "--port", str(port)],
            env=patron_env(f"sqlite:///{database}"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == f"error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert not database.parent.exists()  # no database, no folder for it
    assert set(keys_dir.iterdir()) == before  # no keys issued


def test_a_taken_port_is_reported_before_postgresql_is_reached_with_many_workers() -> None:
    # A database that does not exist: reaching for it first would be another error.
    absent = make_url(POSTGRES_ADMIN_URL).set(database="patron_absent_for_this_test")
    with listening_socket(reuse_address=True) as other:
        port = other.getsockname()[1]
        result = subprocess.run(
            [str(PATRON), "serve", "--port", str(port), "--workers", "2"],
            env=patron_env(absent.render_as_string(hide_password=False)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == f"error: cannot listen on 127.0.0.1:{port}: address already in use\n"


def read_until(leader: int, marker: str, timeout: float = 60) -> str:
    """What a terminal shows until ``marker`` appears (or the program ends)."""
    shown = b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in shown and time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    return shown.decode(errors="replace").replace("\r\n", "\n")


def keys_in(text: str) -> dict[str, str]:
    return dict(m.groups() for line in text.splitlines() if (m := KEY_LINE.match(line)))


def assert_the_key_works(port: int, keys: dict[str, str]) -> None:
    response = httpx.post(
        f"http://127.0.0.1:{port}/v1/track",
        auth=(keys["tracking_write_key"], ""),
        json={"userId": "u1", "event": "Started"},
        timeout=30,
    )
    assert response.json() == {"success": True}


def test_on_a_terminal_the_first_start_shows_the_keys_there(
    database_url: str, keys_dir: Path
) -> None:
    port = free_port()
    before = set(keys_dir.iterdir())
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(PATRON), "serve", "--port", str(port)],
        env={**patron_env(database_url), "PATRON_LOG_LEVEL": "info"},
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    try:
        shown = read_until(leader, "Application startup complete")
        keys = keys_in(shown)
        assert set(keys) == {
            "igrp",
            "tracking_write_key",
            "config_api_key",
            "voucherify_app_id",
            "voucherify_app_token",
        }, shown
        assert_the_key_works(port, keys)
    finally:
        stop(process)
        os.close(leader)
    log_lines = [line for line in shown.splitlines() if LOG_LINE.match(line)]
    assert any("keys are on the terminal" in line for line in log_lines)
    assert any(f"'default' (igrp {keys['igrp']})" in line for line in log_lines)
    for kind, key in keys.items():
        if kind != "igrp":
            assert not any(key in line for line in log_lines), f"{kind} was logged"
    assert set(keys_dir.iterdir()) == before  # no file: the person at the terminal has them


def test_without_a_terminal_the_first_start_writes_the_keys_to_a_private_file(
    database_url: str, keys_dir: Path
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(PATRON), "serve", "--port", str(port)],
        env={**patron_env(database_url), "PATRON_LOG_LEVEL": "info"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    with process.stdout:
        try:
            output = read_log_until(process, "Application startup complete")
            found = re.search(r"its keys are in (\S+) ", output)
            assert found, f"the log names no keys file: {output}"
            path = Path(found.group(1))
            assert path.parent == keys_dir
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            keys = keys_in(path.read_text())
            assert_the_key_works(port, keys)
        finally:
            stop(process)
        output += process.stdout.read().decode()
    assert f"'default' (igrp {keys['igrp']})" in output
    for kind, key in keys.items():
        if kind != "igrp":
            assert key not in output, f"{kind} reached the log"


def read_log_until(process: subprocess.Popen[bytes], marker: str) -> str:
    """The server's output until ``marker`` appears in it."""
    assert process.stdout is not None
    text = ""
    deadline = time.monotonic() + 30
    while marker not in text and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            text += os.read(process.stdout.fileno(), 65536).decode()
    return text
