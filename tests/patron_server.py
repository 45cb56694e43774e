"""A real ``patron serve`` process for tests that need one (SDKs, crashes)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PATRON = Path(sys.executable).parent / "patron"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def patron_env(database_url: str) -> dict[str, str]:
    return {**os.environ, "PATRON_DATABASE_URL": database_url, "PATRON_LOG_LEVEL": "warning"}


def patron_cli(database_url: str, *args: str) -> str:
    """Run a ``patron`` command against the database; return its standard output."""
    result = subprocess.run(
        [str(PATRON), *args],
        env=patron_env(database_url),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(f"patron {' '.join(args)} failed: {result.stderr}")
    return result.stdout


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def running_server(database_url: str) -> Iterator[Server]:
    """Start ``patron serve`` on a free port; stop it (or reap it) on the way out."""
    with running_servers(database_url, 1) as (server,):
        yield server


@contextmanager
def running_servers(database_url: str, count: int) -> Iterator[list[Server]]:
    """Start ``count`` ``patron serve`` processes on one database at once; stop them all."""
    servers: list[Server] = []
    try:
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen(
                [str(PATRON), "serve", "--port", str(port)],
                env=patron_env(database_url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers.append(Server(process, f"http://127.0.0.1:{port}"))
        for server in servers:
            _wait_until_healthy(server)
        yield servers
    finally:
        for server in servers:
            stop(server.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 30 s (nothing if it already has)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"patron serve exited with {server.process.returncode}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("patron serve did not become healthy within 60 s")
