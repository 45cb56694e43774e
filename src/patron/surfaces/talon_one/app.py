"""The two Talon.One apps: the Integration API and the Management API subset.

Both answer every error in Talon's format (``errors.py``). Each router lives
in its API's package; the lists below are where a new one is added.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.datastructures import State

from patron.surfaces.http.errors import answer_errors
from patron.surfaces.talon_one.errors import ERRORS
from patron.surfaces.talon_one.integration import audiences as integration_audiences
from patron.surfaces.talon_one.integration import (
    events,
    inventory,
    profiles,
    reservations,
    sessions,
)
from patron.surfaces.talon_one.integration import loyalty as integration_loyalty
from patron.surfaces.talon_one.integration import referrals as integration_referrals
from patron.surfaces.talon_one.management import (
    applications,
    attributes,
    campaigns,
    coupons,
    loyalty,
    rulesets,
)
from patron.surfaces.talon_one.management import audiences as management_audiences
from patron.surfaces.talon_one.management import referrals as management_referrals
from patron.surfaces.talon_one.management import sessions as logins

MANAGEMENT: tuple[APIRouter, ...] = (
    applications.router,
    campaigns.router,
    rulesets.router,
    attributes.router,
    logins.router,
    management_audiences.router,
    management_referrals.router,
    coupons.router,
    loyalty.router,
)
INTEGRATION: tuple[APIRouter, ...] = (
    sessions.router,
    events.router,
    integration_audiences.router,
    integration_referrals.router,
    reservations.router,
    integration_loyalty.router,
    profiles.router,
    inventory.router,
)


def _app(routers: tuple[APIRouter, ...], state: State) -> FastAPI:
    surface = FastAPI(openapi_url=None)  # the root's /docs list its routes
    surface.state = state  # the root's: the services, once the lifespan has opened them
    for router in routers:
        surface.include_router(router)
    answer_errors(surface, ERRORS)
    return surface


def management_app(state: State) -> FastAPI:
    return _app(MANAGEMENT, state)


def integration_app(state: State) -> FastAPI:
    return _app(INTEGRATION, state)
