"""Applications and the keys of the Talon.One surfaces.

An application (Talon's) lives in a workspace and runs campaigns on the
workspace's customers. Its clients authenticate with keys that are stored
like every other key (hashed, in ``api_keys``):

* an **Integration API key** (``Authorization: ApiKey-v1 <key>``) names one
  application and reaches only its workspace;
* a **Management API key** (``Authorization: ManagementKey-v1 <key>``) and a
  **login token** (``Authorization: Bearer <token>``, from ``POST
  /v1/sessions``, expiring) reach the whole workspace, as a Talon account's do.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, NotFound, Problem, Unauthorized
from patron.domain.promotions.codes import CaseSensitivity
from patron.domain.promotions.model import Application
from patron.domain.store import Store
from patron.domain.tenancy.model import ApiKey
from patron.domain.tenancy.ports import WorkspaceUnit
from patron.domain.tenancy.service import WorkspaceService, hash_key, require_workspace
from patron.ids import new_secret

MAX_NAME = 200


class TalonKey(StrEnum):
    """The kinds of ``api_keys`` rows the Talon.One surfaces authenticate with."""

    INTEGRATION = "talon_integration_key"  # names an application
    MANAGEMENT = "talon_management_key"
    LOGIN_TOKEN = "talon_login_token"  # expires


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent an Integration API request: an application, in its workspace."""

    workspace_id: str
    application_id: int


@dataclass(frozen=True, slots=True)
class IssuedApplication:
    """A new application and its keys, in plain text (shown only now)."""

    application: Application
    integration_key: str
    management_key: str


class ApplicationUnit(WorkspaceUnit, Protocol):
    """Storage of applications (and, through the workspace port, their keys)."""

    def create_application(self, application: Application) -> Application:
        """Store a new application; return it with its id. Conflict if the name is taken."""
        ...

    def get_application(self, workspace_id: str, application_id: int) -> Application | None: ...

    def list_applications(self, workspace_id: str) -> list[Application]: ...

    def update_application(self, application: Application) -> None: ...

    def has_codes(self, application_id: int) -> bool:
        """Whether the application has any coupon or referral code."""
        ...

    def bump_promotions_version(self, application_id: int) -> None:
        """Mark the application's campaigns changed: every process recompiles them."""
        ...


def validate_application(
    name: str, currency: str, timezone: str, case_sensitivity: str
) -> list[Problem]:
    problems = []
    if not name.strip() or len(name) > MAX_NAME:
        problems.append(Problem(f"1 to {MAX_NAME} characters", "name"))
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        problems.append(Problem("a three-letter ISO 4217 code, upper case (EUR)", "currency"))
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("an IANA time zone (Europe/Berlin, UTC)", "timezone"))
    if case_sensitivity not in set(CaseSensitivity):
        allowed = ", ".join(CaseSensitivity)
        problems.append(Problem(f"one of {allowed}", "caseSensitivity"))
    return problems


def issue_key(
    unit: WorkspaceUnit,
    workspace_id: str,
    kind: TalonKey,
    now: datetime,
    *,
    application_id: int | None = None,
    expires_at: datetime | None = None,
) -> str:
    plain = new_secret(40)
    unit.add_key(
        ApiKey(
            workspace_id=workspace_id,
            kind=kind.value,
            key_hash=hash_key(plain),
            hint=plain[:4],
            created_at=now,
            application_id=application_id,
            expires_at=expires_at,
        )
    )
    return plain


class ApplicationService:
    """Creates applications and resolves the Talon.One surfaces' credentials."""

    def __init__(
        self,
        store: Store[ApplicationUnit],
        keys: WorkspaceService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.keys = keys  # looks keys up (and keeps them a while), as for every surface
        self.clock = clock

    async def create(
        self,
        *,
        workspace: str,
        name: str,
        currency: str = "USD",
        timezone: str = "UTC",
        case_sensitivity: str = CaseSensitivity.SENSITIVE,
        description: str = "",
        attributes: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> IssuedApplication:
        """Create an application in the named workspace, with its two keys."""
        problems = validate_application(name, currency, timezone, case_sensitivity)
        if problems:
            raise Invalid.of(problems)
        now = self.clock()

        def work(unit: ApplicationUnit) -> IssuedApplication:
            found = require_workspace(unit, workspace)
            if any(a.name == name for a in unit.list_applications(found.id)):
                raise Conflict(f"an application named {name!r} already exists in {workspace!r}")
            application = unit.create_application(
                Application(
                    id=0,
                    name=name,
                    currency=currency,
                    timezone=timezone,
                    attributes=dict(attributes or {}),
                    workspace_id=found.id,
                    description=description,
                    case_sensitivity=case_sensitivity,
                    settings=dict(settings or {}),
                    created_at=now,
                    updated_at=now,
                )
            )
            integration = issue_key(
                unit, found.id, TalonKey.INTEGRATION, now, application_id=application.id
            )
            management = issue_key(unit, found.id, TalonKey.MANAGEMENT, now)
            return IssuedApplication(application, integration, management)

        return await self.store.write(work)

    async def update(
        self, *, workspace_id: str, application_id: int, changes: Mapping[str, Any]
    ) -> Application:
        """Change an application's settings (``Application`` field names)."""
        now = self.clock()

        def work(unit: ApplicationUnit) -> Application:
            current = unit.get_application(workspace_id, application_id)
            if current is None:
                raise NotFound("application", application_id)
            updated = replace(current, **dict(changes), updated_at=now)
            problems = validate_application(
                updated.name, updated.currency, updated.timezone, updated.case_sensitivity
            )
            # Codes are stored keyed by how the application compares them.
            recased = updated.case_sensitivity != current.case_sensitivity
            if recased and unit.has_codes(application_id):
                message = "cannot change once the application has coupon or referral codes"
                problems.append(Problem(message, "caseSensitivity"))
            if problems:
                raise Invalid.of(problems)
            unit.update_application(updated)
            # Codes compare by case sensitivity and money by currency: campaigns recompile.
            unit.bump_promotions_version(application_id)
            return updated

        return await self.store.write(work)

    async def get(self, *, workspace_id: str, application_id: int) -> Application:
        found = await self.store.read(
            lambda unit: unit.get_application(workspace_id, application_id)
        )
        if found is None:
            raise NotFound("application", application_id)
        return found

    async def of_workspace(self, *, workspace_id: str) -> list[Application]:
        return await self.store.read(lambda unit: unit.list_applications(workspace_id))

    async def of_named_workspace(self, *, workspace: str) -> list[Application]:
        """The applications of the workspace with this name (for the CLI)."""

        def work(unit: ApplicationUnit) -> list[Application]:
            return unit.list_applications(require_workspace(unit, workspace).id)

        return await self.store.read(work)

    async def add_key(self, *, workspace: str, application_id: int, kind: TalonKey) -> str:
        """Issue one more key (an Integration key names the application) for the CLI."""
        now = self.clock()

        def work(unit: ApplicationUnit) -> str:
            found = require_workspace(unit, workspace)
            if unit.get_application(found.id, application_id) is None:
                raise NotFound("application", application_id)
            named = application_id if kind is TalonKey.INTEGRATION else None
            return issue_key(unit, found.id, kind, now, application_id=named)

        return await self.store.write(work)

    # -- credentials -------------------------------------------------------------

    async def integration_caller(self, key: str | None) -> Caller:
        """The application an ``ApiKey-v1`` key belongs to, or Unauthorized."""
        found = await self._key(key, TalonKey.INTEGRATION)
        if found is None or found.application_id is None:
            raise Unauthorized("invalid API key: send Authorization: ApiKey-v1 <application key>")
        return Caller(found.workspace_id, found.application_id)

    async def management_workspace(self, scheme: str, key: str | None) -> str:
        """The workspace a ``ManagementKey-v1`` key or ``Bearer`` login token reaches."""
        kind = TalonKey.LOGIN_TOKEN if scheme.lower() == "bearer" else TalonKey.MANAGEMENT
        found = await self._key(key, kind)
        if found is None:
            raise Unauthorized(
                "invalid credentials: send Authorization: ManagementKey-v1 <key>, "
                "or Bearer <token> from POST /v1/sessions"
            )
        return found.workspace_id

    async def _key(self, key: str | None, kind: TalonKey) -> ApiKey | None:
        found = await self.keys.find_key(key, kind) if key else None
        if found is not None and found.expires_at is not None and found.expires_at <= self.clock():
            return None  # a login token past its time
        return found
