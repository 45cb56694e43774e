"""Login: a manager made with ``patron managers create`` logs in with the current SDK's
``create_session``; its token then works as ``Authorization: Bearer`` on every route."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.patron_server import PATRON, patron_env
from tests.surfaces.talon_one.support import (
    TalonShop,
    raw_talon_error,
    sdk_client,
    server,
    shop,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures

PASSWORD = "correct horse battery staple"


def create_manager(shop: TalonShop, email: str, password: str) -> subprocess.CompletedProcess[str]:
    command = ["managers", "create", email, "--workspace", shop.workspace, "--password-stdin"]
    return subprocess.run(
        [str(PATRON), *command, "--json"],
        input=password + "\n",
        env=patron_env(shop.database_url),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def anonymous(shop: TalonShop) -> talon_one.ManagementApi:
    return talon_one.ManagementApi(talon_one.ApiClient(talon_one.Configuration(host=shop.url)))


def test_a_manager_logs_in_and_the_token_opens_the_management_api(shop: TalonShop) -> None:
    made = create_manager(shop, "Ada@Example.com", PASSWORD)
    assert made.returncode == 0, made.stderr
    manager = json.loads(made.stdout)
    assert manager["email"] == "ada@example.com"
    assert shop.cli("managers", "list")[0]["id"] == manager["id"]

    session = anonymous(shop).create_session(
        talon_one.LoginParams(email="ada@example.com", password=PASSWORD)
    )
    assert session.user_id == manager["id"]
    assert session.token
    assert session.created is not None

    bearer = talon_one.ManagementApi(sdk_client(shop.url, session.token, "Bearer"))
    assert [a.id for a in bearer.get_applications().data] == [shop.application_id]
    assert bearer.get_campaigns(shop.application_id).data == []
    # The e-mail is not case-sensitive; each login is a new token.
    again = anonymous(shop).create_session(
        talon_one.LoginParams(email=" ADA@example.com", password=PASSWORD)
    )
    assert again.token != session.token

    for email, password in [("ada@example.com", "wrong password"), ("bob@example.com", PASSWORD)]:
        with pytest.raises(ApiException) as refused:
            anonymous(shop).create_session(talon_one.LoginParams(email=email, password=password))
        assert talon_error(refused.value, 401)["message"] == "wrong e-mail or password"
    forged = httpx.get(f"{shop.url}/v1/applications", headers={"Authorization": "Bearer forged"})
    raw_talon_error(forged, 401)
    # A login token is no Management key, nor the other way round.
    swapped = httpx.get(
        f"{shop.url}/v1/applications", headers={"Authorization": f"Bearer {shop.management_key}"}
    )
    raw_talon_error(swapped, 401)

    for body in [
        b"{}",
        b'{"email": "ada@example.com"}',
        b'{"email": 1, "password": 2}',
        b"[",
        b"[]",
    ]:
        raw_talon_error(httpx.post(f"{shop.url}/v1/sessions", content=body), 400)

    # The CLI refuses a second manager with the e-mail, and a short password.
    assert create_manager(shop, "ada@example.com", PASSWORD).returncode == 1
    short = create_manager(shop, "eve@example.com", "short")
    assert short.returncode == 1
    assert "password" in short.stderr
