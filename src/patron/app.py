"""The ASGI application: every API surface over one set of services.

Tracking paths go straight to the tracking surface's lean ASGI app (the hot
path); everything else, and the lifespan, goes to the FastAPI app.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from patron import __version__
from patron.domain.tenancy.service import DEFAULT_WORKSPACE
from patron.services import Services, open_services
from patron.settings import Settings, get_settings
from patron.surfaces.infinity.app import router as config_router
from patron.surfaces.segment.app import TrackingApp, endpoint_name
from patron.surfaces.voucherify.app import router as voucherify_router

log = logging.getLogger("patron")


class PatronApp:
    """The whole of Patron as one ASGI app."""

    def __init__(self, api: FastAPI) -> None:
        self.api = api
        self.tracking = TrackingApp(lambda: self.services)

    @property
    def services(self) -> Services:
        """The services, available while the lifespan runs."""
        services: Services = self.api.state.services
        return services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and endpoint_name(scope["path"]) is not None:
            await self.tracking(scope, receive, send)
        else:
            await self.api(scope, receive, send)


def create_app(settings: Settings | None = None) -> PatronApp:
    """Build Patron's app. The database is opened (and migrated) at start-up."""
    settings = settings or get_settings()
    _configure_logging(settings)

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        services = await open_services(settings)
        issued = await services.workspaces.ensure_default()
        if issued is not None:
            log.warning(
                "created the %r workspace; its keys (shown only now): %s",
                DEFAULT_WORKSPACE,
                ", ".join(f"{kind} {key}" for kind, key in issued.keys.items()),
            )
        api.state.services = services
        services.async_actions.start()  # accepted bulk jobs, those a restart left too
        services.segment_sweeper.start()  # segments whose time windows move
        try:
            yield
        finally:
            await services.close()

    api = FastAPI(title="Patron", version=__version__, lifespan=lifespan)
    api.include_router(config_router)
    api.include_router(voucherify_router)

    @api.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return PatronApp(api)


def _configure_logging(settings: Settings) -> None:
    # uvicorn configures its own loggers; Patron's need a handler of their own.
    logger = logging.getLogger("patron")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(settings.log_level.upper())
