"""Shared fixtures: a manual clock, a real store per backend, the real ASGI app and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from sessionhub.core.contracts import SessionStore
from sessionhub.settings import Settings
from sessionhub.stores import store_for_url

ADMIN_TOKEN = "test-admin-token"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One URL per backend under test; every storage test runs once for each."""
    return f"sqlite:///{tmp_path / 'sessionhub.db'}"


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SessionStore]:
    backend = store_for_url(store_url)
    await backend.open()
    yield backend
    await backend.close()


@pytest.fixture
def settings(store_url: str) -> Settings:
    return Settings.from_env({}, database_url=store_url, admin_token=ADMIN_TOKEN)


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[SessionHub]:
    hub = SessionHub(settings, clock=clock)
    await hub.startup(sweep=False)
    yield hub
    await hub.shutdown()


@pytest.fixture
async def client(app: SessionHub) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sessionhub.test") as c:
        yield c


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
