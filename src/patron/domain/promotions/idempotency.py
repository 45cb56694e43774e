"""``Idempotency-Key`` on every Integration API write: a retry gets the first answer.

One table of answers (``idempotent_answers``), per application and key, kept
24 hours (expired ones are swept whenever a key is stored, and never
replayed). A retry with the same key and the same request (method path,
query and body: its digest) gets the stored status and body again; the same
key with another request is refused (400 on ``Idempotency-Key``), so a
client bug never returns the answer to something else.

Two ways to keep an answer, one table:

* **In the write's own transaction** (:func:`kept_or_run`): session updates
  and events render their answer inside the transaction that commits them,
  so the write and its answer commit together.
* **Around a write** (:class:`IdempotencyService`): every other write first
  *claims* the key (a row with status 0, in its own transaction), then runs,
  then stores the answer over the claim (a 2xx) or drops the claim (an
  error: a retry runs again). A second request with a key still claimed gets
  409. The window: if the process dies between the write's commit and
  storing its answer, the claim stays; after ``CLAIM_TIMEOUT`` it is treated
  as abandoned and a retry runs the write again.

Answers name the profiles whose data they carry (``profile_ids``): erasing a
customer's data erases those answers with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, Problem
from patron.domain.store import Store

IDEMPOTENCY_WINDOW = timedelta(hours=24)
CLAIM_TIMEOUT = timedelta(seconds=60)
MAX_KEY = 255
HEADER = "Idempotency-Key"
CLAIMED = 0  # the status of a claim: the request holding it is still running
KEY_REUSED = "this key was used with another request: use a new key"
STILL_RUNNING = "A request with this Idempotency-Key is still being processed"


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer as the surface rendered it: what an Idempotency-Key replays."""

    status: int
    body: str
    profile_ids: tuple[str, ...] = ()  # the profiles whose data the answer carries


@dataclass(frozen=True, slots=True)
class Idempotency:
    key: str
    digest: str  # of the request: the same key with another request is refused


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer kept for an ``Idempotency-Key`` (status 0: a claim)."""

    request_digest: str
    status: int
    body: str
    created_at: datetime


class IdempotencyUnit(Protocol):
    def idempotent_answer(
        self, application_id: int, key: str, since: datetime
    ) -> StoredAnswer | None:
        """The answer (or claim) kept for ``key``, if it was kept after ``since``."""
        ...

    def keep_idempotent_answer(
        self,
        application_id: int,
        key: str,
        answer: StoredAnswer,
        expired_before: datetime,
        profile_ids: Sequence[str] = (),
    ) -> None:
        """Keep ``answer`` for ``key`` (replacing a claim or an expired answer, dropping
        the application's expired ones), naming the profiles it carries."""
        ...

    def forget_idempotent_answer(self, application_id: int, key: str) -> None: ...


def check_key(key: str) -> None:
    if not key.strip() or len(key) > MAX_KEY:
        raise Invalid.of([Problem(f"1 to {MAX_KEY} characters", HEADER)])


def replay(kept: StoredAnswer | None, idempotency: Idempotency, now: datetime) -> Answer | None:
    """The answer a retry gets (None: run the request); Invalid for another request
    with this key, Conflict while the first one still runs."""
    if kept is None:
        return None
    if kept.request_digest != idempotency.digest:
        raise Invalid.of([Problem(KEY_REUSED, HEADER)])
    if kept.status == CLAIMED:
        if kept.created_at < now - CLAIM_TIMEOUT:
            return None  # abandoned: run again
        raise Conflict(STILL_RUNNING)
    return Answer(kept.status, kept.body)


def kept_or_run(
    unit: IdempotencyUnit,
    application_id: int,
    idempotency: Idempotency | None,
    now: datetime,
    run: Callable[[], Answer],
) -> Answer:
    """Inside the write's transaction: the kept answer, or ``run()``'s, kept if a 2xx."""
    if idempotency is None:
        return run()
    kept = unit.idempotent_answer(application_id, idempotency.key, now - IDEMPOTENCY_WINDOW)
    replayed = replay(kept, idempotency, now)
    if replayed is not None:
        return replayed
    answer = run()
    if 200 <= answer.status < 300:
        _keep(unit, application_id, idempotency, answer, now)
    return answer


def _keep(
    unit: IdempotencyUnit,
    application_id: int,
    idempotency: Idempotency,
    answer: Answer,
    now: datetime,
) -> None:
    stored = StoredAnswer(idempotency.digest, answer.status, answer.body, now)
    unit.keep_idempotent_answer(
        application_id,
        idempotency.key,
        stored,
        now - IDEMPOTENCY_WINDOW,
        sorted({p for p in answer.profile_ids if p}),
    )


class IdempotencyService:
    """Claims a key before a write and keeps its answer after (see the module)."""

    def __init__(
        self, store: Store[IdempotencyUnit], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.clock = clock

    async def claim(self, application_id: int, idempotency: Idempotency) -> Answer | None:
        """The kept answer of a retry; else None, and the key is claimed for this request."""
        now = self.clock()

        def work(unit: IdempotencyUnit) -> Answer | None:
            since = now - IDEMPOTENCY_WINDOW
            kept = unit.idempotent_answer(application_id, idempotency.key, since)
            replayed = replay(kept, idempotency, now)
            if replayed is None:
                _keep(unit, application_id, idempotency, Answer(CLAIMED, ""), now)
            return replayed

        return await self.store.write(work)

    async def settle(self, application_id: int, idempotency: Idempotency, answer: Answer) -> None:
        """Keep a 2xx answer over the claim; drop the claim of any other answer."""
        now = self.clock()

        def work(unit: IdempotencyUnit) -> None:
            if 200 <= answer.status < 300:
                _keep(unit, application_id, idempotency, answer, now)
            else:
                unit.forget_idempotent_answer(application_id, idempotency.key)

        await self.store.write(work)
