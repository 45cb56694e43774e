"""Custom attributes declared with ``POST /v1/attributes`` (Talon's ``NewAttribute``).

Talon refuses attributes (and event types) that were not declared first.
Patron is lenient: sessions, profiles and events may carry any attribute;
declaring one documents it (its title, type, suggestions) for the people
and tools that read the workspace. Names are unique per workspace, entity
and event type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, NotFound, Problem
from patron.domain.store import Store

ENTITIES = (
    "Application",
    "Campaign",
    "CustomerProfile",
    "CustomerSession",
    "CartItem",
    "Coupon",
    "Event",
    "Giveaway",
    "Referral",
    "Store",
)
TYPES = (
    "string",
    "number",
    "boolean",
    "time",
    "(list string)",
    "(list number)",
    "(list time)",
    "location",
    "(list location)",
)
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # Talon's ^[A-Za-z]\w*$, in ASCII
TITLE = re.compile(r"[A-Za-z][A-Za-z0-9_.!~*'() -]*")  # what every SDK reads back
MAX_NAME = 200
MAX_SUGGESTIONS = 1000
MAX_SUGGESTION = 1000
MAX_DESCRIPTION = 10_000


@dataclass(frozen=True, slots=True)
class AttributeRecord:
    id: int
    workspace_id: str
    entity: str
    name: str
    title: str
    type: str
    description: str = ""
    suggestions: Sequence[str] = ()
    editable: bool = True
    event_type: str = ""  # the custom event type an Event attribute belongs to
    created_at: datetime | None = None


def validate_attribute(attribute: AttributeRecord) -> list[Problem]:
    problems = []
    if attribute.entity not in ENTITIES:
        problems.append(Problem(f"one of {', '.join(ENTITIES)}", "entity"))
    if attribute.type not in TYPES:
        problems.append(Problem(f"one of {', '.join(TYPES)}", "type"))
    if not NAME.fullmatch(attribute.name) or len(attribute.name) > MAX_NAME:
        problems.append(Problem(f"a letter, then letters, digits or _ (≤ {MAX_NAME})", "name"))
    if not TITLE.fullmatch(attribute.title) or len(attribute.title) > MAX_NAME:
        problems.append(
            Problem(f"a letter, then letters, digits, spaces or _.!~*'()- (≤ {MAX_NAME})", "title")
        )
    if len(attribute.event_type) > MAX_NAME:
        problems.append(Problem(f"at most {MAX_NAME} characters", "eventType"))
    if len(attribute.description) > MAX_DESCRIPTION:
        problems.append(Problem(f"at most {MAX_DESCRIPTION} characters", "description"))
    if len(attribute.suggestions) > MAX_SUGGESTIONS or any(
        len(s) > MAX_SUGGESTION for s in attribute.suggestions
    ):
        problems.append(
            Problem(f"at most {MAX_SUGGESTIONS} of ≤ {MAX_SUGGESTION} characters", "suggestions")
        )
    return problems


class AttributeUnit(Protocol):
    def insert_attribute(self, attribute: AttributeRecord) -> int: ...

    def find_attribute(
        self, workspace_id: str, entity: str, event_type: str, name: str
    ) -> AttributeRecord | None: ...

    def get_attribute(self, workspace_id: str, attribute_id: int) -> AttributeRecord | None: ...

    def list_attributes(self, workspace_id: str) -> list[AttributeRecord]: ...


class AttributeService:
    def __init__(self, store: Store[AttributeUnit], clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def create(self, attribute: AttributeRecord) -> AttributeRecord:
        """Declare an attribute in ``attribute.workspace_id``; Conflict if it is declared."""
        problems = validate_attribute(attribute)
        if problems:
            raise Invalid.of(problems)
        made = replace(attribute, id=0, created_at=self.clock())

        def work(unit: AttributeUnit) -> AttributeRecord:
            # (One declared meanwhile by another process is a unique violation:
            # the store runs this again, which then finds it.)
            key = (made.workspace_id, made.entity, made.event_type, made.name)
            if unit.find_attribute(*key) is not None:
                raise Conflict(f"the {made.entity} attribute {made.name!r} is already declared")
            return replace(made, id=unit.insert_attribute(made))

        return await self.store.write(work)

    async def get(self, workspace_id: str, attribute_id: int) -> AttributeRecord:
        found = await self.store.read(lambda unit: unit.get_attribute(workspace_id, attribute_id))
        if found is None:
            raise NotFound("attribute", attribute_id)
        return found

    async def list(self, workspace_id: str, entity: str | None = None) -> list[AttributeRecord]:
        found = await self.store.read(lambda unit: unit.list_attributes(workspace_id))
        return [a for a in found if entity is None or a.entity == entity]
