"""How services run their work in transactions: the protocol the store implements.

A service states the unit it needs — the narrow protocol of its capability
(``Store[TrackingUnit]``, ``Store[CustomerSegmentUnit]``) — and the
composition root hands it the SQL store. ``Store`` is covariant in its unit,
so mypy accepts the SQL store only where its unit implements that protocol:
a missing or mistyped store method fails the type check, not a request.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")
P = TypeVar("P")
U_co = TypeVar("U_co", covariant=True)


class Store(Protocol[U_co]):
    """Runs domain work in transactions, each given a unit of work ``U_co``."""

    async def write(self, work: Callable[[U_co], T], *, size: int = 1) -> T:
        """Run ``work`` in a write transaction; return once it is committed.

        ``size`` is how many messages the work carries, for back-pressure.
        """
        ...

    async def write_batched(
        self,
        key: Hashable,
        work: Callable[[U_co, list[P]], Sequence[T]],
        payload: P,
        *,
        size: int,
    ) -> T:
        """Like :meth:`write`, but ``work`` may be called once for many callers.

        Concurrent callers passing an equal ``key`` and ``work`` may have their
        payloads handed to one call of ``work``, which returns one result per
        payload, in order. ``work`` must therefore be a stable function (a
        module function or a bound method), not a fresh lambda.
        """
        ...

    async def read(self, work: Callable[[U_co], T]) -> T:
        """Run ``work`` against a consistent snapshot."""
        ...
