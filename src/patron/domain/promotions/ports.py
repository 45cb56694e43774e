"""What the promotions engine will need from storage (the store implements it later)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from patron.domain.promotions.campaigns import Campaign

if TYPE_CHECKING:  # (campaign_records builds definitions: it imports this module)
    from patron.domain.promotions.campaign_records import CampaignRecord


@dataclass(frozen=True, slots=True)
class CampaignDefinition:
    """A campaign as stored: its settings, and its active ruleset as the JSON it was saved as."""

    campaign: Campaign  # with ruleset None: the cache compiles it
    ruleset_id: int | None = None
    ruleset: Mapping[str, Any] | None = None
    record: CampaignRecord | None = None  # the campaign as the API shows it


class CampaignReader(Protocol):
    """What evaluating sessions reads of an application's campaigns."""

    def promotions_version(self, application_id: int) -> int:
        """A number that grows with every change to the application's campaigns or rulesets."""
        ...

    def campaign_definitions(self, application_id: int) -> list[CampaignDefinition]:
        """Every campaign of the application (archived ones too), with its active ruleset."""
        ...
