"""Operator API: token guard, listing and filters, one session with its timeline."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.settings import Settings
from tests.dialects.adobe.payloads import start


async def test_token_is_required(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        response = await client.get("/admin/api/sessions", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["status"] == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("configured", [{}, {"SESSIONHUB_ADMIN_TOKEN": ""}])
async def test_without_a_configured_token_the_admin_api_is_off(
    tmp_path: Path, configured: dict[str, str]
) -> None:
    settings = Settings.from_env(configured, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    hub = SessionHub(settings)
    await hub.startup(sweep=False)
    try:
        transport = httpx.ASGITransport(app=hub)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for bearer in ("Bearer ", "Bearer", "bearer  "):
                response = await client.get(
                    "/admin/api/sessions", headers={"Authorization": bearer}
                )
                assert response.status_code == 403
                assert "SESSIONHUB_ADMIN_TOKEN" in response.json()["error"]["message"]
    finally:
        await hub.shutdown()


async def test_list_filters_and_pages(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    ids = []
    for _ in range(3):
        response = await client.post("/api/v1/sessions", json=start())
        ids.append(response.headers["location"].rsplit("/", 1)[1])
    end = {"playerTime": {"playhead": 0, "ts": 5}, "eventType": "sessionEnd"}
    await client.post(f"/api/v1/sessions/{ids[0]}/events", json=end)

    async def listed(query: str) -> list[str]:
        response = await client.get(f"/admin/api/sessions?{query}", headers=admin_headers)
        assert response.status_code == 200
        return [s["id"] for s in response.json()["sessions"]]

    assert set(await listed("api=adobe")) == set(ids)
    assert await listed("api=nagra") == []
    assert await listed("state=ended") == [ids[0]]
    assert set(await listed("state=active")) == set(ids[1:])
    first = (await client.get("/admin/api/sessions?limit=2", headers=admin_headers)).json()
    assert len(first["sessions"]) == 2 and first["next_before"] == first["sessions"][1]["id"]
    rest = await listed(f"limit=2&before={first['next_before']}")
    assert len(rest) == 1 and rest[0] not in [s["id"] for s in first["sessions"]]


async def test_bad_queries_are_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for query in ("state=sleeping", "limit=0", "limit=abc", "limit=5000"):
        response = await client.get(f"/admin/api/sessions?{query}", headers=admin_headers)
        assert response.status_code == 400, query
        assert response.json()["error"]["message"]


async def test_show_has_session_fields_timeline_and_qoe(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post("/api/v1/sessions", json=start())
    sid = response.headers["location"].rsplit("/", 1)[1]

    body = (await client.get(f"/admin/api/sessions/{sid}", headers=admin_headers)).json()

    assert body["id"] == sid and body["api"] == "adobe" and body["state"] == "active"
    assert body["params"]["media.id"] == "MA API Sample Player"
    assert body["custom_metadata"] == {"myCustomData": "value-1", "myCustomData2": "value-2"}
    assert body["events"][0]["event_type"] == "sessionStart"
    assert body["events"][0]["body"]["params"]["media.name"] == "ClickMe"
    assert body["qoe"]["playing_time_s"] == 0.0
    missing = await client.get("/admin/api/sessions/nope", headers=admin_headers)
    assert missing.status_code == 404 and "nope" in missing.json()["error"]["message"]


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    assert (await client.get("/nowhere")).status_code == 404
