"""Workspaces (tenants) and their API keys.

A key is shown once, when it is made, and stored only as its SHA-256 digest:
keys are long random strings, so an unsalted fast hash is the right tool (as
for GitHub or Stripe tokens) and lets a request be authenticated by one
indexed lookup.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, NotFound, Unauthorized
from patron.domain.store import Store
from patron.domain.tenancy.model import ApiKey, Workspace
from patron.domain.tenancy.ports import WorkspaceUnit
from patron.ids import new_id, new_secret

DEFAULT_WORKSPACE = "default"
MAX_NAME_LENGTH = 100
MIN_KEY_LENGTH = 8


class KeyKind(StrEnum):
    """The credentials a workspace has, one kind per API surface."""

    TRACKING_WRITE_KEY = "tracking_write_key"
    # Infinity Config API v2: sent as a Bearer token (or the Basic auth user).
    CONFIG_API_KEY = "config_api_key"
    # The customers (Voucherify) API: the X-App-Id and X-App-Token headers, a
    # pair; both must be the same workspace's.
    VOUCHERIFY_APP_ID = "voucherify_app_id"
    VOUCHERIFY_APP_TOKEN = "voucherify_app_token"


@dataclass(frozen=True, slots=True)
class IssuedKeys:
    """A workspace and the plain-text keys just issued for it (shown only now)."""

    workspace: Workspace
    keys: dict[str, str]
    igrp: int | None = None  # the workspace's Infinity installation number


@dataclass(frozen=True, slots=True)
class ListedWorkspace:
    """A workspace and its Infinity installation number, which every Config API path names."""

    workspace: Workspace
    igrp: int | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _validate_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise Invalid(f"workspace name must be 1 to {MAX_NAME_LENGTH} characters")
    return name


def _validate_key(key: str) -> str:
    if len(key) < MIN_KEY_LENGTH or not key.isprintable() or key != key.strip():
        raise Invalid(f"a key must be at least {MIN_KEY_LENGTH} printable characters")
    return key


def create_workspace(
    unit: WorkspaceUnit, *, name: str, now: datetime, keys: dict[KeyKind, str | None]
) -> IssuedKeys:
    """Create a workspace with one key of each given kind (generated when ``None``)."""
    name = _validate_name(name)
    if unit.get_workspace_by_name(name) is not None:
        raise Conflict(f"a workspace named {name!r} already exists")
    workspace = Workspace(id=new_id("ws"), name=name, created_at=now)
    unit.create_workspace(workspace)
    issued = {kind.value: add_key(unit, workspace, kind, keys.get(kind), now) for kind in KeyKind}
    return IssuedKeys(workspace, issued, igrp=unit.add_installation(workspace.id, now))


def add_key(
    unit: WorkspaceUnit, workspace: Workspace, kind: KeyKind, key: str | None, now: datetime
) -> str:
    """Store a new key (supplied or generated) and return it in plain text."""
    plain = _validate_key(key) if key is not None else new_secret()
    unit.add_key(
        ApiKey(
            workspace_id=workspace.id,
            kind=kind.value,
            key_hash=hash_key(plain),
            hint=plain[:4],
            created_at=now,
        )
    )
    return plain


def require_workspace(unit: WorkspaceUnit, name: str) -> Workspace:
    workspace = unit.get_workspace_by_name(name)
    if workspace is None:
        raise NotFound("workspace", name, f"no workspace named {name!r}")
    return workspace


class WorkspaceService:
    """Creates workspaces and keys, and resolves keys to workspaces."""

    def __init__(
        self,
        store: Store[WorkspaceUnit],
        *,
        key_cache_seconds: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.clock = clock
        self.key_cache_seconds = key_cache_seconds
        # Checking a key costs a hash and a query; every tracking request checks one.
        self._cache: dict[tuple[str, str], tuple[float, ApiKey]] = {}

    async def create(
        self, *, name: str, keys: dict[KeyKind, str | None] | None = None
    ) -> IssuedKeys:
        """Create a workspace and issue its keys."""
        now = self.clock()
        return await self.store.write(
            lambda unit: create_workspace(unit, name=name, now=now, keys=keys or {})
        )

    async def ensure_default(self) -> IssuedKeys | None:
        """Create the ``default`` workspace if there is none; return its keys if created."""
        try:
            existing = await self.store.read(
                lambda unit: unit.get_workspace_by_name(DEFAULT_WORKSPACE)
            )
            if existing is not None:
                return None
            return await self.create(name=DEFAULT_WORKSPACE)
        except Conflict:  # another process created it first
            return None

    async def add_key(self, *, name: str, kind: KeyKind, key: str | None = None) -> str:
        """Issue one more key of ``kind`` for the named workspace."""
        now = self.clock()

        def work(unit: WorkspaceUnit) -> str:
            return add_key(unit, require_workspace(unit, name), kind, key, now)

        return await self.store.write(work)

    async def get(self, *, name: str) -> Workspace:
        """The workspace with this name."""
        return await self.store.read(lambda unit: require_workspace(unit, name))

    async def list(self) -> list[ListedWorkspace]:
        """Every workspace with its igrp, oldest first."""
        return await self.store.read(
            lambda unit: [
                ListedWorkspace(workspace, unit.get_igrp(workspace.id))
                for workspace in unit.list_workspaces()
            ]
        )

    async def installation_number(self, workspace_id: str) -> int:
        """The workspace's Infinity installation number (igrp), also its Talon account id."""
        found = await self.store.read(lambda unit: unit.get_igrp(workspace_id))
        if found is None:
            raise NotFound("workspace", workspace_id)
        return found

    async def find_key(self, key: str, kind: str) -> ApiKey | None:
        """The stored key of this kind, or None; kept ``key_cache_seconds`` per process."""
        cached = self._cache.get((key, kind))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        digest = hash_key(key)
        found = await self.store.read(lambda unit: unit.find_key(digest))
        if found is None or found.kind != kind:
            return None
        if self.key_cache_seconds > 0:
            self._cache[(key, kind)] = (time.monotonic() + self.key_cache_seconds, found)
        return found

    async def authenticate(self, *, key: str | None, kind: KeyKind) -> str:
        """Return the id of the workspace ``key`` belongs to, or raise Unauthorized."""
        if not key:
            raise Unauthorized("missing credentials: send the write key as the Basic auth user")
        found = await self.find_key(key, kind)
        if found is None:
            raise Unauthorized("invalid write key")
        return found.workspace_id

    async def authenticate_app(self, *, app_id: str | None, token: str | None) -> str:
        """The workspace of a Voucherify-style app id and token pair, or Unauthorized."""
        if not app_id or not token:
            raise Unauthorized("send the app id and token as X-App-Id and X-App-Token headers")
        try:
            owner = await self.authenticate(key=app_id, kind=KeyKind.VOUCHERIFY_APP_ID)
            if await self.authenticate(key=token, kind=KeyKind.VOUCHERIFY_APP_TOKEN) == owner:
                return owner
        except Unauthorized:
            pass
        raise Unauthorized("invalid X-App-Id or X-App-Token")
