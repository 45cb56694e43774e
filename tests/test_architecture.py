"""The architecture as tests: import contracts, typed ports and size limits.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``): adapters
over services over the store over the domain; the domain free of HTTP and
SQL; capabilities in one direction; no import cycles anywhere.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "patron"
BIN = Path(sys.executable).parent

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=source_root,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(source_root), "PATH": str(BIN)},
    )


def test_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/people/profiles.py", "import patron.store.unit", "knows nothing of HTTP"),
        ("domain/people/profiles.py", "import sqlalchemy", "knows nothing of HTTP"),
        ("domain/tenancy/model.py", "import patron.domain.tracking", "one direction"),
        (
            "domain/segments/customers/document.py",
            "import patron.domain.segments.customers.membership",
            "No import cycles",
        ),
        ("store/unit_base.py", "import patron.services", "Adapters over services"),
    ],
    ids=["domain-to-store", "domain-to-sqlalchemy", "capability-upwards", "cycle", "store-up"],
)
def test_a_broken_contract_fails(tmp_path: Path, module: str, line: str, contract: str) -> None:
    """The contracts can fail: one forbidden import, added to a copy, breaks the named one."""
    copy = tmp_path / "patron"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout


def test_mypy_checks_the_store_against_each_port(tmp_path: Path) -> None:
    """A store whose unit lacks a method of the port a service needs fails the type check."""
    snippet = tmp_path / "half_store.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from collections.abc import Callable, Collection, Hashable, Sequence
            from typing import TypeVar

            from patron.domain.tracking.service import TrackingService
            from patron.store.sql_store import SqlStore

            T = TypeVar("T")
            P = TypeVar("P")


            class HalfUnit:  # answers the dedupe query, nothing else
                def existing_message_ids(
                    self, workspace_id: str, message_ids: Collection[str]
                ) -> set[str]:
                    return set()


            class HalfStore:
                async def write(self, work: Callable[[HalfUnit], T], *, size: int = 1) -> T:
                    return work(HalfUnit())

                async def write_batched(
                    self,
                    key: Hashable,
                    work: Callable[[HalfUnit, list[P]], Sequence[T]],
                    payload: P,
                    *,
                    size: int,
                ) -> T:
                    return work(HalfUnit(), [payload])[0]

                async def read(self, work: Callable[[HalfUnit], T]) -> T:
                    return work(HalfUnit())


            def complete(store: SqlStore) -> TrackingService:
                return TrackingService(store)  # the SQL unit implements TrackingUnit


            def incomplete() -> TrackingService:
                return TrackingService(HalfStore())
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"MYPYPATH": str(ROOT / "src"), "PATH": str(BIN)},
    )
    errors = [row for row in result.stdout.splitlines() if ": error:" in row]
    assert len(errors) == 1, result.stdout
    wrong = snippet.read_text().splitlines().index("    return TrackingService(HalfStore())") + 1
    assert f"half_store.py:{wrong}:" in errors[0]
    assert 'Argument 1 to "TrackingService" has incompatible type "HalfStore"' in errors[0]


def _source_files() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    text = path.read_text()
    lines = len(text.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines (at most {MAX_MODULE_LINES})"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"
