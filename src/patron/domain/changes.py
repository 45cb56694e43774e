"""Changes one capability publishes and others react to, inside the same transaction.

A service that changes something others care about (a profile changed, an
event was recorded, a customer was deleted) publishes it once on its unit of
work — :meth:`Publisher.publish` — and every listener subscribed to that kind
of change runs right there, in the same transaction, with the same unit. So a
reaction commits or rolls back with the change that caused it, and no service
needs to know who listens (customer segments do today; promotions will).

The subscriptions are made once, by the composition root, on a
:class:`Subscriptions` the store hands to each unit it opens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

U = TypeVar("U")
C = TypeVar("C", bound="Change")


class Change:
    """Base of every published change (a frozen dataclass each)."""

    __slots__ = ()


class Publisher(Protocol):
    """The part of a unit of work that announces changes."""

    def publish(self, change: Change) -> None:
        """Run every listener of ``change``'s kind now, in this transaction."""
        ...


class Subscriptions(Generic[U]):
    """Who listens to which kind of change; listeners get the unit and the change."""

    def __init__(self) -> None:
        self._listeners: defaultdict[type[Change], list[Callable[[U, Any], None]]] = defaultdict(
            list
        )

    def subscribe(self, kind: type[C], listener: Callable[[U, C], None]) -> None:
        self._listeners[kind].append(listener)

    def dispatch(self, unit: U, change: Change) -> None:
        for listener in self._listeners.get(type(change), ()):
            listener(unit, change)
