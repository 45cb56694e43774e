"""The ASGI application: every API surface over one set of services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from patron import __version__
from patron.domain.workspaces import DEFAULT_WORKSPACE, KeyKind
from patron.services import open_services
from patron.settings import Settings, get_settings
from patron.surfaces.tracking.routes import routes as tracking_routes

log = logging.getLogger("patron")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build Patron's app. The database is opened (and migrated) at start-up."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await open_services(settings)
        issued = await services.workspaces.ensure_default()
        if issued is not None:
            key = issued.keys[KeyKind.TRACKING_WRITE_KEY]
            log.warning(
                "created the %r workspace; its tracking write key is %s (shown only now)",
                DEFAULT_WORKSPACE,
                key,
            )
        app.state.services = services
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(title="Patron", version=__version__, lifespan=lifespan)
    app.router.routes.extend(tracking_routes())

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
