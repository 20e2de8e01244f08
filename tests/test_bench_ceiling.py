"""bench/ceiling.py measures sessionhub's request path with its services answering at once; its
ratio bounds every scenario's. If a route stopped reaching its service the way the ceiling
replaces it, the ceiling would quietly measure something else: these requests would then reach
the store, find nothing, and fail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from bench.ceiling import SESSION_ID, answering_at_once

from sessionhub.app import SessionHub
from sessionhub.settings import Settings
from tests.dialects.adobe.payloads import start


@pytest.fixture
async def ceiling(tmp_path: Path) -> AsyncIterator[tuple[SessionHub, httpx.AsyncClient]]:
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'ceiling.db'}")
    app = answering_at_once(SessionHub(settings))
    await app.startup(sweep=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sessionhub.test") as client:
        yield app, client
    await app.shutdown()


async def test_every_scenario_is_answered_without_the_store(
    ceiling: tuple[SessionHub, httpx.AsyncClient],
) -> None:
    app, client = ceiling
    started = await client.post("/api/v1/sessions", json=start())
    assert started.status_code == 201
    assert started.headers["location"] == f"/api/v1/sessions/{SESSION_ID}"
    ping = {"playerTime": {"playhead": 1, "ts": 1_700_000_000_000}, "eventType": "ping"}
    pinged = await client.post(f"/api/v1/sessions/{SESSION_ID}/events", json=ping)
    assert pinged.status_code == 204
    token = {"Client-Token": "no-such-token"}
    body = {"content": {"contentID": "100001V3D", "contentType": "COD"}}
    setup = await client.post("/srm/sessions", json=body, headers=token)
    assert setup.status_code == 200
    assert setup.json() == {"successResponse": {"sessionId": SESSION_ID, "timeout": 30}}
    assert (await client.put(f"/srm/sessions/{SESSION_ID}", headers=token)).status_code == 200
    # nothing reached the store, and the request path itself still judges input
    assert await app.store.list_sessions() == []
    bad = await client.post(f"/api/v1/sessions/{SESSION_ID}/events", content=b"{")
    assert bad.status_code == 400
