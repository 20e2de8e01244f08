"""End to end against real ``sessionhub serve`` processes: crash safety and several workers."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from sessionhub.stores import store_for_url
from tests.dialects.adobe.payloads import event, start
from tests.server import running_server

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer e2e-token"}


async def test_kill_9_loses_no_acknowledged_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    acknowledged: list[str] = []
    enough = asyncio.Event()
    with running_server(url) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:

            async def keep_starting() -> None:
                while True:
                    try:
                        response = await client.post("/api/v1/sessions", json=start())
                    except httpx.HTTPError:
                        return  # the server is gone
                    if response.status_code == 201:
                        acknowledged.append(response.headers["location"].rsplit("/", 1)[1])
                        if len(acknowledged) >= 300:
                            enough.set()

            workers = [asyncio.create_task(keep_starting()) for _ in range(32)]
            await asyncio.wait_for(enough.wait(), timeout=60)
            os.killpg(server.process.pid, signal.SIGKILL)
            await asyncio.gather(*workers)

    store = store_for_url(url)
    await store.open()
    try:
        for session_id in acknowledged:
            assert await store.get_session(session_id) is not None, session_id
    finally:
        await store.close()
    assert len(acknowledged) >= 300


async def test_two_workers_share_one_database_and_one_timeline(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    with running_server(url, workers=2) as server:
        # Fresh connections per request, so requests spread over both worker processes.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.url, timeout=20, limits=limits) as client:
            response = await client.post("/api/v1/sessions", json=start(**{"media.length": 10_000}))
            sid = response.headers["location"].rsplit("/", 1)[1]
            await client.post(f"/api/v1/sessions/{sid}/events", json=event("play", 1_000, 0))

            pings = [
                client.post(
                    f"/api/v1/sessions/{sid}/events", json=event("ping", 1_000 + i * 10, i / 100)
                )
                for i in range(1, 201)
            ]
            statuses = [r.status_code for r in await asyncio.gather(*pings)]
            assert statuses == [204] * 200
            await client.post(f"/api/v1/sessions/{sid}/events", json=event("sessionEnd", 3_001, 2))

            detail = (await client.get(f"/admin/api/sessions/{sid}", headers=ADMIN)).json()

    assert [e["event_type"] for e in detail["events"]].count("ping") == 200
    assert detail["state"] == "ended"
    # play at 1.000 s, end at 3.001 s: 2.001 s of playing whatever order the pings landed in
    assert detail["qoe"]["playing_time_s"] == 2.001
