"""Group commit: batching, failure isolation, retries and back-pressure."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from patron.domain.errors import Conflict, RateLimited, Unavailable
from patron.store.committer import CommitFailed, GroupCommitter, JobFailed, TransientError
from tests.patron_logs import patron_records, said

pytestmark = pytest.mark.anyio


class FakeTransaction:
    """Records what each transaction ran; can fail on demand."""

    def __init__(self, transient_failures: int = 0) -> None:
        self.transactions: list[list[Any]] = []
        self.committed: list[Any] = []
        self.transient_failures = transient_failures

    def __call__(self, works: list[Any]) -> list[Any]:
        self.transactions.append(works)
        if self.transient_failures:
            self.transient_failures -= 1
            raise TransientError("database is locked")
        results = []
        for index, work in enumerate(works):
            try:
                results.append(work(None))
            except Exception as error:
                raise JobFailed(index, error) from error
        self.committed.extend(results)
        return results


def job(value: Any):
    def work(_: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        return value

    return work


async def test_waiting_writes_share_one_transaction() -> None:
    transaction = FakeTransaction()
    committer = GroupCommitter(transaction, queue_limit=100, batch_limit=100)
    results = await asyncio.gather(*(committer.submit(job(i)) for i in range(20)))
    await committer.close()
    assert results == list(range(20))
    assert len(transaction.transactions) < 20  # batched: the first alone, then the rest


async def test_batches_respect_the_size_limit() -> None:
    transaction = FakeTransaction()
    committer = GroupCommitter(transaction, queue_limit=1000, batch_limit=10)
    await asyncio.gather(*(committer.submit(job(i), size=4) for i in range(10)))
    await committer.close()
    assert all(len(works) * 4 <= 10 for works in transaction.transactions)


async def test_a_failing_write_fails_alone() -> None:
    transaction = FakeTransaction()
    committer = GroupCommitter(transaction, queue_limit=100, batch_limit=100)
    outcomes = await asyncio.gather(
        committer.submit(job(1)),
        committer.submit(job(Conflict("taken"))),
        committer.submit(job(3)),
        return_exceptions=True,
    )
    await committer.close()
    assert (outcomes[0], outcomes[2]) == (1, 3)
    assert isinstance(outcomes[1], Conflict)
    assert sorted(r for r in transaction.committed if r is not None) == [1, 3]


async def test_transient_faults_are_retried_then_reported_as_unavailable() -> None:
    recovering = GroupCommitter(FakeTransaction(transient_failures=2), queue_limit=9, batch_limit=9)
    assert await recovering.submit(job("ok")) == "ok"
    await recovering.close()
    failing = GroupCommitter(
        FakeTransaction(transient_failures=99), queue_limit=9, batch_limit=9, retries=2
    )
    with pytest.raises(Unavailable):
        await failing.submit(job("never"))
    await failing.close()


async def test_a_full_queue_refuses_new_writes() -> None:
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow(_: Any) -> str:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
        return "slow"

    committer = GroupCommitter(FakeTransaction(), queue_limit=5, batch_limit=5)
    first = asyncio.create_task(committer.submit(slow))
    await asyncio.sleep(0.05)  # the writer is now busy with the first job
    queued = asyncio.create_task(committer.submit(job("queued"), size=5))
    await asyncio.sleep(0)
    with pytest.raises(RateLimited):
        await committer.submit(job("refused"))
    release.set()
    assert await first == "slow"
    assert await queued == "queued"
    await committer.close()


class FailingTransaction:
    """Fails every transaction with ``error`` (the store's faults, as the SqlStore raises them)."""

    def __init__(self, error: Exception, failures: int = 10**9) -> None:
        self.error = error
        self.failures = failures
        self.calls = 0

    def __call__(self, works: list[Any]) -> list[Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return [work(None) for work in works]


async def test_lost_races_are_retried_quietly(caplog: pytest.LogCaptureFixture) -> None:
    transaction = FailingTransaction(TransientError("deadlock detected", race=True), failures=3)
    committer = GroupCommitter(transaction, queue_limit=9, batch_limit=9)
    with patron_records(caplog):
        assert await committer.submit(job("ok")) == "ok"
        assert transaction.calls == 4
        await committer.close()
    assert said(caplog, logging.INFO) == []  # an expected race: DEBUG only


async def test_an_outage_is_reported_once_however_many_writes_it_refuses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transaction = FailingTransaction(TransientError("connection refused"))
    committer = GroupCommitter(transaction, queue_limit=99, batch_limit=1, retries=1)
    with patron_records(caplog):
        outcomes = await asyncio.gather(
            *(committer.submit(job(i)) for i in range(5)), return_exceptions=True
        )
        transaction.failures = 0  # the database is back
        assert await committer.submit(job("back")) == "back"
        await committer.close()
    assert all(isinstance(outcome, Unavailable) for outcome in outcomes)
    assert said(caplog, logging.INFO) == [
        "ERROR: the database is not available (connection refused); answering 503 until it is back",
        "INFO: the database is available again (5 calls were refused meanwhile)",
    ]


async def test_a_race_that_never_ends_gives_its_own_error_once_not_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    duplicate = KeyError("the same row again")  # stands for a unique violation, retried in vain
    transaction = FailingTransaction(TransientError("unique", race=True, final=duplicate))
    committer = GroupCommitter(transaction, queue_limit=9, batch_limit=9, retries=2)
    with patron_records(caplog):
        with pytest.raises(KeyError):
            await committer.submit(job("never"))
        assert transaction.calls == 3
        await committer.close()
    assert said(caplog) == []  # the submitter has the error; it logs it, once


async def test_a_transaction_that_fails_as_a_whole_fails_its_jobs_without_retries() -> None:
    bug = RuntimeError("cannot commit - SQL statements in progress")
    transaction = FailingTransaction(CommitFailed(bug))
    committer = GroupCommitter(transaction, queue_limit=9, batch_limit=9)
    outcomes = await asyncio.gather(
        committer.submit(job(1)), committer.submit(job(2)), return_exceptions=True
    )
    assert outcomes == [bug, bug]
    assert transaction.calls <= 2  # once per transaction (the first job may commit alone)
    await committer.close()


async def test_a_jobs_own_unexpected_error_is_left_to_its_submitter_to_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """E.g. a bulk-job chunk that another process committed first: expected by its runner."""
    committer = GroupCommitter(FakeTransaction(), queue_limit=9, batch_limit=9)
    with patron_records(caplog):
        with pytest.raises(LookupError):
            await committer.submit(job(LookupError("taken by another process")))
        await committer.close()
    assert said(caplog) == []
