"""``POST /v1/sessions``: a manager logs in (``LoginParams{email, password}``) and gets a
``Session{userId, token, created}``; ``Authorization: Bearer <token>`` then works on every
Management API route until the token expires (``expiresAt``, a Patron addition).
Managers are made with ``patron managers create``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from patron.domain.errors import Invalid, Problem
from patron.services import Services
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.wire import moment

router = APIRouter(prefix="/v1", tags=["talon.one management"])


@router.post("/sessions", status_code=201)
async def create_session(request: Request) -> dict[str, Any]:
    services: Services = request.app.state.services  # no credentials: this is the login
    body = await requests.json_object(request)
    problems = [
        Problem("required: a string", key)
        for key in ("email", "password")
        if not isinstance(body.get(key), str)
    ]
    if problems:
        raise Invalid.of(problems)
    session = await services.managers.login(body["email"], body["password"])
    return {
        "userId": session.user_id,
        "token": session.token,
        "created": moment(session.created),
        "expiresAt": moment(session.expires_at),
    }
