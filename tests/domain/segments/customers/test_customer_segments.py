"""Customer segments: Voucherify filters, the SQL backfill, live membership and its records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from patron.domain.clock import utcnow
from patron.domain.criteria.tree import AllOf, AnyOf, Condition, Op
from patron.domain.customers.model import CustomerQuery
from patron.domain.customers.service import CustomerService
from patron.domain.errors import Invalid, NotFound
from patron.domain.people.activity import ActivityQuery, ActivityType
from patron.domain.people.profiles import IdentityKind
from patron.domain.segments.customers.filters import (
    IdentityMatch,
    criteria_from_filter,
    parse_filter,
)
from patron.domain.segments.customers.membership import Membership
from patron.domain.segments.customers.model import MAX_STATIC_MEMBERS
from patron.domain.segments.customers.sweeper import SegmentSweeper
from patron.domain.tracking.messages import MessageType, build_message
from patron.services import Services
from patron.surfaces.voucherify.customer_rows import customer_row, rows_from_bulk_update
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio

GOLD_IN_PARIS = {
    "junction": "and",
    "metadata.tier": {"conditions": {"$is": ["gold"]}},
    "address.city": {"conditions": {"$in": ["Paris", "Lyon"]}},
}


def row(**item: Any) -> dict[str, Any]:
    found, problems = customer_row(item)
    assert not problems, problems
    return found


async def upsert(services: Services, workspace_id: str, **item: Any) -> str:
    profile, _ = await services.customers.upsert(workspace_id=workspace_id, row=row(**item))
    return profile.id


async def identify(services: Services, workspace_id: str, user_id: str, **traits: Any) -> None:
    document = {"type": "identify", "userId": user_id, "traits": traits}
    message, problems = build_message(MessageType.IDENTIFY, document, received_at=utcnow())
    assert message is not None, problems
    await services.tracking.ingest(workspace_id=workspace_id, messages=[message])


async def members(services: Services, workspace_id: str, segment_id: str) -> set[str]:
    query = CustomerQuery(segment_id=segment_id, limit=100)
    page = await services.customers.list(workspace_id=workspace_id, query=query)
    return {profile.external_id or profile.id for profile in page.customers}


def test_voucherify_filters_translate_into_the_criteria_tree() -> None:
    node = criteria_from_filter(
        {
            "junction": "or",
            "email": {"conditions": {"$ends_with": ["@acme.com"], "$is_not": ["x@acme.com"]}},
            "metadata.visits": {"conditions": {"$more_than": [3]}, "junction": "and"},
        }
    )
    assert node == AnyOf(
        (
            AllOf(
                (
                    Condition(("email",), Op.ENDS, "@acme.com"),
                    Condition(("email",), Op.EQUALS, "x@acme.com", negated=True),
                )
            ),
            AllOf((Condition(("metadata", "visits"), Op.GT, 3.0),)),
        )
    )
    with pytest.raises(Invalid) as refused:
        criteria_from_filter(
            {
                "junction": "xor",
                "colour": {"conditions": {"$is": ["red"]}},
                "name": {"conditions": {"$sounds_like": ["x"]}},
                "metadata.n": {"conditions": {"$more_than": ["ten"]}},
                "email": "ada@example.com",
            }
        )
    fields = {problem.field for problem in refused.value.problems}
    assert fields == {
        "filter.junction",
        "filter.colour",
        "filter.name.conditions.$sounds_like",
        "filter.metadata.n.conditions.$more_than",
        "filter.email",
    }


async def test_a_new_segment_is_filled_in_sql_as_python_would(services: Services) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    people = {
        "a": {"metadata": {"tier": "gold"}, "address": {"city": "Paris"}},
        "b": {"metadata": {"tier": "gold"}, "address": {"city": "Rome"}},
        "c": {"metadata": {"tier": "silver"}, "address": {"city": "Lyon"}},
        "d": {"metadata": {"tier": "gold"}},
        "e": {"metadata": {"tier": ["gold"]}, "address": {"city": "Paris"}},
    }
    for source_id, item in people.items():
        await upsert(services, ws, source_id=source_id, **item)
    # A Segment address trait counts too, and a deleted customer does not.
    await identify(services, ws, "f", tier="gold", address={"city": "Lyon"})
    await upsert(services, ws, source_id="g", metadata={"tier": "gold"}, address={"city": "Paris"})
    await services.customers.delete(workspace_id=ws, ref="g")

    segment, count = await services.customer_segments.create(
        workspace_id=ws, name="Gold in France", type_="auto-update", filter_=GOLD_IN_PARIS
    )

    assert count == 2
    assert await members(services, ws, segment.id) == {"a", "f"}
    # The Python evaluator agrees with the SQL backfill on every customer.
    membership = Membership([segment])
    for ref in ("a", "b", "c", "d", "e", "f"):
        profile = await services.customers.profile(workspace_id=ws, ref=ref)
        assert bool(membership.matching(profile, utcnow())) == (ref in {"a", "f"})
    history = await services.customers.activity(workspace_id=ws, ref="a", query=ActivityQuery())
    entered = [a for a in history.activities if a.type == ActivityType.SEGMENT_ENTERED]
    assert [a.data["segment"]["id"] for a in entered] == [segment.id]


async def test_membership_follows_every_way_a_profile_changes(services: Services) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    auto, _ = await services.customer_segments.create(
        workspace_id=ws, name="Gold", type_="auto-update", filter_=GOLD_IN_PARIS
    )
    passive, _ = await services.customer_segments.create(
        workspace_id=ws,
        name="Parisians",
        type_="passive",
        filter_={"address.city": {"conditions": {"$is": ["Paris"]}}},
    )

    await identify(services, ws, "t", tier="gold", address={"city": "Paris"})  # tracking API
    await upsert(services, ws, source_id="api", metadata={"tier": "gold"}, address={"city": "Lyon"})
    rows = rows_from_bulk_update(
        [{"source_id": "bulk", "metadata": {"tier": "gold"}, "address": {"city": "Paris"}}]
    )
    await services.async_actions.submit(workspace_id=ws, type_="CUSTOMERS_BULK_UPDATE", rows=rows)
    await services.async_actions.run_pending()
    assert await members(services, ws, auto.id) == {"t", "api", "bulk"}
    assert await members(services, ws, passive.id) == {"t", "bulk"}

    await identify(services, ws, "t", tier="silver")
    await services.customers.update(workspace_id=ws, ref="api", row=row(address={"city": "Rome"}))
    await services.customers.delete(workspace_id=ws, ref="bulk")
    assert await members(services, ws, auto.id) == set()
    assert await members(services, ws, passive.id) == {"t"}

    history = await services.customers.activity(
        workspace_id=ws, ref="t", query=ActivityQuery(descending=False)
    )
    moves = [
        (a.type, a.data["segment"]["name"])
        for a in history.activities
        if a.type in (ActivityType.SEGMENT_ENTERED, ActivityType.SEGMENT_LEFT)
    ]
    # Passive segments keep no such records.
    assert moves == [(ActivityType.SEGMENT_ENTERED, "Gold"), (ActivityType.SEGMENT_LEFT, "Gold")]


async def test_static_segments_and_a_customers_segments(services: Services) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    first = await upsert(services, ws, source_id="one", metadata={"tier": "gold"})
    await upsert(services, ws, source_id="two")
    static, count = await services.customer_segments.create(
        workspace_id=ws, name="VIP", type_="static", customers=[first, "two", "one"]
    )
    assert count == 2
    gold, _ = await services.customer_segments.create(
        workspace_id=ws,
        name="Gold",
        type_="auto-update",
        filter_={"metadata.tier": {"conditions": {"$is": ["gold"]}}},
    )
    # A static segment does not follow profiles.
    await services.customers.update(workspace_id=ws, ref="two", row=row(metadata={"tier": "x"}))
    assert await members(services, ws, static.id) == {"one", "two"}

    mine = await services.customer_segments.of_customer(workspace_id=ws, ref="one")
    assert [s.name for s in mine] == ["VIP", "Gold"]
    # For an id Patron does not know: the filter segments a new customer would be in.
    assert await services.customer_segments.of_customer(workspace_id=ws, ref="ghost") == []
    anyone, _ = await services.customer_segments.create(
        workspace_id=ws,
        name="No email",
        type_="passive",
        filter_={"email": {"conditions": {"$is_unknown": []}}},
    )
    ghost = await services.customer_segments.of_customer(workspace_id=ws, ref="ghost")
    assert [s.id for s in ghost] == [anyone.id]

    await services.customer_segments.delete(workspace_id=ws, segment_id=gold.id)
    with pytest.raises(NotFound):
        await services.customer_segments.get(workspace_id=ws, segment_id=gold.id)
    assert await members(services, ws, gold.id) == set()
    report = await services.customers.erase(workspace_id=ws, ref="one")
    assert report.memberships == 2  # VIP and "No email"


async def test_bad_segments_are_refused(services: Services) -> None:
    workspace = await make_workspace(services)
    create = services.customer_segments.create
    for kwargs in (
        {"name": "", "type_": "static", "customers": []},
        {"name": "x", "type_": "dynamic", "filter_": GOLD_IN_PARIS},
        {"name": "x", "type_": "static", "filter_": GOLD_IN_PARIS},
        {"name": "x", "type_": "static", "customers": ["a"] * (MAX_STATIC_MEMBERS + 1)},
        {"name": "x", "type_": "auto-update", "filter_": {}},
        {"name": "x", "type_": "passive", "filter_": GOLD_IN_PARIS, "customers": ["a"]},
    ):
        with pytest.raises(Invalid):
            await create(workspace_id=workspace.id, **kwargs)
    with pytest.raises(NotFound):
        await create(workspace_id=workspace.id, name="x", type_="static", customers=["nobody"])
    assert await services.customer_segments.list(workspace_id=workspace.id) == []


# -- behaviour ---------------------------------------------------------------------

ORDERS_3_IN_30 = {
    "events.Order Completed": {
        "conditions": {"$more_than_equal": [3]},
        "days": 30,
        "properties": {"total": {"conditions": {"$more_than": [50]}}},
    }
}


async def track(
    services: Services, workspace_id: str, user_id: str, event: str, days_ago: float, **props: Any
) -> None:
    moment = utcnow() - timedelta(days=days_ago)
    document = {
        "type": "track",
        "userId": user_id,
        "event": event,
        "properties": props,
        "timestamp": moment.isoformat(),
    }
    message, problems = build_message(MessageType.TRACK, document, received_at=utcnow())
    assert message is not None, problems
    await services.tracking.ingest(workspace_id=workspace_id, messages=[message])


def test_behavioural_conditions_parse_and_refuse() -> None:
    rule = parse_filter({"metadata.tier": {"conditions": {"$is": ["gold"]}}, **ORDERS_3_IN_30})
    (behaviour,) = rule.behaviours
    assert (behaviour.name, behaviour.op, behaviour.count, behaviour.days) == (
        "Order Completed",
        Op.GTE,
        3,
        30,
    )
    assert behaviour.where == AllOf((AllOf((Condition(("properties", "total"), Op.GT, 50.0),)),))
    assert [behaviour.holds(n) for n in (2, 3, 4)] == [False, True, True]
    with pytest.raises(Invalid) as refused:
        parse_filter(
            {
                "junction": "or",
                "email": {"conditions": {"$has_value": []}},
                "events.A": {"conditions": {"$more_than": [-1]}, "days": 0, "when": "now"},
                "events.": {"conditions": {"$is": [0]}},
            }
        )
    assert {p.field for p in refused.value.problems} == {
        "filter.junction",
        "filter.events.A.when",
        "filter.events.A.conditions",
        "filter.events.A.days",
        "filter.events.",
    }


def test_identity_conditions_parse_with_set_semantics() -> None:
    anon = IdentityKind.ANONYMOUS_ID
    value = ("value",)
    rule = parse_filter(
        {
            "metadata.tier": {"conditions": {"$is": ["gold"]}},
            "identities.anonymous_id": {
                "conditions": {"$starts_with": ["web-"], "$is_not": ["web-1", "web-2"]}
            },
        }
    )
    assert rule.identities == (
        IdentityMatch(anon, Condition(value, Op.BEGINS, "web-")),
        IdentityMatch(anon, Condition(value, Op.IN, ("web-1", "web-2")), present=False),
    )
    unknown = parse_filter({"identities.anonymous_id": {"conditions": {"$is_unknown": []}}})
    assert unknown.identities == (IdentityMatch(anon, None, present=False),)
    assert [unknown.identities[0].holds(n) for n in (0, 1, 2)] == [True, False, False]
    with pytest.raises(Invalid) as refused:
        parse_filter(
            {
                "junction": "or",
                "email": {"conditions": {"$has_value": []}},
                "identities.anonymous_id": {
                    "conditions": {"$more_than": [3], "$is": ["a"]},
                    "junction": "or",
                },
                "identities.email": {"conditions": {"$is": ["a"]}},
            }
        )
    assert {p.field for p in refused.value.problems} == {
        "filter.junction",
        "filter.identities.anonymous_id",
        "filter.identities.anonymous_id.conditions.$more_than",
        "filter.identities.email",
    }


async def seen(services: Services, workspace_id: str, user_id: str, anonymous_id: str) -> None:
    """A page view that ties an anonymous id to a user (or, with no user, stays anonymous)."""
    document: dict[str, Any] = {"type": "page", "anonymousId": anonymous_id}
    if user_id:
        document["userId"] = user_id
    message, problems = build_message(MessageType.PAGE, document, received_at=utcnow())
    assert message is not None, problems
    await services.tracking.ingest(workspace_id=workspace_id, messages=[message])


async def test_identity_conditions_fill_and_follow_new_identities(services: Services) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    filters = {
        "from the web": {"identities.anonymous_id": {"conditions": {"$starts_with": ["web-"]}}},
        "never anonymous": {"identities.anonymous_id": {"conditions": {"$is_unknown": []}}},
        "not on web-1": {"identities.anonymous_id": {"conditions": {"$is_not": ["web-1"]}}},
    }

    async def create_all() -> dict[str, str]:
        made = {}
        for name, filter_ in filters.items():
            segment, _ = await services.customer_segments.create(
                workspace_id=ws, name=name, type_="auto-update", filter_=filter_
            )
            made[name] = segment.id
        return made

    live = await create_all()  # kept by live membership from here on
    await seen(services, ws, "web", "web-1")
    await seen(services, ws, "app", "ios-1")
    await upsert(services, ws, source_id="plain")
    await seen(services, ws, "", "web-7")  # an anonymous visitor of their own
    # A known customer gains a web identity; an anonymous one is merged into "app".
    await seen(services, ws, "plain", "web-2")
    await seen(services, ws, "app", "web-7")

    expected = {
        "from the web": {"web", "plain", "app"},
        "never anonymous": set(),
        "not on web-1": {"app", "plain"},
    }
    backfilled = await create_all()  # the same filters, filled in SQL now
    for name, want in expected.items():
        assert await members(services, ws, live[name]) == want, name
        assert await members(services, ws, backfilled[name]) == want, name

    await upsert(services, ws, source_id="new")
    assert await members(services, ws, live["never anonymous"]) == {"new"}
    stranger = await services.customer_segments.of_customer(workspace_id=ws, ref="ghost")
    assert {s.name for s in stranger} == {"never anonymous", "not on web-1"}
    history = await services.customers.activity(
        workspace_id=ws,
        ref="plain",
        query=ActivityQuery(types=frozenset({"customer.segment.entered"})),
    )
    entered = [a.data["segment"]["id"] for a in history.activities]
    assert live["from the web"] in entered


async def test_behaviour_backfill_and_live_membership_agree_at_the_edges(
    services: Services,
) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    # three: exactly 3 big orders inside the window; two: 2 big + 1 small;
    # old: 3 big orders, one just outside the window; idle: none at all.
    for days_ago in (1, 10, 29.9):
        await track(services, ws, "three", "Order Completed", days_ago, total=60)
    for days_ago, total in ((1, 60), (2, 70), (3, 10)):
        await track(services, ws, "two", "Order Completed", days_ago, total=total)
    for days_ago in (1, 2, 30.1):
        await track(services, ws, "old", "Order Completed", days_ago, total=99)
    await upsert(services, ws, source_id="idle")

    big, _ = await services.customer_segments.create(
        workspace_id=ws, name="Big spenders", type_="auto-update", filter_=ORDERS_3_IN_30
    )
    quiet, _ = await services.customer_segments.create(
        workspace_id=ws,
        name="No orders this month",
        type_="passive",
        filter_={"events.Order Completed": {"conditions": {"$is": [0]}, "days": 30}},
    )
    assert await members(services, ws, big.id) == {"three"}
    assert await members(services, ws, quiet.id) == {"idle"}

    # A new event re-evaluates its customer at once, in both directions.
    await track(services, ws, "two", "Order Completed", 0, total=51)
    await track(services, ws, "idle", "Order Completed", 0, total=5)
    assert await members(services, ws, big.id) == {"three", "two"}
    assert await members(services, ws, quiet.id) == set()
    history = await services.customers.activity(
        workspace_id=ws,
        ref="two",
        query=ActivityQuery(types=frozenset({"customer.segment.entered"})),
    )
    assert [a.data["segment"]["name"] for a in history.activities] == ["Big spenders"]


async def test_the_sweep_moves_customers_out_as_time_passes(services: Services) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    for days_ago in (5, 20, 25):
        await track(services, ws, "fading", "Order Completed", days_ago, total=60)
    for days_ago in (1, 2, 3):
        await track(services, ws, "steady", "Order Completed", days_ago, total=60)
    big, _ = await services.customer_segments.create(
        workspace_id=ws, name="Big spenders", type_="auto-update", filter_=ORDERS_3_IN_30
    )
    assert await members(services, ws, big.id) == {"fading", "steady"}

    clock = {"now": utcnow()}
    sweeper = SegmentSweeper(
        services.store, services.segment_sweeper.memberships, lambda: clock["now"], interval=3600
    )
    assert await sweeper.sweep() == 0  # nothing has left any window yet
    clock["now"] += timedelta(days=6)  # the 25-day-old order is now 31 days old
    # Only the customer whose event crossed the window's edge is looked at.
    assert await sweeper.sweep() == 1
    assert await members(services, ws, big.id) == {"steady"}
    history = await services.customers.activity(
        workspace_id=ws,
        ref="fading",
        query=ActivityQuery(types=frozenset({"customer.segment.left"})),
    )
    assert len(history.activities) == 1
    assert await sweeper.sweep() == 0  # that slice of time is done


async def test_relative_dates_fill_follow_and_sweep(services: Services) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    now = utcnow()
    clock = {"now": now - timedelta(days=40)}
    customers = CustomerService(services.store, clock=lambda: clock["now"])
    for source_id, days_ago in (("veteran", 40), ("recent", 25), ("new", 1)):
        clock["now"] = now - timedelta(days=days_ago)
        await customers.upsert(workspace_id=ws, row=row(source_id=source_id))
    teen = (now - timedelta(days=365 * 15)).date().isoformat()
    adult = (now - timedelta(days=365 * 30)).date().isoformat()
    await upsert(services, ws, source_id="teen", birthdate=teen)
    await upsert(services, ws, source_id="adult", birthdate=adult)

    loyal, _ = await services.customer_segments.create(
        workspace_id=ws,
        name="Customers for a month",
        type_="auto-update",
        filter_={"created_at": {"conditions": {"$more_than_ago": [30]}}},
    )
    minors, _ = await services.customer_segments.create(
        workspace_id=ws,
        name="Under 18",
        type_="passive",
        filter_={"birthdate": {"conditions": {"$less_than_ago": [365 * 18]}}},
    )
    assert await members(services, ws, loyal.id) == {"veteran"}
    assert await members(services, ws, minors.id) == {"teen"}
    # Python agrees with the backfill.
    membership = Membership([loyal, minors])
    for ref, expected in (("veteran", {loyal.id}), ("recent", set()), ("teen", {minors.id})):
        profile = await services.customers.profile(workspace_id=ws, ref=ref)
        assert membership.matching(profile, now) == expected

    sweep_clock = {"now": now}
    sweeper = SegmentSweeper(
        services.store, services.segment_sweeper.memberships, lambda: sweep_clock["now"]
    )
    await sweeper.sweep()
    sweep_clock["now"] = now + timedelta(days=6)  # "recent" is now 31 days a customer
    assert await sweeper.sweep() == 1
    assert await members(services, ws, loyal.id) == {"veteran", "recent"}
    with pytest.raises(Invalid):
        parse_filter({"metadata.since": {"conditions": {"$less_than_ago": [3]}}})


async def test_sql_and_python_agree_on_every_kind_of_field(services: Services) -> None:
    workspace = await make_workspace(services)
    ws = workspace.id
    await identify(
        services, ws, "seg", name="Ada Byron", address={"street": "1 Old Rd", "postalCode": "N1"}
    )
    people: list[dict[str, Any]] = [
        {"source_id": "a", "email": "a@acme.com", "birthdate": "1990-05-01", "phone": "+1"},
        {"source_id": "b", "name": "Ada Lovelace", "address": {"line_1": "1 Old Rd"}},
        {"source_id": "c", "description": "vip", "metadata": {"n": 7, "tags": {"x": True}}},
        {"source_id": "d", "metadata": {"n": "7"}, "address": {"postal_code": "N1"}},
        {"name": "anonymous", "birthdate": "2001-01-01"},
    ]
    for item in people:
        await upsert(services, ws, **item)
    filters = [
        {"email": {"conditions": {"$ends_with": ["@acme.com"]}}},
        {"name": {"conditions": {"$starts_with": ["Ada"]}}},
        {"address.line_1": {"conditions": {"$is": ["1 Old Rd"]}}},
        {"address.postal_code": {"conditions": {"$in": ["N1", "N2"]}}},
        {"birthdate": {"conditions": {"$before": ["1995-01-01"]}}},
        {"phone": {"conditions": {"$is_unknown": []}}},
        {"description": {"conditions": {"$has_value": []}}},
        {"source_id": {"conditions": {"$in": ["a", "c"]}}},
        {"metadata.n": {"conditions": {"$more_than": [5]}}},
        {"metadata.n": {"conditions": {"$is": ["7"]}}},
        {"metadata.tags.x": {"conditions": {"$is": [True]}}},
        {"created_at": {"conditions": {"$less_than_ago": [1]}}},
        {
            "junction": "or",
            "email": {"conditions": {"$contains": ["acme"]}},
            "metadata.n": {"conditions": {"$is_not": [7]}},
        },
    ]
    refs = ["seg", "a", "b", "c", "d"]
    profiles = [await services.customers.profile(workspace_id=ws, ref=r) for r in refs]
    page = await services.customers.list(workspace_id=ws, query=CustomerQuery(limit=100))
    anonymous = [p for p in page.customers if p.external_id is None]
    for index, spec in enumerate(filters):
        segment, _ = await services.customer_segments.create(
            workspace_id=ws, name=f"F{index}", type_="passive", filter_=spec
        )
        in_sql = await members(services, ws, segment.id)
        membership = Membership([segment])
        in_python = {
            p.external_id or p.id
            for p in [*profiles, *anonymous]
            if membership.matching(p, utcnow())
        }
        assert in_sql == in_python, spec
