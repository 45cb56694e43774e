"""The public surface: everything exported is listed, documented, and in the error tree."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import patron
import patron.client
from patron.client import errors


def test_everything_exported_is_listed_and_documented() -> None:
    public = {name for name in dir(patron.client) if not name.startswith("_")}
    modules = {"client", "customer", "errors"}
    assert public - modules == set(patron.client.__all__)
    for name in patron.client.__all__:
        member = getattr(patron.client, name)
        if inspect.isclass(member):
            assert inspect.getdoc(member), f"{name} has no docstring"
            for attribute, value in vars(member).items():
                if inspect.isfunction(value) and not attribute.startswith("_"):
                    assert inspect.getdoc(value), f"{name}.{attribute} has no docstring"


def test_every_error_is_in_the_documented_tree() -> None:
    tree = errors.__doc__ or ""
    raised = [
        member
        for member in vars(errors).values()
        if inspect.isclass(member) and issubclass(member, Exception)
    ]
    assert len(raised) == 6
    for error in raised:
        assert issubclass(error, errors.PatronClientError)
        assert error.__name__ in tree
        assert error.__name__ in patron.client.__all__
    assert issubclass(errors.InvalidCall, ValueError)
    assert issubclass(errors.MessageTooLarge, errors.InvalidCall)


def test_the_client_is_typed() -> None:
    assert (Path(patron.__file__).parent / "py.typed").exists()


def test_the_client_does_not_load_the_server() -> None:
    check = (
        "import sys, patron.client; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'fastapi', 'starlette', 'sqlalchemy', 'pydantic', 'uvicorn'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
