"""People who log in to the Management API (``POST /v1/sessions``), as a Talon account's users do.

A manager belongs to one workspace and is made with ``patron managers
create``. Logging in with the e-mail and password gives a token (``Authorization:
Bearer <token>``) that reaches the workspace like a Management API key, until
it expires (:data:`TOKEN_DAYS` days). Passwords are stored as scrypt hashes
with a random salt, and compared in constant time; a login with an unknown
e-mail costs the same hashing as one with a wrong password.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, Problem, Unauthorized
from patron.domain.promotions.applications import TalonKey, issue_key
from patron.domain.store import Store
from patron.domain.tenancy.ports import WorkspaceUnit
from patron.domain.tenancy.service import require_workspace

TOKEN_DAYS = 90  # Talon's login tokens last about three months
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_EMAIL = 320
# scrypt's cost: 16 MB and some tens of milliseconds per hash.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class Manager:
    id: int
    workspace_id: str
    email: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoginSession:
    """Talon's ``Session``: who logged in, the token, and when."""

    user_id: int
    token: str
    created: datetime
    expires_at: datetime


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), with a new random salt unless one is given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=32,
    )
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), *encoded))


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` hashes to ``stored``, compared in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8", "surrogatepass"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:  # not a hash this code wrote
        return False
    return hmac.compare_digest(actual, expected)


# Compared against when the e-mail is unknown, so that costs a hash too.
_NOBODY = hash_password(secrets.token_urlsafe(16))


def normal_email(email: str) -> str:
    return email.strip().lower()


def validate_manager(email: str, password: str) -> list[Problem]:
    problems = []
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or len(email) > MAX_EMAIL or " " in email:
        problems.append(Problem("an e-mail address", "email"))
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        problems.append(Problem(f"{MIN_PASSWORD} to {MAX_PASSWORD} characters", "password"))
    return problems


class ManagerUnit(WorkspaceUnit, Protocol):
    def insert_manager(self, manager: Manager) -> int: ...

    def manager_by_email(self, email: str) -> Manager | None: ...

    def list_managers(self, workspace_id: str) -> list[Manager]: ...


class ManagerService:
    def __init__(
        self,
        store: Store[ManagerUnit],
        clock: Callable[[], datetime] = utcnow,
        token_days: int = TOKEN_DAYS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.token_days = token_days

    async def create(self, *, workspace: str, email: str, password: str) -> Manager:
        """A manager of the named workspace; Conflict if the e-mail is taken (in any)."""
        email = normal_email(email)
        problems = validate_manager(email, password)
        if problems:
            raise Invalid.of(problems)
        password_hash = await asyncio.to_thread(hash_password, password)
        now = self.clock()

        def work(unit: ManagerUnit) -> Manager:
            found = require_workspace(unit, workspace)
            if unit.manager_by_email(email) is not None:
                raise Conflict(f"a manager with the e-mail {email!r} exists")
            manager = Manager(0, found.id, email, password_hash, now)
            return replace(manager, id=unit.insert_manager(manager))

        return await self.store.write(work)

    async def of_named_workspace(self, *, workspace: str) -> list[Manager]:
        return await self.store.read(
            lambda unit: unit.list_managers(require_workspace(unit, workspace).id)
        )

    async def login(self, email: str, password: str) -> LoginSession:
        """A new token for the manager with this e-mail and password, or Unauthorized."""
        email = normal_email(email)
        found = await self.store.read(lambda unit: unit.manager_by_email(email))
        stored = _NOBODY if found is None else found.password_hash
        matches = await asyncio.to_thread(password_matches, password[:MAX_PASSWORD], stored)
        if found is None or not matches:
            raise Unauthorized("wrong e-mail or password")
        manager = found
        now = self.clock()
        expires = now + timedelta(days=self.token_days)

        def work(unit: ManagerUnit) -> str:
            return issue_key(
                unit, manager.workspace_id, TalonKey.LOGIN_TOKEN, now, expires_at=expires
            )

        token = await self.store.write(work)
        return LoginSession(manager.id, token, now, expires)
