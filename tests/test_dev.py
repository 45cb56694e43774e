"""``python3 dev.py run``: a signal sent to it stops the server it started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.patron_server import free_port, patron_env

pytestmark = pytest.mark.server

DEV = Path(__file__).resolve().parent.parent / "dev.py"


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize(
    "signal_", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name
)
def test_a_signal_to_dev_py_run_stops_the_server(tmp_path: Path, signal_: signal.Signals) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(DEV), "run", "--port", str(port)],
        env=patron_env(f"sqlite:///{tmp_path / 'patron.db'}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a group of its own, to clean up whatever it leaves
    )
    try:
        deadline = time.monotonic() + 120  # the first run may install .venv
        while not healthy(port):
            assert process.poll() is None, "dev.py run ended by itself"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        process.send_signal(signal_)
        process.wait(timeout=30)
        # Nothing answers any more: the server was this very process, not a child left behind.
        assert not healthy(port)
    finally:
        with contextlib.suppress(ProcessLookupError):  # none left: as it should be
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
