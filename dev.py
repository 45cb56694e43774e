#!/usr/bin/env python3
"""Patron's one entry point for developers and newcomers. Needs only Python 3.11+.

    python3 dev.py run     start Patron on SQLite (./patron.db), creating .venv on first use
    python3 dev.py test    run the whole test suite (pytest; linters included)
    python3 dev.py lint    ruff, mypy, import contracts and size limits only
    python3 dev.py bench   the benchmarks (see benchmarks/README.md)
    python3 dev.py chaos   only the adversarial tests, each run long (kills, races, fuzzing)

Extra arguments go to the underlying command (``python3 dev.py test -k batch``).
The virtualenv is (re)installed whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".patron-installed"


def ensure_venv() -> None:
    """Create .venv and install Patron with its dev tools, unless already up to date."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing Patron and its dependencies into .venv …", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def run(command: list[str]) -> int:
    """Become the command (same process id), so that signals reach it directly.

    ``kill``, a supervisor's SIGTERM or a closed terminal's SIGHUP sent to
    ``python3 dev.py run`` then stop the server itself, not only this script.
    """
    os.chdir(ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name != "nt":
        os.execv(command[0], command)  # does not return
    return subprocess.call(command)  # exec on Windows starts another process: wait for it


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may run on any python3
        print("Patron needs Python 3.11 or newer", file=sys.stderr)
        return 2
    verb, args = (argv[0], argv[1:]) if argv else ("help", [])
    commands = {
        "run": [str(BIN / "patron"), "serve", *args],
        # One worker per core; a file's tests stay on one worker (their fixtures are shared).
        "test": [str(BIN / "python"), "-m", "pytest", "-n", "auto", "--dist", "loadfile", *args],
        "lint": [
            str(BIN / "python"),
            "-m",
            "pytest",
            "tests/test_code_quality.py",
            "tests/test_architecture.py",
            *args,
        ],
        "bench": [str(BIN / "python"), "benchmarks/run.py", *args],
        "chaos": [str(BIN / "python"), "-m", "pytest", "-m", "chaos", *args],
    }
    if verb not in commands:
        print(__doc__)
        return 0 if verb in ("help", "-h", "--help") else 2
    ensure_venv()
    if verb == "chaos":
        os.environ["PATRON_CHAOS"] = "long"
    return run(commands[verb])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
