"""Engagement sessions (Genesys, Nuance) end after SESSIONHUB_ENGAGEMENT_IDLE_TIMEOUT_S without a
write, so the count of live sessions falls as well as rises (issue 20 item 7, issue 22 item 5).
A write renews the lease, a read does not; 0 turns the idle end off. On every configuration."""

from __future__ import annotations

import httpx

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from tests.dialects.nuance.test_routes import collect
from tests.streaming.hubs import hub_with

IDLE_S = 1800  # the default


async def live_engagement(app: SessionHub) -> int:
    counts = await app.store.count_active(app.clock.now_ms())
    return counts.get("genesys", 0) + counts.get("nuance", 0)


async def test_a_genesys_session_nobody_writes_to_ends_and_is_gone(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    created = await client.put("/sessions/new", headers={"gkc_customerId": "CRM-1"})
    sid = created.json()["sessionId"]
    assert await live_engagement(app) == 1
    clock.advance(seconds=IDLE_S - 1)
    assert (await client.post(f"/sessions/{sid}", json={"visitId": "v-1"})).status_code == 200
    clock.advance(seconds=IDLE_S - 1)  # renewed by the POST: still live
    assert (await client.get(f"/sessions/{sid}")).status_code == 200
    clock.advance(seconds=2)  # the GET renewed nothing
    gone = await client.get(f"/sessions/{sid}")
    assert (gone.status_code, gone.json()) == (
        404,
        {"code": 404, "description": "Session not found"},
    )
    assert await live_engagement(app) == 0  # counted out before any sweep
    assert await app.sessions.expire_lapsed() == 1
    view = await app.sessions.get(f"genesys:{sid}")
    assert (view.state, view.end_reason) == ("ended", "idle-timeout")
    assert view.ended_at == view.started_at + (2 * IDLE_S - 1) * 1000
    # the id is not made again by a late POST
    late = await client.post(f"/sessions/{sid}", json={"visitId": "v-2"})
    assert late.status_code == 404


async def test_a_post_after_the_idle_end_writes_the_end_down_without_a_sweep(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    sid = (await client.put("/sessions/new")).json()["sessionId"]
    clock.advance(seconds=IDLE_S + 5)
    assert (await client.post(f"/sessions/{sid}", json={"visitId": "v"})).status_code == 404
    view = await app.sessions.get(f"genesys:{sid}")
    assert (view.state, view.end_reason) == ("ended", "idle-timeout")
    assert view.ended_at == view.started_at + IDLE_S * 1000
    assert "visitId" not in view.params
    assert await app.sessions.expire_lapsed() == 0


async def test_a_nuance_session_ends_idle_and_keeps_taking_calls(
    app: SessionHub,
    client: httpx.AsyncClient,
    clock: ManualClock,
    admin_headers: dict[str, str],
) -> None:
    from tests.dialects.nuance.test_routes import get_token  # noqa: PLC0415

    await app.clients.add_client("app-306", "s3cret-306", 306)
    bearer = {"Authorization": f"Bearer {await get_token(client)}"}
    body = {"siteID": 306, "sessionID": "s-1", "tcCustomerID": "c-1"}
    assert (await collect(client, bearer, body)).status_code == 200
    clock.advance(seconds=IDLE_S - 10)
    assert (
        await collect(client, bearer, {**body, "eventName": "e"}, "customEvent")
    ).status_code == 200
    clock.advance(seconds=IDLE_S - 10)
    assert await live_engagement(app) == 1
    clock.advance(seconds=20)
    assert await live_engagement(app) == 0
    assert await app.sessions.expire_lapsed() == 1
    bearer = {"Authorization": f"Bearer {await get_token(client)}"}  # the first one expired
    late = await collect(client, bearer, {**body, "eventName": "late"}, "customEvent")
    assert late.status_code == 200
    view = await app.sessions.get("nuance:306:s-1")
    assert (view.state, view.end_reason) == ("ended", "idle-timeout")
    assert [e.event_type for e in view.events][-1] == "customEvent"
    assert len(view.events) == 3  # the late call is on the timeline


async def test_an_idle_timeout_of_zero_keeps_engagement_sessions_until_ended(
    configuration: dict[str, str], clock: ManualClock
) -> None:
    async with hub_with(clock, engagement_idle_timeout_s=0, **configuration) as (app, client):
        sid = (await client.put("/sessions/new")).json()["sessionId"]
        clock.advance(minutes=60 * 24 * 30)
        assert (await client.get(f"/sessions/{sid}")).status_code == 200
        assert await app.sessions.expire_lapsed() == 0
        assert await live_engagement(app) == 1
