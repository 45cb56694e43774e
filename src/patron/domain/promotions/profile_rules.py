"""A profile update that runs the rule engine (``runRuleEngine=true``, and API v1 always).

In one write transaction: the profile's attributes and audiences are saved
(the profiles part's update: customer segments follow), then the built-in
event ``talon_profile_created`` (a new profile) or ``talon_profile_updated``
is evaluated through the session pipeline — the application's campaigns,
the profile, the event, no session — and committed as an event is (codes
rules create, loyalty points, attribute updates) and recorded as the
customer's event. Dry: the attributes are applied to a copy, nothing is
stored, and ``evaluableCampaignIds`` may name the campaigns to evaluate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from patron.domain.people.profiles import Profile
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.profiles import (
    AudienceChanges,
    TalonProfile,
    change_audiences,
    find_profile,
    talon_profile,
    update_profiles,
)
from patron.domain.promotions.session_ports import SessionUnit, StoredSession
from patron.domain.promotions.session_steps import CustomEvent, SessionOutcome
from patron.ids import new_id

if TYPE_CHECKING:
    from patron.domain.promotions.sessions import SessionService

CREATED = "talon_profile_created"
UPDATED = "talon_profile_updated"


@dataclass(frozen=True, slots=True)
class ProfileChange:
    integration_id: str
    attributes: Mapping[str, Any]
    audiences: AudienceChanges | None = None
    evaluable_campaign_ids: tuple[int, ...] | None = None  # dry only
    failure_reasons: bool = False  # explain every rule that did not fire (see evaluate)


@dataclass(frozen=True, slots=True)
class ProfileOutcome:
    """The evaluation, the profile as saved (or previewed), and its latest session."""

    outcome: SessionOutcome
    profile: TalonProfile
    latest_session: StoredSession | None


def profile_event(
    service: SessionService,
    unit: SessionUnit,
    caller: Caller,
    change: ProfileChange,
    now: datetime,
    *,
    dry: bool,
) -> ProfileOutcome:
    workspace_id, integration_id = caller.workspace_id, change.integration_id
    found = find_profile(unit, workspace_id, integration_id)
    custom = CustomEvent(UPDATED if found is not None else CREATED, {}, integration_id)
    if dry:
        profile = _preview(found, workspace_id, integration_id, change.attributes, now)
        outcome = service.evaluate_event(
            unit,
            caller,
            custom,
            now,
            dry=True,
            evaluable=change.evaluable_campaign_ids,
            attach=False,
            attributes=profile.traits(),
            failure_reasons=change.failure_reasons,
        )
    else:
        (profile,) = update_profiles(unit, workspace_id, [(integration_id, change.attributes)], now)
        if change.audiences is not None:
            change_audiences(unit, profile, change.audiences, now)
        outcome = service.evaluate_event(
            unit,
            caller,
            custom,
            now,
            dry=False,
            evaluable=None,
            attach=False,
            failure_reasons=change.failure_reasons,
        )
        profile = find_profile(unit, workspace_id, integration_id) or profile
    latest = unit.latest_session_of_profile(caller.application_id, integration_id)
    return ProfileOutcome(outcome, talon_profile(unit, profile, integration_id), latest)


def _preview(
    found: Profile | None,
    workspace_id: str,
    integration_id: str,
    attributes: Mapping[str, Any],
    now: datetime,
) -> Profile:
    if found is None:
        profile = Profile(new_id("cust"), workspace_id, integration_id, now, now)
    else:
        profile = replace(found, attributes=dict(found.attributes))
    profile.apply_traits(dict(attributes), now=now)
    return profile
