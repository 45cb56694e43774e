"""CampaignCache: one version read per evaluation, a recompilation only when it moved."""

from __future__ import annotations

from patron.domain.promotions.cache import CampaignCache
from patron.domain.promotions.campaigns import Campaign, CampaignState
from patron.domain.promotions.evaluate import evaluate
from patron.domain.promotions.ports import CampaignDefinition
from tests.domain.promotions.support import NOW, context

RULESET = {
    "rules": [{"title": "r", "condition": ["and", True], "effects": [["setDiscount", "d", 5]]}],
    "bindings": [],
}


class FakeUnit:
    def __init__(self) -> None:
        self.version = 1
        self.reads = 0
        self.definitions = [
            CampaignDefinition(Campaign(1, "one", None), 10, RULESET),
            CampaignDefinition(Campaign(2, "draft", None, state=CampaignState.DISABLED)),
        ]

    def promotions_version(self, application_id: int) -> int:
        return self.version

    def campaign_definitions(self, application_id: int) -> list[CampaignDefinition]:
        self.reads += 1
        return list(self.definitions)


def test_compiles_once_per_version() -> None:
    unit, cache = FakeUnit(), CampaignCache()
    first = cache.current(unit, 1)
    assert cache.current(unit, 1) is first
    assert (cache.compilations, unit.reads) == (1, 1)
    assert first.campaigns[0].ruleset is not None
    assert first.campaigns[0].ruleset.id == 10
    assert first.campaigns[1].ruleset is None
    unit.version = 2
    unit.definitions[0] = CampaignDefinition(Campaign(1, "one", None, priority=3), 11, RULESET)
    second = cache.current(unit, 1)
    assert second is not first
    assert second.version == 2
    assert second.campaigns[0].ruleset is not None
    assert second.campaigns[0].ruleset.id == 11
    assert (cache.compilations, unit.reads) == (2, 2)
    cache.current(unit, 2)  # another application: its own entry
    assert cache.compilations == 3


def test_a_stored_ruleset_that_no_longer_compiles_takes_its_campaign_out() -> None:
    unit, cache = FakeUnit(), CampaignCache()
    broken = {"rules": [{"title": "x", "condition": ["and", ["gone"]], "effects": []}]}
    unit.definitions.append(CampaignDefinition(Campaign(3, "old", None), 12, broken))
    compiled = cache.current(unit, 1)
    assert set(compiled.broken) == {3}
    evaluation = evaluate(context(), compiled.campaigns, NOW)
    assert [e.campaign_id for e in evaluation.effects] == [1]


def test_forget_drops_an_application() -> None:
    unit, cache = FakeUnit(), CampaignCache()
    cache.current(unit, 1)
    cache.forget(1)
    cache.current(unit, 1)
    assert cache.compilations == 2
