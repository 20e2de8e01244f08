"""The sign-in guard's storage contract on every backend: attempts counted atomically per key
and window (the database's and Redis' counters alike), and dashboard visits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from sessionhub.core.contracts import AttemptCounter, SessionStore
from sessionhub.core.passwords import MemoryAttemptCounter
from sessionhub.core.records import DashboardVisit
from sessionhub.stores.redis import RedisAttemptCounter, RedisClient
from tests.conftest import redis_url_for


@pytest.fixture(params=["database", "redis", "memory"])
def counter_kind(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """Which counter, with the Redis URL of the test's own prefix for the Redis one (made
    before the event loop runs: the Redis probe runs a loop of its own)."""
    if request.param != "redis":
        yield request.param, ""
        return
    for url in redis_url_for(request):
        yield "redis", url


@pytest.fixture
async def counter(
    counter_kind: tuple[str, str], store: SessionStore
) -> AsyncIterator[AttemptCounter]:
    kind, url = counter_kind
    if kind == "database":
        assert isinstance(store, AttemptCounter)
        yield store
    elif kind == "memory":
        yield MemoryAttemptCounter()
    else:
        client = RedisClient(url)
        await client.open()
        yield RedisAttemptCounter(client, 60_000)
        await client.close()


async def test_concurrent_attempts_each_get_their_own_count(counter: AttemptCounter) -> None:
    counts = await asyncio.gather(*(counter.count_attempts(["a", "b"], 7) for _ in range(50)))
    assert sorted(c[0] for c in counts) == list(range(1, 51))
    assert sorted(c[1] for c in counts) == list(range(1, 51))
    assert await counter.count_attempts(["a"], 8) == [1]  # a new window starts at one


async def test_taking_back_never_goes_below_zero(counter: AttemptCounter) -> None:
    await counter.count_attempts(["k"], 3)
    await counter.take_back_attempt(["k", "never-counted"], 3)
    await counter.take_back_attempt(["k"], 3)
    assert await counter.count_attempts(["k", "never-counted"], 3) == [1, 1]


async def test_a_visit_is_kept_until_it_ends_or_expires(store: SessionStore) -> None:
    from sessionhub.core.contracts import GuardStore  # noqa: PLC0415

    assert isinstance(store, GuardStore)
    visit = DashboardVisit("h1", "viewer", "csrf-1", 1_000, 5_000)
    await store.add_visit(visit)
    assert await store.get_visit("h1", 4_999) == visit
    assert await store.get_visit("h1", 5_000) is None
    assert await store.get_visit("nope", 1_000) is None
    await store.end_visit("h1")
    await store.end_visit("h1")  # no-op
    assert await store.get_visit("h1", 2_000) is None
