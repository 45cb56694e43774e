"""Managers and their login tokens, through the services, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, Unauthorized
from patron.domain.promotions.applications import ApplicationService
from patron.domain.promotions.managers import TOKEN_DAYS, hash_password, password_matches
from patron.services import Services
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password("secret-password"), hash_password("secret-password")
    assert first != second  # a new salt each time
    assert first.startswith("scrypt$")
    assert password_matches("secret-password", first)
    assert password_matches("secret-password", second)
    assert not password_matches("secret-passworD", first)
    assert not password_matches("secret-password", "not a hash")
    assert not password_matches("secret-password", "scrypt$1$2$3$!!$??")


async def test_a_login_token_reaches_the_workspace_until_it_expires(services: Services) -> None:
    workspace = await make_workspace(services)
    manager = await services.managers.create(
        workspace=workspace.name, email="ops@example.com", password="long enough"
    )
    session = await services.managers.login("ops@example.com", "long enough")
    assert session.user_id == manager.id
    assert session.expires_at - session.created == timedelta(days=TOKEN_DAYS)
    now = utcnow()
    reached = await services.applications.management_workspace("Bearer", session.token)
    assert reached == workspace.id
    with pytest.raises(Unauthorized):  # a token is not a Management key
        await services.applications.management_workspace("ManagementKey-v1", session.token)

    later = ApplicationService(
        services.store,
        services.workspaces,
        clock=lambda: now + timedelta(days=TOKEN_DAYS + 1),
    )
    with pytest.raises(Unauthorized):
        await later.management_workspace("Bearer", session.token)

    with pytest.raises(Unauthorized):
        await services.managers.login("ops@example.com", "wrong password")
    with pytest.raises(Conflict):
        await services.managers.create(
            workspace=workspace.name, email="OPS@example.com", password="another one"
        )
    with pytest.raises(Invalid) as invalid:
        await services.managers.create(workspace=workspace.name, email="nobody", password="x")
    assert {p.field for p in invalid.value.problems} == {"email", "password"}
