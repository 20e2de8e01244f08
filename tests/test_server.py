"""End to end against real ``sessionhub serve`` processes: crash safety and several workers."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import SystemClock
from sessionhub.stores import store_for_url
from tests.dialects.adobe.payloads import event, start
from tests.server import Server, running_server

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer e2e-admin-token-1234"}


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


def test_sqlite_serves_from_one_process_whatever_workers_asks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    with running_server(url, workers=2) as server:
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        assert children.read_text().split() == []  # no worker processes: it serves itself
        assert httpx.get(f"{server.url}/healthz").status_code == 200


async def test_two_processes_share_one_database_and_one_timeline(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    with running_server(url) as first, running_server(url) as second:
        async with httpx.AsyncClient(timeout=20) as client:
            response = await client.post(
                f"{first.url}/api/v1/sessions", json=start(**{"media.length": 10_000})
            )
            sid = response.headers["location"].rsplit("/", 1)[1]
            events = f"/api/v1/sessions/{sid}/events"
            await client.post(f"{second.url}{events}", json=event("play", 1_000, 0))

            pings = [  # alternately to each process
                client.post(
                    f"{(first, second)[i % 2].url}{events}",
                    json=event("ping", 1_000 + i * 10, i / 100),
                )
                for i in range(1, 201)
            ]
            statuses = [r.status_code for r in await asyncio.gather(*pings)]
            assert statuses == [204] * 200
            await client.post(f"{first.url}{events}", json=event("sessionEnd", 3_001, 2))

            detail = (
                await client.get(f"{second.url}/admin/api/sessions/{sid}", headers=ADMIN)
            ).json()

    assert [e["event_type"] for e in detail["events"]].count("ping") == 200
    assert detail["state"] == "ended"
    # play at 1.000 s, end at 3.001 s: 2.001 s of playing whatever order the pings landed in
    assert detail["qoe"]["playing_time_s"] == 2.001


async def _tenant_with_devices(url: str, devices: int, policy: str) -> list[str]:
    """An account with limit 3 and ``devices`` devices; returns one Client-Token per device."""
    store = store_for_url(url)
    await store.open()
    try:
        accounts = AccountService(store, SystemClock())
        await accounts.add_account("RACE", max_sessions=3, policy=policy)  # type: ignore[arg-type]
        await accounts.add_content("100001V3D", "COD")
        await accounts.entitle("RACE", "100001V3D")
        await asyncio.gather(*(accounts.add_device("RACE", f"d{i}") for i in range(devices)))
        issued = await asyncio.gather(
            *(accounts.issue_token("RACE", f"d{i}") for i in range(devices))
        )
        return [token.token for token in issued]
    finally:
        await store.close()


async def _setup_storm(
    client: httpx.AsyncClient, tokens: list[str], servers: tuple[Server, Server]
) -> list[dict[str, Any]]:
    """Every device sets up at once, alternately on each server process."""
    body = {"content": {"contentID": "100001V3D", "contentType": "COD"}}
    responses = await asyncio.gather(
        *(
            client.post(
                f"{servers[i % 2].url}/srm/sessions", json=body, headers={"Client-Token": t}
            )
            for i, t in enumerate(tokens)
        )
    )
    assert {r.status_code for r in responses} == {200}
    return [r.json() for r in responses]


async def test_admission_is_exact_under_a_storm_across_two_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'storm.db'}"
    tokens = await _tenant_with_devices(url, 240, "deny")
    with running_server(url) as first, running_server(url) as server:
        limits = httpx.Limits(max_keepalive_connections=0, max_connections=300)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
            for _ in range(4):
                answers = await _setup_storm(client, tokens, (first, server))
                admitted = [a["successResponse"] for a in answers if "successResponse" in a]
                denied = [a["errorResponse"] for a in answers if "errorResponse" in a]
                assert len(admitted) == 3
                assert {d["errorCode"] for d in denied} == {"SRM-0006"}
                assert all(len(d["conflictingSessions"]) == 3 for d in denied)
                listed = await client.get("/admin/api/accounts/RACE/sessions", headers=ADMIN)
                assert len(listed.json()["sessions"]) == 3
                for won in admitted:  # free the slots for the next round
                    response = await client.delete(
                        f"/admin/api/sessions/{won['sessionId']}", headers=ADMIN
                    )
                    assert response.json() == {"ended": True}


async def test_evict_oldest_under_a_storm_keeps_exactly_the_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'evict.db'}"
    tokens = await _tenant_with_devices(url, 200, "evict-oldest")
    with running_server(url) as first, running_server(url) as server:
        limits = httpx.Limits(max_keepalive_connections=0, max_connections=300)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
            answers = await _setup_storm(client, tokens, (first, server))
            assert all("successResponse" in a for a in answers)
            listed = await client.get("/admin/api/accounts/RACE/sessions", headers=ADMIN)
            assert len(listed.json()["sessions"]) == 3
            ended = await client.get(
                "/admin/api/sessions?api=nagra&state=ended&limit=1000", headers=ADMIN
            )
            reasons = {s["end_reason"] for s in ended.json()["sessions"]}
            assert len(ended.json()["sessions"]) == 197 and reasons == {"evicted"}
