"""Text in a URL that no record can hold: refused before it reaches a database.

PostgreSQL's text and jsonb cannot hold the NUL character, so Patron stores
none (bodies holding one are refused where they are read, ``body.py``). A
URL can still carry one, percent-encoded (``/v1/customers/%00``): as a path
id it names nothing (404), as a query parameter it is refused (400). Either
way the database never sees it, so SQLite and PostgreSQL answer alike.
"""

from __future__ import annotations

from starlette.requests import Request

from patron.domain.errors import Invalid, NotFound, Problem

NUL = "\x00"


def refuse_unstorable_text(request: Request) -> None:
    """NotFound for a path parameter holding NUL, Invalid for a query parameter.

    A path parameter ``customer_id`` names a ``customer`` (the kind a
    surface's not-found answer reports).
    """
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise NotFound(name.removesuffix("_id"), value)
    problems = [
        Problem("must not contain the NUL character", name.replace(NUL, "\\u0000"))
        for name, value in request.query_params.multi_items()
        if NUL in name or NUL in value
    ]
    if problems:
        raise Invalid.of(problems)
