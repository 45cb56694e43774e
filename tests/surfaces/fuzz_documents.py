"""Valid requests' parts for the fuzz test, and the places in them it makes odd.

Each route kind (a path, or a tracking call) has valid bodies (``TEMPLATES``)
and the query parameters it reads (``PARAMETERS``). The fuzz changes one
place of a valid request — a property at any depth of the body, a property
the body could have (``EXTRA_KEYS``), a query parameter — so that the odd
value gets past every other check and reaches the code that must refuse it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.surfaces.fuzz_values import REMOVED

Place = tuple[str | int, ...]  # keys and list indexes, from the document's root

MESSAGE = {"type": "track", "userId": "ada", "event": "e", "properties": {"x": "1"}}
CUSTOMER = {"source_id": "ada", "name": "Ada", "email": "a@example.com", "metadata": {"k": 1}}
CRITERIA = [{"field": "event", "op": "equals", "value": "e"}]
FILTER = {"junction": "and", "name": {"conditions": {"$is": "Ada"}}}
BEHAVIOUR = {"events.e": {"conditions": {"$more_than_equal": [1]}, "days": 7}}
# Valid bodies: those of the first pattern that matches the route kind.
TEMPLATES: list[tuple[str, list[Any]]] = [
    ("^track$", [{"userId": "ada", "event": "e", "properties": {"x": "a"}}]),
    ("^identify$", [{"userId": "ada", "traits": {"name": "Ada", "birthday": "1990-01-02"}}]),
    ("^(page|screen)$", [{"anonymousId": "an", "name": "Home", "properties": {"path": "/"}}]),
    ("^alias$", [{"previousId": "an", "userId": "ada"}]),
    ("^group$", [{"userId": "ada", "groupId": "g", "traits": {"plan": "pro"}}]),
    ("^batch$", [{"batch": [MESSAGE, {"type": "identify", "userId": "b", "traits": {"a": 1}}]}]),
    ("segmentGroups", [{"segmentGroupName": "g"}]),
    ("segments/order$", [{"sortedSegments": [2]}]),
    (
        "^/config/.*/segments",
        [
            {"segmentName": "s", "criteria": CRITERIA},
            {"segmentName": "t", "criteria": [], "segmentOrder": 3, "orgId": 2, "segmentRef": "r"},
        ],
    ),
    (
        "^/v1/segments",
        [
            {"name": "s", "type": "static", "customers": ["ada"]},
            {"name": "f", "type": "auto-update", "filter": FILTER},
            {"name": "b", "type": "auto-update", "filter": BEHAVIOUR},
        ],
    ),
    ("metadata/async$", [{"source_ids": ["ada"], "metadata": {"k": "v"}}]),
    ("bulk/async$", [[CUSTOMER, {"source_id": "bob", "address": {"city": "Oslo"}}]]),
    ("^/v1/customers", [CUSTOMER, {"source_id": "bob", "birthdate": "1990-01-02"}]),
]
# Properties a body could have: at its root, by surface; inside, by the name of the
# object holding them.
ROOT_KEYS: dict[str, list[str]] = {
    "segment": [
        "type",
        "userId",
        "anonymousId",
        "event",
        "properties",
        "traits",
        "context",
        "timestamp",
        "sentAt",
        "originalTimestamp",
        "messageId",
        "writeKey",
        "groupId",
    ],
    "voucherify": [
        "id",
        "source_id",
        "name",
        "email",
        "phone",
        "birthdate",
        "birthday",
        "address",
        "metadata",
        "description",
    ],
    "infinity": ["segment", "segmentOrder", "orgId", "segmentGroupId", "segmentRef"],
}
EXTRA_KEYS: dict[str, list[str]] = {
    "traits": [
        "name", "email", "phone", "birthday", "address", "description", "firstName",
        "createdAt", "x",
    ],
    "context": ["traits", "page", "ip"],
    "address": ["city", "street", "country", "postal_code", "line_1"],
    "metadata": ["x"],
    "properties": ["x"],
    "conditions": ["$is", "$in", "$more_than", "$after", "$less_than_ago"],
    "filter": ["junction", "email", "created_at", "metadata.x", "events.e"],
}  # fmt: skip


def templates(kind: str) -> list[Any]:
    for pattern, found in TEMPLATES:
        if re.search(pattern, kind):
            return found
    return [{}]


def places(document: Any, surface: str) -> list[Place]:
    """Every place in a document a value can be put: its properties and list items at
    any depth, and the properties its objects could have."""
    return _places(document, ROOT_KEYS.get(surface, []), "", 4)


def _places(document: Any, extra: list[str], holder: str, depth: int) -> list[Place]:
    found: list[Place] = []
    if isinstance(document, dict):
        for key in sorted({*document, *extra}):
            found.append((key,))
            if depth > 1 and key in document:
                inner = EXTRA_KEYS.get(key, [])
                found += [(key, *p) for p in _places(document[key], inner, key, depth - 1)]
    elif isinstance(document, list):
        for index, item in enumerate(document[:2]):
            found.append((index,))
            if depth > 1:  # a batch's messages and a bulk update's customers are bodies
                inner = extra if holder in ("", "batch") else []
                found += [(index, *p) for p in _places(item, inner, holder, depth - 1)]
    return found


def changed(document: Any, place: Place, value: Any) -> Any:
    """A copy of the document with ``value`` at ``place`` (or nothing, for REMOVED)."""
    copied = copy.deepcopy(document)
    holder = copied
    for step in place[:-1]:
        holder = holder[step]
    last = place[-1]
    if value is REMOVED:
        if isinstance(holder, dict):
            holder.pop(last, None)
        elif isinstance(last, int) and last < len(holder):
            del holder[last]
    elif isinstance(holder, dict) or (isinstance(last, int) and last < len(holder)):
        holder[last] = value
    return copied


# -- query parameters ----------------------------------------------------------------

# The parameters of each route that matches a pattern (every one that matches).
PARAMETERS: list[tuple[str, list[str]]] = [
    ("^/v1/customers$", ["page", "limit", "order", "email", "city", "name", "segment_id"]),
    ("^/v1/customers$", ["created_at[before]", "created_at[after]", "updated_at[before]"]),
    ("^/v1/customers$", ["updated_at[after]", "starting_after"]),
    ("/activit", ["limit", "order", "starting_after_id", "start_date", "end_date", "type"]),
    ("/activit", ["category", "campaign_id", "campaign_type", "starting_after"]),
    ("/redeemables$", ["limit", "order", "starting_after_id"]),
    ("^/v1/async-actions$", ["limit", "end_date"]),
    ("^/config/.*(segments|segmentGroups)$", ["filter", "sort", "limit", "offset", "filter[]"]),
]
# A valid value for each parameter.
VALID_PARAMETERS = {
    "order": "-created_at",
    "sort": "-segment",
    "filter": "segmentStatus:200",
    "email": "a@example.com",
    "city": "Oslo",
    "name": "Ada",
    "type": "customer.created",
    "category": "ACTION",
    "page": "2",
    "limit": "5",
    "offset": "1",
    "segment_id": "seg_x",
    "starting_after_id": "act_x",
    "campaign_id": "camp_x",
    "campaign_type": "PROMOTION",
}


def parameters(path: str) -> list[str]:
    return [name for pattern, some in PARAMETERS if re.search(pattern, path) for name in some]


def valid_parameter(name: str) -> str:
    return VALID_PARAMETERS.get(name.removesuffix("[]"), "2024-06-01T00:00:00Z")
