"""The ASGI application: every API surface over one set of services.

How a request is dispatched
---------------------------
Each API surface is an app of its own. :class:`PatronApp` hands a request to
exactly one of them, chosen by where the surface is mounted and how its
clients authenticate (:meth:`PatronApp.surface_for`); the first rule that
matches wins:

1. Segment's fixed endpoints, ``…/v1/<call>`` (``track``/``t``, ``identify``/``i``,
   ``batch``/``b``, ``import``…, behind any path prefix a client's host URL
   has): the Segment tracking API, a lean ASGI app (the hot path). Its
   clients authenticate with Basic auth, or a ``writeKey`` in the body.
2. ``/config`` and below: the Infinity Config API (``Authorization: Bearer``
   on ``/config/v2/igrps/{igrp}/…``).
3. ``/v1`` and ``/v2`` and below with ``Authorization: ApiKey-v1 …``:
   Talon.One's Integration API; with ``ManagementKey-v1 …`` or ``Bearer …``
   (and ``/v1/sessions``, where its clients log in): Talon.One's Management
   API. Other requests under ``/v2`` reach the Integration API too (which
   asks for a key in Talon's format).
4. Other requests under ``/v1``: the Voucherify API (``X-App-Id`` and
   ``X-App-Token`` headers).
5. Everything else (``/health``, ``/ready``, ``/metrics``, paths no surface
   owns) and the lifespan: the root app, which answers in Patron's plain JSON.

The app a request reaches answers every error of it in its own format —
domain errors its handlers raise, unknown routes (404), wrong methods (405)
and unexpected exceptions (500, logged once with a request id): the format
follows from the dispatch above, never from a guess at the path
(``surfaces/http/errors.py``).

Every HTTP request gets a request id (its log lines carry it) and is counted
and timed for ``/metrics`` by surface and route (``patron/observability/``).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from patron import __version__, startup
from patron.observability.endpoints import add_endpoints
from patron.observability.logs import configure_logging
from patron.observability.metrics import metrics
from patron.observability.readiness import Readiness
from patron.observability.requests import ObservedRequests, route_template
from patron.services import Services, open_services
from patron.settings import Settings, get_settings
from patron.surfaces.http.errors import PLAIN, ErrorFormat, answer_errors
from patron.surfaces.infinity import app as infinity
from patron.surfaces.infinity.errors import ERRORS as INFINITY_ERRORS
from patron.surfaces.segment import openapi as tracking_openapi
from patron.surfaces.segment.app import TrackingApp, endpoint_name
from patron.surfaces.talon_one import app as talon_one
from patron.surfaces.talon_one.errors import ERRORS as TALON_ERRORS
from patron.surfaces.voucherify import app as voucherify
from patron.surfaces.voucherify.errors import ERRORS as VOUCHERIFY_ERRORS

# Talon.One's clients authenticate with ``Authorization: ApiKey-v1 <key>``
# (Integration API) or ``ManagementKey-v1 <key>`` / ``Bearer <token>`` (Management API).
TALON_INTEGRATION_SCHEME = b"apikey-v1"
TALON_MANAGEMENT_SCHEMES = (b"managementkey-v1", b"bearer")
TALON_LOGIN_PATH = "/v1/sessions"


class PatronApp:
    """The whole of Patron as one ASGI app: a dispatcher in front of one app per surface."""

    def __init__(
        self,
        api: FastAPI,
        voucherify: ASGIApp,
        infinity: ASGIApp,
        talon_integration: ASGIApp,
        talon_management: ASGIApp,
    ) -> None:
        self.api = api  # the root app: the lifespan, /health, paths no surface owns
        self.segment = TrackingApp(lambda: self.services)
        self.voucherify = voucherify
        self.infinity = infinity
        self.talon_integration = talon_integration
        self.talon_management = talon_management
        self.requests = ObservedRequests(metrics(), route=_route)

    @property
    def services(self) -> Services:
        """The services, available while the lifespan runs."""
        services: Services = self.api.state.services
        return services

    def surface_for(self, scope: Scope) -> ASGIApp:
        """The app that owns an HTTP request (see the module's docstring)."""
        path: str = scope["path"]
        if endpoint_name(path) is not None:
            return self.segment
        if _under(path, "/config"):
            return self.infinity
        if _under(path, "/v1") or _under(path, "/v2"):
            scheme = _authorization_scheme(scope)
            if scheme == TALON_INTEGRATION_SCHEME:
                return self.talon_integration
            if scheme in TALON_MANAGEMENT_SCHEMES or path == TALON_LOGIN_PATH:
                return self.talon_management
            return self.voucherify if _under(path, "/v1") else self.talon_integration
        return self.api

    def surface_name(self, app: ASGIApp) -> tuple[str, str]:
        """How metrics name the surface of ``app``, and the prefix of its request ids."""
        if app is self.segment:
            return "segment", ""
        if app is self.voucherify:
            return "voucherify", VOUCHERIFY_ERRORS.request_id_prefix
        if app is self.infinity:
            return "infinity", ""
        if app is self.talon_integration:
            return "talon_one_integration", TALON_ERRORS.request_id_prefix
        if app is self.talon_management:
            return "talon_one_management", TALON_ERRORS.request_id_prefix
        return "patron", ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        app = self.surface_for(scope)
        name, prefix = self.surface_name(app)
        await self.requests.serve(name, app, scope, receive, send, request_id_prefix=prefix)


def _route(scope: Scope) -> str:
    """The route a request took, for metrics: a template, never the raw path."""
    name = endpoint_name(scope["path"])
    return "/v1/" + name if name is not None else route_template(scope)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _authorization_scheme(scope: Scope) -> bytes:
    """The scheme of the ``Authorization`` header, lower-cased (``b""`` if none)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme: bytes = value.partition(b" ")[0].lower()
            return scheme
    return b""


def create_app(settings: Settings | None = None) -> PatronApp:
    """Build Patron's app. The database is opened (and migrated) at start-up."""
    settings = settings or get_settings()
    configure_logging(settings)
    lifespan = _lifespan(settings)

    # The docs pages' scripts and styles are served by Patron itself, not a CDN, and
    # Swagger UI asks no outside validator: the docs work on a machine without internet.
    api = FastAPIOffline(
        title="Patron",
        version=__version__,
        lifespan=lifespan,
        swagger_ui_parameters={"validatorUrl": None},
    )
    answer_errors(api, PLAIN)

    @api.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    def ping() -> None:  # the services are there once the lifespan has opened them
        api.state.services.store.database.ping()

    readiness = Readiness(ping, timeout=settings.ready_timeout_seconds)
    add_endpoints(api, metrics(), readiness)  # /ready and /metrics

    surfaces = (
        _surface(voucherify.router, VOUCHERIFY_ERRORS, api.state),
        _surface(infinity.router, INFINITY_ERRORS, api.state),
        talon_one.integration_app(api.state),
        talon_one.management_app(api.state),
    )

    def openapi() -> dict[str, Any]:
        """The root's /docs list every surface's routes, not only its own.

        The tracking API is no FastAPI app: its paths and schemas come from its
        own description (``surfaces/segment/openapi.py``).
        """
        if api.openapi_schema is None:
            routes = [route for app in (api, *surfaces) for route in app.routes]
            document = get_openapi(
                title=api.title, version=api.version, routes=routes, tags=tracking_openapi.TAGS
            )
            document["paths"] = {**tracking_openapi.paths(), **document["paths"]}
            for section, entries in tracking_openapi.components().items():
                document.setdefault("components", {}).setdefault(section, {}).update(entries)
            api.openapi_schema = document
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return PatronApp(api, *surfaces)


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the services (and the database) at start-up, close them at shutdown."""

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        services = await open_services(settings)
        issued = await services.workspaces.ensure_default()
        if issued is not None:  # shown on a terminal or written to a private file, never logged
            terminal = startup.interactive_terminal()
            startup.hand_over_keys(issued, terminal=terminal, folder=startup.keys_folder(settings))
        startup.log_workspaces(await services.workspaces.list())
        api.state.services = services
        _settle_heap()
        services.async_actions.start()  # accepted bulk jobs, those a restart left too
        services.segment_sweeper.start()  # segments whose time windows move
        try:
            yield
        finally:
            await services.close()

    return lifespan


@functools.cache  # once per process: what later starts is not start-up
def _settle_heap() -> None:
    """Take what start-up built (modules, classes, functions, the services: most of the heap)
    out of the garbage collector's full passes, which would otherwise walk all of it every
    few seconds under load — about 100 ms a pass, paid by whichever request is running."""
    gc.collect()
    gc.freeze()


def _surface(router: APIRouter, errors: ErrorFormat, state: State) -> FastAPI:
    """One vendor's API as an app of its own, answering every error in its format."""
    surface = FastAPI(openapi_url=None)  # no docs of its own: the root's list its routes
    surface.state = state  # the root's: the services, once the lifespan has opened them
    surface.include_router(router)
    answer_errors(surface, errors)
    return surface
