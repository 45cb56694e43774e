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
from dataclasses import dataclass
from typing import Any

from tests.surfaces.fuzz_values import REMOVED

Place = tuple[str | int, ...]  # keys and list indexes, from the document's root


@dataclass(frozen=True)
class Known:
    """Stands for the id of a record the fuzz seeded (``test_fuzz.py:seed``), by the name
    it is known under: replaced when a request is made (an integer if ``whole``)."""

    name: str
    whole: bool = False

    def __repr__(self) -> str:
        return f"<{self.name}>"


def resolved(document: Any, known: Any) -> Any:
    """The document with each :class:`Known` replaced by the first id known under its name."""
    if isinstance(document, Known):
        value = known[document.name][0]
        return int(value) if document.whole else value
    if isinstance(document, dict):
        return {key: resolved(value, known) for key, value in document.items()}
    if isinstance(document, list):
        return [resolved(value, known) for value in document]
    return document


MESSAGE = {"type": "track", "userId": "ada", "event": "e", "properties": {"x": "1"}}
CUSTOMER = {"source_id": "ada", "name": "Ada", "email": "a@example.com", "metadata": {"k": 1}}
CRITERIA = [{"field": "event", "op": "equals", "value": "e"}]
FILTER = {"junction": "and", "name": {"conditions": {"$is": "Ada"}}}
BEHAVIOUR = {"events.e": {"conditions": {"$more_than_equal": [1]}, "days": 7}}
# -- Talon.One ------------------------------------------------------------------------
CAMPAIGN, RULESET, AUDIENCE = (
    Known("campaign_id", True),
    Known("ruleset_id", True),
    Known("audience_id", True),
)
CART = [
    {"name": "Shoe", "sku": "SKU1", "quantity": 2, "price": 50.5, "category": "shoes",
     "attributes": {"color": "red"}},
    {"sku": "SKU2", "quantity": 1, "price": 9, "weight": 1.5, "position": 1},
]  # fmt: skip
EVERYTHING = [
    "customerSession", "customerProfile", "triggeredCampaigns", "coupons", "loyalty",
    "ruleFailureReasons", "event", "referral", "awardedGiveaways",
]  # fmt: skip
SESSION = {
    "profileId": "ada",
    "couponCodes": [Known("coupon_code")],
    "referralCode": Known("referral_code"),
    "cartItems": CART,
    "additionalCosts": {"shipping": {"price": 4.95}},
    "attributes": {"channel": "web"},
    "identifiers": ["device-1"],
    "loyaltyCards": [],
    "state": "open",
}
DATES = {"startDate": "2020-01-01T00:00:00Z", "expiryDate": "2999-01-01T00:00:00+02:00"}
RULES = [
    {
        "title": "10% over 100",
        "condition": ["and", [">", [".", "Session", "Total"], 100]],
        "effects": [["setDiscount", "10% off", ["*", [".", "Session", "Total"], 0.1]]],
    },
    {
        "title": "coupon",
        "condition": ["and", ["couponValid"]],
        "effects": [["setDiscount", "c", 5]],
    },
    {
        "title": "points",
        "condition": ["and", True],
        "effects": [["addLoyaltyPoints", Known("program_id", True), 10]],
    },
]
NEW_CAMPAIGN = {
    "name": "Fuzz sale",
    "description": "d",
    **{"startTime": "2020-03-01T00:00:00Z", "endTime": "2999-06-01T00:00:00Z"},
    "attributes": {"channel": "web"},
    "state": "enabled",
    "tags": ["fuzz"],
    "features": ["coupons", "referrals", "loyalty"],
    "couponSettings": {"validCharacters": ["A", "B", "7"], "couponPattern": "FZ-####"},
    "referralSettings": {"validCharacters": ["X", "Y"], "couponPattern": "RF-#####"},
    "limits": [{"action": "redeemCoupon", "limit": 1000, "entities": ["Coupon"]}],
}
COUPON_TERMS = {
    "usageLimit": 3, "discountLimit": 100.5, "reservationLimit": 2, **DATES,
    "limits": [{"action": "redeemCoupon", "limit": 1, "entities": ["Profile"]}],
    "recipientIntegrationId": "ada", "attributes": {"x": 1}, "isReservationMandatory": False,
}  # fmt: skip
TALON_LOGIN = {"email": "fuzz@example.com", "password": "fuzz-password-1"}
TALON_TEMPLATES: list[tuple[str, list[Any]]] = [
    (
        "^/v2/customer_sessions/",
        [
            {"customerSession": SESSION, "responseContent": EVERYTHING},
            {"customerSession": {"profileId": "ada", "state": "closed"}},
            {"customerSession": {"state": "cancelled"}, "responseContent": ["customerSession"]},
            {"customerSession": {**SESSION, "evaluableCampaignIds": [CAMPAIGN]}},
        ],
    ),
    (
        "^/v1/customer_sessions/",
        [
            {
                "profileId": "ada",
                "coupon": Known("coupon_code"),
                "referral": "",
                "state": "open",
                "cartItems": CART,
                "total": 105.95,
                "attributes": {"channel": "web"},
            },
            {"state": "closed"},
        ],
    ),
    (
        "^/v2/events$",
        [
            {
                "profileId": "ada",
                "type": "viewed",
                "attributes": {"page": "home"},
                "evaluableCampaignIds": [CAMPAIGN],
                "responseContent": EVERYTHING,
            },
        ],
    ),
    ("^/v1/events$", [{"profileId": "ada", "type": "viewed", "sessionId": "s1", "attributes": {}}]),
    ("^/v2/audiences$", [{"name": "vip", "integration": "mparticle", "integrationId": "a1"}]),
    ("^/v2/audiences/", [{"name": "fans"}]),
    (
        "^/v2/customer_audiences$",
        [
            {
                "data": [
                    {"action": "add", "profileIntegrationId": "ada", "audienceId": AUDIENCE},
                    {"action": "delete", "profileIntegrationId": "bob", "audienceId": AUDIENCE},
                ]
            }
        ],
    ),
    (
        "^/v1/referrals$",
        [
            {
                "campaignId": CAMPAIGN,
                "advocateProfileIntegrationId": "ada",
                "friendProfileIntegrationId": "bob",
                "usageLimit": 2,
                **DATES,
                "attributes": {"x": 1},
            }
        ],
    ),
    (
        "^/v1/referrals_for_multiple_advocates$",
        [
            {
                "campaignId": CAMPAIGN,
                "advocateProfileIntegrationIds": ["ada", "bob"],
                "usageLimit": 1,
                **DATES,
                "validCharacters": ["Q", "Z"],
                "referralPattern": "R-###",
            }
        ],
    ),
    ("^/v1/coupon_reservations/", [{"integrationIDs": ["ada", "bob"]}]),
    (
        "^/v2/customer_profiles$",
        [{"customerProfiles": [{"integrationId": "ada", "attributes": {"Name": "Ada"}}]}],
    ),
    (
        "^/v2/customer_profiles/",
        [
            {
                "attributes": {"Name": "Ada", "age": 36},
                "responseContent": ["customerProfile", "loyalty"],
                "audiencesChanges": {"adds": [AUDIENCE], "deletes": []},
            }
        ],
    ),
    ("^/v1/customer_profiles/", [{"attributes": {"Name": "Ada"}}]),
    ("/campaigns$", [NEW_CAMPAIGN]),
    (
        r"/campaigns/\{campaign_id\}$",
        [
            {
                "name": "Spring",
                "activeRulesetId": RULESET,
                "state": "enabled",
                "priority": 2,
                "tags": ["a"],
            }
        ],
    ),
    ("/rulesets", [{"rules": RULES, "bindings": [], "rbVersion": "v2", "activate": True}]),
    ("/coupons$", [{"numberOfCoupons": 2, **COUPON_TERMS, "couponPattern": "FZ-####"}]),
    ("/coupons_with_recipients$", [{"recipientsIntegrationIds": ["ada", "bob"], "usageLimit": 1}]),
    (r"/coupons/\{coupon_id\}$", [COUPON_TERMS]),
    (
        r"/referrals/\{referral_id\}$",
        [{"friendProfileIntegrationId": "bob", "usageLimit": 3, **DATES}],
    ),
    (
        "^/v1/attributes$",
        [
            {
                "entity": "CustomerSession",
                "name": "channel",
                "title": "Channel",
                "type": "string",
                "description": "d",
                "suggestions": ["web"],
                "editable": True,
            }
        ],
    ),
    (
        "/add_points$",
        [
            {
                "points": 100,
                "name": "welcome",
                "validityDuration": "30D",
                "pendingDuration": "immediate",
                "subledgerId": "",
                "applicationId": Known("application_id", True),
            },
            {
                "points": 2.5,
                "validUntil": "2999-01-01T00:00:00Z",
                "pendingUntil": "2020-01-01T00:00:00Z",
            },
        ],
    ),
    ("/deduct_points$", [{"points": 10, "name": "spend", "subledgerId": ""}]),
    ("^/v1/sessions$", [TALON_LOGIN]),
]
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
    *TALON_TEMPLATES,
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
    "talon_integration": [
        "customerSession",
        "responseContent",
        "profileId",
        "type",
        "attributes",
        "sessionId",
        "evaluableCampaignIds",
        "integrationIDs",
        "data",
        "campaignId",
        "usageLimit",
        "startDate",
        "expiryDate",
        "audiencesChanges",
        "customerProfiles",
        "name",
        "coupon",
        "referral",
        "state",
        "cartItems",
        "total",
    ],
    "talon_management": [
        "name",
        "state",
        "startTime",
        "endTime",
        "activeRulesetId",
        "limits",
        "features",
        "rules",
        "bindings",
        "activate",
        "numberOfCoupons",
        "usageLimit",
        "discountLimit",
        "startDate",
        "expiryDate",
        "validCharacters",
        "couponPattern",
        "points",
        "validityDuration",
        "validUntil",
        "pendingUntil",
        "subledgerId",
        "applicationId",
        "email",
        "password",
        "entity",
        "type",
    ],
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
    "customerSession": [
        "profileId", "couponCodes", "referralCode", "cartItems", "additionalCosts",
        "attributes", "state", "loyaltyCards", "identifiers", "storeIntegrationId",
        "evaluableCampaignIds",
    ],
    "additionalCosts": ["shipping", "x"],
    "shipping": ["price"],
    "audiencesChanges": ["adds", "deletes"],
    "couponSettings": ["validCharacters", "couponPattern"],
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
COUPON_FILTERS = [
    "value", "exactMatch", "createdBefore", "createdAfter", "startsBefore", "startsAfter",
    "expiresBefore", "expiresAfter", "valid", "usable", "redeemed", "recipientIntegrationId",
    "batchId", "referralId",
]  # fmt: skip
PAGING = ["pageSize", "skip", "sort"]
PARAMETERS: list[tuple[str, list[str]]] = [
    ("^/v1/customers$", ["page", "limit", "order", "email", "city", "name", "segment_id"]),
    ("^/v1/customers$", ["created_at[before]", "created_at[after]", "updated_at[before]"]),
    ("^/v1/customers$", ["updated_at[after]", "starting_after"]),
    ("/activit", ["limit", "order", "starting_after_id", "start_date", "end_date", "type"]),
    ("/activit", ["category", "campaign_id", "campaign_type", "starting_after"]),
    ("/redeemables$", ["limit", "order", "starting_after_id"]),
    ("^/v1/async-actions$", ["limit", "end_date"]),
    ("^/config/.*(segments|segmentGroups)$", ["filter", "sort", "limit", "offset", "filter[]"]),
    # Talon.One
    ("^/v2/customer_sessions/", ["dry", "now"]),
    ("^/v1/(customer_sessions|events)", ["dry"]),
    ("^/v2/events$", ["dry", "silent", "forceCompleteEvaluation"]),
    ("(referrals_for_multiple_advocates|^/v2/customer_profiles)$", ["silent"]),
    ("^/v2/customer_profiles/", ["runRuleEngine", "dry"]),
    ("^/v1/customer_profiles/[^/]*$", ["dry"]),
    ("/inventory$", ["profile", "referrals", "coupons", "loyalty", "giveaways", "achievements"]),
    ("/balances$", ["endDate", "subledgerId"]),
    ("(/campaigns|/rulesets|^/v1/attributes|^/v1/audiences)$", PAGING),
    ("/campaigns$", ["campaignState", "name", "tags", "createdBefore", "createdAfter"]),
    ("^/v1/attributes$", ["entity"]),
    ("^/v1/audiences$", ["withTotalResultSize"]),
    ("/coupons(/no_total)?$", [*PAGING, *COUPON_FILTERS]),
    ("/coupons(_with_recipients)?$", ["silent"]),
    ("/referrals/no_total$", [*PAGING, "valid", "usable", "code", "advocate", "createdBefore"]),
]
# A valid value for each parameter (the first pattern matching the path that names it).
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
    # Talon.One
    "dry": "true",
    "now": "2999-01-01T00:00:00Z",
    "silent": "no",
    "forceCompleteEvaluation": "false",
    "runRuleEngine": "True",
    "profile": "true",
    "referrals": "true",
    "coupons": "True",
    "loyalty": "true",
    "giveaways": "false",
    "achievements": "true",
    "subledgerId": "",
    "pageSize": "5",
    "skip": "0",
    "campaignState": "enabled",
    "tags": "fuzz",
    "entity": "CustomerSession",
    "withTotalResultSize": "true",
    "value": "FZ",
    "exactMatch": "false",
    "valid": "validNow",
    "usable": "true",
    "redeemed": "false",
    "recipientIntegrationId": "ada",
    "batchId": "b",
    "code": "RF",
    "advocate": "ada",
}
VALID_BY_PATH: list[tuple[str, dict[str, str]]] = [
    ("/campaigns$", {"name": "Fuzz sale"}),
    ("^/v1/(applications|attributes|audiences)", {"sort": "id", "referralId": ""}),
]


def parameters(path: str) -> list[str]:
    found = [name for pattern, some in PARAMETERS if re.search(pattern, path) for name in some]
    return list(dict.fromkeys(found))


def valid_parameter(name: str, path: str = "") -> str:
    for pattern, values in VALID_BY_PATH:
        if re.search(pattern, path) and name in values:
            return values[name]
    return VALID_PARAMETERS.get(name.removesuffix("[]"), "2024-06-01T00:00:00Z")
