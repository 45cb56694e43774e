"""Bad and odd requests for every route of every surface, for the fuzz test (``test_fuzz.py``).

The routes come from the app itself (:func:`routes`): each surface app the
dispatcher holds lists its own, so a new route, or a new surface, is fuzzed
without a word here — except how the new surface authenticates
(:data:`CREDENTIALS`) and what its errors look like (:data:`ERROR_SHAPES`),
which the test insists on knowing.

Most requests are valid ones — credentials, real ids, a real body
(``fuzz_documents.py``) — with one place made odd (a :class:`Target`): a path
id, a query parameter, a property at any depth of the body. An odd value
that gets past every other check reaches the code that must refuse it. The
rest are anything at all: any method, no or other credentials, non-JSON or
mislabelled bodies, broken compression, CSV uploads. The odd values are in
``fuzz_values.py``.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from hypothesis import strategies as st
from starlette.routing import Route as StarletteRoute

from patron.app import PatronApp
from patron.surfaces.segment.app import ENDPOINTS, TrackingApp
from tests.surfaces.fuzz_documents import (
    Place,
    changed,
    parameters,
    places,
    resolved,
    templates,
    valid_parameter,
)
from tests.surfaces.fuzz_values import (
    JSON,
    KEYS,
    MOMENTS,
    NUMERALS,
    OBJECTS,
    ODD,
    ODD_TEXT,
    TEXTS,
    odd_ids,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True, order=True)
class Route:
    surface: str  # the attribute of PatronApp holding the app that serves it
    path: str  # a template: "{name}" for each path parameter
    methods: tuple[str, ...]

    @property
    def parameters(self) -> list[str]:
        return _PARAMETER.findall(self.path)

    @property
    def kind(self) -> str:
        """What its bodies are like: its path, or the call a tracking endpoint takes."""
        if self.surface != "segment":
            return self.path
        call = ENDPOINTS[self.path.rpartition("/")[2]]
        return "batch" if call is None else call.value


def surfaces(app: PatronApp) -> dict[str, object]:
    """Every surface app the dispatcher holds, by attribute name (an unset hook is none)."""
    return {
        name: value for name, value in vars(app).items() if isinstance(value, FastAPI | TrackingApp)
    }


def routes(app: PatronApp) -> list[Route]:
    """Every route of every surface, as each surface app lists them."""
    found: list[Route] = []
    for name, surface in surfaces(app).items():
        if isinstance(surface, TrackingApp):
            found += [Route(name, f"/v1/{call}", ("POST", "OPTIONS")) for call in ENDPOINTS]
            continue
        assert isinstance(surface, FastAPI)
        methods: dict[str, set[str]] = {}
        documented = get_openapi(title=name, version="0", routes=surface.routes)["paths"]
        for path, operations in documented.items():
            methods.setdefault(path, set()).update(m.upper() for m in operations)
        for route in surface.routes:  # those left out of the docs (/health, /docs…)
            if isinstance(route, StarletteRoute):
                methods.setdefault(route.path, set()).update(route.methods or ())
        found += [Route(name, path, tuple(sorted(m))) for path, m in methods.items()]
    return sorted(found)


# -- who is calling ------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """The workspace the fuzz calls as: its keys (by KeyKind value) and real ids."""

    keys: Mapping[str, str]
    known: Mapping[str, tuple[str, ...]]  # ids of real records, by path parameter name

    def real_ids(self, parameter: str) -> tuple[str, ...]:
        return self.known.get(parameter) or self.every_id

    @property
    def every_id(self) -> tuple[str, ...]:
        return tuple(sorted({i for ids in self.known.values() for i in ids}))


def _basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:".encode()).decode()


# How each surface authenticates: its headers, given the tenant's keys.
CREDENTIALS: dict[str, Callable[[Mapping[str, str]], dict[str, str]]] = {
    "api": lambda keys: {},
    "segment": lambda keys: {"Authorization": _basic(keys["tracking_write_key"])},
    "voucherify": lambda keys: {
        "X-App-Id": keys["voucherify_app_id"],
        "X-App-Token": keys["voucherify_app_token"],
    },
    "infinity": lambda keys: {"Authorization": f"Bearer {keys['config_api_key']}"},
    "talon_integration": lambda keys: {
        "Authorization": f"ApiKey-v1 {keys['talon_integration_key']}"
    },
    "talon_management": lambda keys: {
        "Authorization": f"ManagementKey-v1 {keys['talon_management_key']}"
    },
}


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


# What each surface's error bodies look like (the status is checked apart).
def _talon_error(body: Any, status: int) -> bool:
    return (
        body.get("StatusCode") == status
        and _is_text(body.get("message"))
        and isinstance(body.get("errors"), list)
        and all({"title", "source"} <= set(item) for item in body["errors"])
    )


ERROR_SHAPES: dict[str, Callable[[Any, int], bool]] = {
    "api": lambda body, status: (
        _is_text(body.get("code")) and _is_text(body.get("message")) and "request_id" in body
    ),
    "segment": lambda body, status: (
        body.get("success") is False and _is_text(body.get("code")) and "message" in body
    ),
    "voucherify": lambda body, status: (
        body.get("code") == status
        and _is_text(body.get("key"))
        and _is_text(body.get("details"))
        and str(body.get("request_id")).startswith("v-")
    ),
    "infinity": lambda body, status: (
        set(body) == {"error"}
        and body["error"].get("code") == status
        and _is_text(body["error"].get("type"))
        and _is_text(body["error"].get("message"))
    ),
    "talon_integration": _talon_error,
    "talon_management": _talon_error,
}


# -- the request ---------------------------------------------------------------------


@dataclass(frozen=True)
class FuzzRequest:
    route: Route
    method: str
    path: str  # percent-encoded
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def __repr__(self) -> str:
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in self.query)
        return (
            f"{self.method} {self.path}{'?' + query if query else ''} "
            f"headers={self.headers!r} body={self.body[:600]!r}"
        )


# -- bodies --------------------------------------------------------------------------

CONTENT_TYPES = [
    "application/json; charset=utf-8", "text/plain", "text/csv",
    "application/x-www-form-urlencoded", "multipart/form-data", "application/octet-stream",
    "multipart/form-data; boundary=zz", "application/json; charset=latin-1",
]  # fmt: skip
BODY_METHODS = ("POST", "PUT", "PATCH")
Body = tuple[bytes, dict[str, str]]


def _json(document: Any, ascii_only: bool = True) -> bytes:
    # The standard library, not orjson: it writes integers of any size.
    return json.dumps(document, ensure_ascii=ascii_only, allow_nan=False).encode(
        "utf-8", "surrogatepass"
    )


def _multipart(name: str, content: bytes) -> Body:
    boundary = "fuzzfuzzfuzz"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="c.csv"'
    body = f"{head}\r\n\r\n".encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


CSV_COLUMNS = st.sampled_from(
    ["source_id", "name", "email", "birthdate", "address_city", "metadata_x", "id", "x"]
)
CSV_FILES = st.tuples(
    st.lists(CSV_COLUMNS | ODD_TEXT, min_size=1, max_size=4),
    st.lists(st.lists(TEXTS, max_size=4), max_size=4),
).map(
    lambda table: "\r\n".join(
        ",".join(json.dumps(cell) if i % 2 else cell for i, cell in enumerate(row))
        for row in [table[0], *table[1]]
    ).encode("utf-8", "surrogatepass")
)


def odd_bodies(kind: str, known: Mapping[str, tuple[str, ...]]) -> st.SearchStrategy[Body]:
    """Any body, described by headers that may not fit it."""
    valid = st.sampled_from(templates(kind)).map(lambda document: resolved(document, known))
    document = valid | JSON | OBJECTS
    as_json = st.tuples(document, st.booleans()).map(lambda d: _json(*d))
    typed = st.sampled_from(CONTENT_TYPES)
    return st.one_of(
        st.tuples(as_json, typed).map(lambda b: (b[0], {"Content-Type": b[1]})),
        as_json.map(lambda b: (gzip.compress(b), {"Content-Encoding": "gzip"})),
        st.tuples(st.binary(max_size=40), st.sampled_from(["gzip", "deflate", "br", "x"])).map(
            lambda b: (b[0], {"Content-Encoding": b[1]})
        ),
        st.tuples(st.binary(max_size=60), typed).map(lambda b: (b[0], {"Content-Type": b[1]})),
        st.just((b"", {})),
        st.tuples(st.sampled_from(["file", "x"]), CSV_FILES).map(lambda p: _multipart(*p)),
    )


# -- what to make odd ----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One place of a valid request to a route kind, which the fuzz makes odd."""

    routes: tuple[Route, ...]  # the kind's routes (a tracking call's aliases)
    method: str
    part: str  # "path", "query", "body" or "request" (anything: method, headers, body)
    name: str = ""  # the path or query parameter ("" for any query parameter)
    template: Any = None  # the valid body whose ``place`` is made odd
    place: Place = ()


def targets(every_route: list[Route]) -> list[Target]:
    """Every place of every route kind's valid requests that the fuzz makes odd."""
    kinds: dict[tuple[str, str], list[Route]] = {}
    for route in every_route:
        kinds.setdefault((route.surface, route.kind), []).append(route)
    found: list[Target] = []
    for same_kind in kinds.values():
        first, group = same_kind[0], tuple(same_kind)
        for method in [m for m in first.methods if m not in ("HEAD", "OPTIONS")] or ["GET"]:
            found.append(Target(group, method, "request"))
            found += [Target(group, method, "path", name) for name in first.parameters]
            # (not DELETE: a valid deletion would delete the records the fuzz uses)
            if method == "GET" or method in BODY_METHODS:
                names = [*parameters(first.path), *([""] if method == "GET" else [])]
                found += [Target(group, method, "query", name) for name in names]
            if method in BODY_METHODS:
                found += [
                    Target(group, method, "body", template=template, place=place)
                    for template in templates(first.kind)
                    for place in places(template, first.surface)
                ]
    return found


FLAGS = st.sampled_from(["true", "True", "TRUE", "false", "yes", "no", "1", "0", "", " true"])


def _odd_parameter(name: str, tenant: Tenant) -> st.SearchStrategy[str]:
    if name in ("page", "limit", "offset", "pageSize", "skip"):
        return st.integers(2**31, 2**70).map(str) | NUMERALS | TEXTS
    moment = ("date", "_at", "Date", "Before", "After", "now")
    if any(part in name for part in moment) or name == "starting_after":
        return MOMENTS | MOMENTS | TEXTS
    if name in ("dry", "silent", "runRuleEngine", "forceCompleteEvaluation", "exactMatch"):
        return FLAGS | TEXTS
    return odd_ids(tenant.every_id) | TEXTS


# -- the whole request ---------------------------------------------------------------


def _path(route: Route, values: dict[str, str]) -> str:
    path = route.path
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", quote(value, safe=""), 1)
    return path


@st.composite
def _any_request(draw: st.DrawFn, target: Target, tenant: Tenant) -> FuzzRequest:
    """Anything at all to the route: any method, credentials or none, any body."""
    route = draw(st.sampled_from(target.routes))
    method = draw(st.sampled_from([target.method] * 4 + list(METHODS)))
    own = CREDENTIALS[route.surface](tenant.keys)
    others = [CREDENTIALS[name](tenant.keys) for name in sorted(CREDENTIALS)]
    odd = {"Authorization": draw(st.sampled_from(["ApiKey-v1 k", "Bearer", "Basic %%%", ""]))}
    headers = draw(st.sampled_from([own] * 4 + [{}, odd, *others]))
    body, described = (b"", {})
    if method != "HEAD":
        body, described = draw(odd_bodies(route.kind, tenant.known))
    values = {name: draw(odd_ids(tenant.every_id)) for name in route.parameters}
    prefix = draw(st.sampled_from(["", "/any/prefix"])) if route.surface == "segment" else ""
    query = draw(st.lists(st.tuples(KEYS, TEXTS), max_size=2))
    return FuzzRequest(
        route, method, prefix + _path(route, values), query, {**headers, **described}, body
    )


# How often each part of a request is the odd one.
PARTS = ["body", "body", "query", "path", "request"]


def requests(every_target: list[Target], tenant: Tenant) -> st.SearchStrategy[FuzzRequest]:
    """Valid requests with one place made odd (or anything at all), each part as often
    as ``PARTS`` says, each target of a part as often as the others."""
    by_part = {part: [t for t in every_target if t.part == part] for part in set(PARTS)}
    chosen = st.sampled_from([part for part in PARTS if by_part[part]])
    return chosen.flatmap(lambda part: st.sampled_from(by_part[part])).flatmap(
        lambda target: _request(target, tenant)
    )


@st.composite
def _request(draw: st.DrawFn, target: Target, tenant: Tenant) -> FuzzRequest:
    if target.part == "request":
        return draw(_any_request(target, tenant))
    route = draw(st.sampled_from(target.routes))
    values = {name: draw(st.sampled_from(tenant.real_ids(name))) for name in route.parameters}
    query: list[tuple[str, str]] = []
    if target.method != "DELETE":  # valid parameters too (a deletion's would match records)
        names = draw(st.lists(st.sampled_from(parameters(route.path) or [""]), max_size=3))
        query += [
            (name, valid_parameter(name, route.path)) for name in dict.fromkeys(names) if name
        ]
    document = draw(st.sampled_from(templates(route.kind)))
    if target.part == "path":
        values[target.name] = draw(odd_ids(tenant.every_id))
    elif target.part == "query":
        name = target.name or draw(KEYS)
        query = [(k, v) for k, v in query if k != name]
        query.append((name, draw(_odd_parameter(name, tenant))))
    else:
        document = changed(target.template, target.place, draw(ODD))
    document = resolved(document, tenant.known)
    headers = CREDENTIALS[route.surface](tenant.keys)
    body = b""
    if target.method in BODY_METHODS:
        body, headers = _json(document), {**headers, "Content-Type": "application/json"}
    return FuzzRequest(route, target.method, _path(route, values), query, headers, body)
