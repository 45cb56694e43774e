import inspect

import patron.client
from patron.client import PatronClientError


def test_everything_exported_is_listed_and_documented() -> None:
    public = {name for name in dir(patron.client) if not name.startswith("_")}
    modules = {"client", "customer", "errors"}
    assert public - modules == set(patron.client.__all__)
    for name in patron.client.__all__:
        member = getattr(patron.client, name)
        if inspect.isclass(member):
            assert member.__doc__, f"{name} has no docstring"


def test_every_error_is_a_patron_client_error() -> None:
    errors = [
        getattr(patron.client, n)
        for n in patron.client.__all__
        if n.endswith(("Error", "Closed", "Failed", "Rejected", "Large", "Call"))
    ]
    assert len(errors) == 6
    assert all(issubclass(error, PatronClientError) for error in errors)
