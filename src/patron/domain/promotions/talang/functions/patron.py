"""Beyond Talon: rules may ask what Patron knows of the whole customer.

``["segment", "seg_…"]`` (an id or a name) is true when the customer is in
that Patron customer segment now — auto-updating, static or an audience: the
caller passes the customer's current segments. ``["eventCount", "Order
Completed", 30]`` counts the customer's events of that type in the last 30
days (``["eventCount", type]``: ever), and ``["lastEventTime", type]`` is
when the last one happened (failing if never: wrap it in ``catch``); both are
answered by the caller's :class:`~patron.domain.promotions.model.EventHistory`,
once per question per evaluation (whatever the campaigns asking it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from patron.domain.promotions.talang.errors import EvaluationError
from patron.domain.promotions.talang.nodes import Literal, Node, Run, Scope
from patron.domain.promotions.talang.registry import Function, Overload, Site
from patron.domain.promotions.talang.values import (
    BOOLEAN,
    DECIMAL,
    TIME,
    Kind,
    as_decimal,
    as_string,
    number,
)

MAX_DAYS = 36_500


def _segment(site: Site) -> Run:
    (reference,) = site.runs

    def run(scope: Scope) -> bool:
        wanted = as_string(reference(scope))
        segments = scope.context.profile.segments
        return wanted in segments or wanted in segments.values()

    return run


def _since(scope: Scope, days: Any) -> datetime:
    span = as_decimal(days)
    if not 0 <= span <= MAX_DAYS:
        raise EvaluationError(f"a window is 0 to {MAX_DAYS} days, not {span}")
    return scope.now - timedelta(days=float(span))


def _event_count(site: Site) -> Run:
    runs = site.runs

    def run(scope: Scope) -> Decimal:
        event_type = as_string(runs[0](scope))
        days = runs[1](scope) if len(runs) > 1 else None
        key = ("eventCount", event_type, days)  # the window, not its start: cheaper to ask
        if key not in scope.shared:
            since = None if days is None else _since(scope, days)
            scope.shared[key] = number(scope.context.history.count(event_type, since))
        value: Decimal = scope.shared[key]
        return value

    return run


def _last_event(site: Site) -> Run:
    (kind,) = site.runs

    def run(scope: Scope) -> datetime:
        event_type = as_string(kind(scope))
        key = ("lastEventTime", event_type)
        if key not in scope.shared:
            scope.shared[key] = scope.context.history.last(event_type)
        moment: datetime | None = scope.shared[key]
        if moment is None:
            raise EvaluationError(f"the customer has no {event_type!r} event")
        return moment

    return run


def _days_check(node: Node) -> str | None:
    if isinstance(node, Literal) and not 0 <= node.value <= MAX_DAYS:
        return f"a window is 0 to {MAX_DAYS} days"
    return None


FUNCTIONS: list[Function] = [
    Function(
        "segment",
        (Overload((Kind.STRING,), BOOLEAN),),
        _segment,
        "true when the customer is in the Patron customer segment (id or name)",
    ),
    Function(
        "eventCount",
        (Overload((Kind.STRING,), DECIMAL), Overload((Kind.STRING, Kind.DECIMAL), DECIMAL)),
        _event_count,
        "how many events of the type the customer had (in the last N days)",
        literal_checks=((1, _days_check),),
    ),
    Function(
        "lastEventTime",
        (Overload((Kind.STRING,), TIME),),
        _last_event,
        "when the customer last had an event of the type",
    ),
]
