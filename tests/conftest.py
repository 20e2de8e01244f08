"""Shared fixtures: a manual clock, a real store per backend, the real ASGI app and a client."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio
import redis.exceptions

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from sessionhub.core.contracts import SessionStore
from sessionhub.settings import Settings
from sessionhub.stores import mask_url, store_for_url

ADMIN_TOKEN = "test-admin-token"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


# Test-only settings are not SESSIONHUB_ variables: the server refuses any of its prefix that is
# not one of its settings, and the CLI and server processes under test inherit the environment.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
HOW_TO_RUN = "start PostgreSQL on 127.0.0.1:5432 (see .ci/run) or point TEST_POSTGRES_URL at one"


def _reachable(url: str) -> str | None:
    """None if the server answers, else why not."""

    async def probe() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return str(error)
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL under test. In CI an unreachable server fails the run, never skips it."""
    problem = _reachable(POSTGRES_URL)
    if problem is not None:
        message = f"PostgreSQL at {mask_url(POSTGRES_URL)} is unreachable ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"{message}: {HOW_TO_RUN}")
    return POSTGRES_URL


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis under test. In CI an unreachable server fails the run, never skips it."""

    async def probe() -> None:
        client = redis.asyncio.from_url(REDIS_URL, socket_connect_timeout=5)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(probe())
    except (OSError, redis.exceptions.RedisError) as error:
        message = f"Redis at {mask_url(REDIS_URL)} is unreachable ({error})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"{message}: start it (see .ci/run) or set TEST_REDIS_URL")
    return REDIS_URL


async def forget_prefix(url: str) -> None:
    """Delete every key under the ``?prefix=`` of a Redis URL (a test's own keys)."""
    server, _, prefix = url.partition("?prefix=")
    client = redis.asyncio.from_url(server)
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def database_url_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file, or a PostgreSQL schema of the test's own dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'sessionhub.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{server}?schema={schema}"

    async def drop() -> None:
        conn = await asyncpg.connect(server)
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()

    asyncio.run(drop())


def redis_url_for(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test Redis with a key prefix of the test's own, whose keys go afterwards."""
    url = f"{request.getfixturevalue('redis_server')}?prefix=t-{uuid.uuid4().hex[:10]}:"
    yield url
    asyncio.run(forget_prefix(url))


@pytest.fixture
def postgres_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The test PostgreSQL, in a schema of the test's own."""
    yield from database_url_for("postgresql", request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One URL per database under test; every storage test runs once for each."""
    yield from database_url_for(request.param, request, tmp_path)


# Every HTTP test runs against each configuration a deployment can have: the embedded default,
# PostgreSQL alone, and PostgreSQL with Redis keeping the hot state.
CONFIGURATIONS = ["sqlite", "postgresql", "postgresql+redis"]


@pytest.fixture(params=CONFIGURATIONS)
def configuration(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    database, _, hot = request.param.partition("+")
    urls = {"database_url": next(databases := database_url_for(database, request, tmp_path))}
    redis_urls = redis_url_for(request) if hot else iter(())
    if hot:
        urls["redis_url"] = next(redis_urls)
    yield urls
    for rest in (databases, redis_urls):
        next(rest, None)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SessionStore]:
    backend = store_for_url(store_url)
    await backend.open()
    yield backend
    await backend.close()


@pytest.fixture
def settings(configuration: dict[str, str]) -> Settings:
    return Settings.from_env({}, admin_token=ADMIN_TOKEN, **configuration)


async def started_hub(settings: Settings, clock: ManualClock) -> AsyncIterator[SessionHub]:
    hub = SessionHub(settings, clock=clock)
    await hub.startup(sweep=False)
    yield hub
    await hub.shutdown()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[SessionHub]:
    async for hub in started_hub(settings, clock):
        yield hub


@pytest.fixture
async def second_instance(settings: Settings, clock: ManualClock) -> AsyncIterator[SessionHub]:
    """Another app on the same database (and Redis): a second worker or instance."""
    async for hub in started_hub(settings, clock):
        yield hub


@pytest.fixture
async def client(app: SessionHub) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sessionhub.test") as c:
        yield c


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What the generated-input runs covered, for the record (tests/fuzzing.py)."""
    from tests.fuzzing import SUMMARY  # noqa: PLC0415

    for line in SUMMARY:
        terminalreporter.write_line(line)
