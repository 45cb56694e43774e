"""Group commit: batching, failure isolation, retries and back-pressure."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from patron.domain.errors import Conflict, RateLimited, Unavailable
from patron.store.committer import GroupCommitter, JobFailed, TransientError

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
