"""The locks of promotion writes: one per session of an application, one per profile
of a workspace (SPEC: Talon answers 409 to parallel updates of either).

A write takes its locks first, in its own transaction, waiting at most the
configured ``PATRON_TALON_LOCK_WAIT_MS`` for each; one still held by another
transaction is a Conflict with Talon's message (409). Session updates,
events, profile updates (v2, v1, bulk, their ``audiencesChanges``) and
audience membership changes all lock the profiles they change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from patron.domain.errors import Conflict

SESSION_BUSY = "Too many requests are updating this session at the same time"
PROFILE_BUSY = "Too many requests are updating this profile at the same time"


class LockUnit(Protocol):
    def lock_promotion_keys(self, keys: Sequence[str], wait_ms: int) -> bool:
        """Take these locks until the transaction ends, waiting at most ``wait_ms`` for
        each; False when one stayed held by another transaction (nothing is then held
        longer than the transaction). Where writers are serial (SQLite), True at once."""
        ...


def session_key(application_id: int, session_id: str) -> str:
    return f"session:{application_id}:{session_id}"


def profile_key(workspace_id: str, integration_id: str) -> str:
    return f"profile:{workspace_id}:{integration_id}"


def lock_session(unit: LockUnit, application_id: int, session_id: str, wait_ms: int) -> None:
    if not unit.lock_promotion_keys([session_key(application_id, session_id)], wait_ms):
        raise Conflict(SESSION_BUSY)


def lock_profiles(
    unit: LockUnit, workspace_id: str, integration_ids: Iterable[str], wait_ms: int
) -> None:
    """Lock the profiles (anonymous "" needs none), or Conflict (409)."""
    keys = sorted({profile_key(workspace_id, i) for i in integration_ids if i})
    if keys and not unit.lock_promotion_keys(keys, wait_ms):
        raise Conflict(PROFILE_BUSY)
