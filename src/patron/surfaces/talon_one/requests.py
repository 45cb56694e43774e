"""What every Talon.One handler starts with: who is calling, the body, the query's flags."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from patron.domain.documents import deeper_than
from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.promotions.applications import Caller
from patron.services import Services
from patron.surfaces.http.body import parse_json, read_body
from patron.surfaces.http.numbers import whole_number
from patron.surfaces.http.url import refuse_unstorable_text

MAX_ID = 2**31 - 1  # Talon's ids are 32-bit integers
MAX_BODY = 4 * 1024 * 1024  # a cart of 1,000 items with attributes fits many times over
# How deep a body's objects and lists may nest: far more than any Talon body needs (a
# ruleset's deepest Talang is some 40), far less than what the JSON encoder that keeps
# and digests them takes (254).
MAX_DEPTH = 100


def _credentials(request: Request) -> tuple[str, str]:
    scheme, _, key = request.headers.get("authorization", "").strip().partition(" ")
    return scheme, key.strip()


async def integration(request: Request) -> tuple[Services, Caller]:
    """The services and the application an ``ApiKey-v1`` key names, or Unauthorized."""
    services: Services = request.app.state.services
    _, key = _credentials(request)
    caller = await services.applications.integration_caller(key)
    refuse_unstorable_text(request)
    return services, caller


async def management(request: Request) -> tuple[Services, str]:
    """The services and the workspace of a ``ManagementKey-v1`` key or ``Bearer`` token."""
    services: Services = request.app.state.services
    scheme, key = _credentials(request)
    workspace_id = await services.applications.management_workspace(scheme, key)
    refuse_unstorable_text(request)
    return services, workspace_id


async def json_object(request: Request, *, limit: int = MAX_BODY) -> dict[str, Any]:
    """The body as a JSON object (an empty body reads as ``{}``), or Invalid."""
    raw = await read_body(request, limit=limit)
    if not raw.strip():
        return {}
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise Invalid("the body must be a JSON object")
    if deeper_than(value, MAX_DEPTH):
        raise Invalid(f"the body must nest at most {MAX_DEPTH} levels deep")
    return value


def flag(request: Request, name: str, *, default: bool = False) -> bool:
    """A boolean query parameter as every client spells it: ``true``, ``True`` (six-era
    Python SDKs), ``false``, ``1``, ``0``, ``yes``, ``no``."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    folded = value.strip().lower()
    if folded in ("true", "1", "yes"):
        return True
    if folded in ("false", "0", "no"):
        return False
    raise Invalid.of([Problem("true or false", name)])


def path_id(text: str, kind: str) -> int:
    """An integer id from the path; anything else names no ``kind`` (404)."""
    number = whole_number(text)
    if number is None or not 0 < number <= MAX_ID:
        raise NotFound(kind, text)
    return number


def silent(request: Request) -> bool:
    """``silent``: ``yes`` answers 204 with no body; absent or ``no`` (Talon's default is
    yes, which SDKs 4 to 9 cannot read) answers with the body."""
    value = request.query_params.get("silent")
    if value is None or value.strip().lower() in ("", "no", "false"):
        return False
    if value.strip().lower() in ("yes", "true"):
        return True
    raise Invalid.of([Problem("yes or no", "silent")])


async def account_id(services: Services, workspace_id: str) -> int:
    """Talon's integer account id: the workspace's installation number."""
    return await services.workspaces.installation_number(workspace_id)
