"""The RequestGate contract (nonces, rate buckets) against SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from sessionhub.core.consumers import Bucket, take
from sessionhub.core.contracts import RequestGate, Store
from sessionhub.stores import store_for_url
from sessionhub.stores.redis import RedisClient, RedisRequestGate
from tests.conftest import forget_prefix


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def gate_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Resolved here, outside any event loop: the server fixtures probe with asyncio.run."""
    if request.param == "redis":
        return f"{request.getfixturevalue('redis_server')}?prefix=test-{uuid.uuid4().hex[:10]}:"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gate.db'}"
    return f"{request.getfixturevalue('postgres_server')}?schema=g_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def gate(gate_url: str) -> AsyncIterator[RequestGate]:
    if gate_url.startswith("redis"):
        client = RedisClient(gate_url)
        await client.open()
        yield RedisRequestGate(client)
        await client.close()
        await forget_prefix(gate_url)
        return
    store: Store = store_for_url(gate_url)
    await store.open()
    yield store
    await store.close()
    if gate_url.startswith("postgresql"):
        server, _, query = gate_url.partition("?schema=")
        conn = await asyncpg.connect(server)
        await conn.execute(f"DROP SCHEMA IF EXISTS {query} CASCADE")
        await conn.close()


async def test_exactly_the_rate_under_concurrency_and_nonces_once(gate: RequestGate) -> None:
    checks = await asyncio.gather(
        *(gate.check_request("key", f"n{i}", "1", 1_000, 0, 5) for i in range(20))
    )
    assert sum(1 for c in checks if c.rate is not None and c.rate.allowed) == 5
    denied = next(c.rate for c in checks if c.rate is not None and not c.rate.allowed)
    assert (denied.remaining, denied.retry_after_s, denied.limit) == (0, 1, 5)

    replay = await gate.check_request("key", "n0", "1", 1_000, 0, 5)
    assert replay.replayed and replay.rate is None
    assert not (await gate.check_request("key", "n0", "2", 1_000, 0, 5)).replayed
    other_key = await gate.check_request("other", "n0", "1", 1_000, 0, 5)
    assert other_key.rate is not None and other_key.rate.remaining == 4


async def test_the_bucket_refills_with_time(gate: RequestGate) -> None:
    for i in range(5):
        await gate.check_request("key", f"a{i}", "1", 10_000, 0, 5)
    assert not (await gate.check_request("key", "b", "1", 10_000, 0, 5)).rate.allowed  # type: ignore[union-attr]
    later = await gate.check_request("key", "c", "1", 10_400, 0, 5)  # 0.4 s: 2 refilled
    assert later.rate is not None and later.rate.allowed and later.rate.remaining == 1


async def test_every_backend_decides_exactly_like_the_core_rule(gate: RequestGate) -> None:
    rng = random.Random(3)
    now, bucket = 1_000_000, None
    for i in range(300):
        now += rng.choice([0, 0, 1, 7, 50, 199, 200, 333, 1000])
        bucket, expected = take(bucket, now, 5)
        check = await gate.check_request("key", f"n{i}", str(now), now, 0, 5)
        assert check.rate == expected, i
    assert isinstance(bucket, Bucket)


async def test_a_request_stamped_before_the_last_one_neither_drains_nor_rewinds(
    gate: RequestGate,
) -> None:
    """Instances stamp requests with their own clock; they reach the bucket out of order."""
    first = await gate.check_request("key", "a", "1", 10_000, 0, 5)
    earlier = await gate.check_request("key", "b", "1", 9_000, 0, 5)
    again = await gate.check_request("key", "c", "1", 10_000, 0, 5)
    assert [c.rate.remaining for c in (first, earlier, again) if c.rate] == [4, 3, 2]
