"""The sweep that keeps time-windowed segments current as time passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from patron.domain.background import BackgroundLoop
from patron.domain.segments.customers.membership import MembershipCache
from patron.domain.segments.customers.model import CustomerSegment
from patron.domain.segments.customers.ports import CustomerSegmentUnit, SweepObserver
from patron.domain.store import Store


class SegmentSweeper:
    """Keeps segments with time windows correct as time passes, without rescanning.

    Only the passage of time changes "N times in the last D days" for a
    customer with no new events: an event leaves the window when its
    timestamp passes ``now - D``; likewise a relative date ("created more
    than 30 days ago") when the date passes ``now - D``. So each sweep
    re-evaluates, per segment, only the customers with a counted event, or
    such a date, that crossed the window's edge since the previous sweep —
    found through the events and customers indexes. A segment's sweep mark moves in
    the same transaction as its changes (``claim_sweep``), so any number of
    processes can sweep: each window slice is done once.
    """

    def __init__(
        self,
        store: Store[CustomerSegmentUnit],
        memberships: MembershipCache,
        clock: Callable[[], datetime],
        *,
        interval: float = 60.0,
        observer: SweepObserver | None = None,
    ) -> None:
        self.store = store
        self.memberships = memberships
        self.clock = clock
        self.observer = observer
        self._loop = BackgroundLoop("segment-sweep", self.sweep, interval)

    async def sweep(self) -> int:
        """One sweep over every windowed segment; returns how many customers it re-evaluated."""
        started, total = time.monotonic(), 0
        try:
            segments = await self.store.read(lambda unit: unit.windowed_segments())
            for segment in segments:
                now = self.clock()
                total += await self.store.write(partial(self._sweep_one, segment=segment, now=now))
        except Exception:  # a stop (cancellation) is no failed sweep: it is not counted
            self._observe(ok=False, customers=total, started=started)
            raise
        self._observe(ok=True, customers=total, started=started)
        return total

    def _observe(self, *, ok: bool, customers: int, started: float) -> None:
        if self.observer is not None:
            seconds = time.monotonic() - started
            self.observer.sweep_finished(ok=ok, customers=customers, seconds=seconds)

    def _sweep_one(
        self, unit: CustomerSegmentUnit, *, segment: CustomerSegment, now: datetime
    ) -> int:
        previous = segment.swept_at
        if not unit.claim_sweep(segment.id, previous, now):
            return 0  # another process swept it
        rule = segment.rule()
        if rule is None:
            return 0
        start_mark = previous or segment.created_at
        candidates: set[str] = set()
        for behaviour in rule.behaviours:
            if behaviour.days is None:
                continue
            window = timedelta(days=behaviour.days)
            found = unit.customers_with_events(
                segment.workspace_id, behaviour.name, start_mark - window, now - window
            )
            candidates.update(found)
        for field, days in rule.date_windows():
            window = timedelta(days=days)
            found = unit.customers_with_dates(
                segment.workspace_id, field, start_mark - window, now - window
            )
            candidates.update(found)
        if not candidates:
            return 0
        profiles = unit.load_profiles(segment.workspace_id, sorted(candidates))
        membership = self.memberships.current(unit, segment.workspace_id)
        membership.refresh(unit, profiles, now)
        return len(profiles)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
