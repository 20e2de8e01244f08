"""/metrics through the real ASGI app, on every configuration: what each figure counts.

Counters are per process and this test process runs many apps, so each test compares a scrape
before and after what it does.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from sessionhub.settings import Settings
from tests.dialects.adobe.payloads import event, start
from tests.dialects.nagra.tenant import Tenant
from tests.observe.metrics_reader import Samples, scrape, value

VIEWER_TOKEN = "viewer-token-for-tests"


def delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_metrics_need_an_operator_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401


async def test_the_viewer_token_reads_metrics_and_nothing_changes_with_it(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {},
        database_url=f"sqlite:///{tmp_path / 'viewer.db'}",
        admin_token="admin-token-for-tests",
        viewer_token=VIEWER_TOKEN,
    )
    hub = SessionHub(settings)
    await hub.startup(sweep=False)
    try:
        transport = httpx.ASGITransport(app=hub)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            viewer = {"Authorization": f"Bearer {VIEWER_TOKEN}"}
            samples = await scrape(client, viewer)
            assert value(samples, "sessionhub_sessions_active", api="adobe") == 0
            # the JSON admin API (which can end sessions) stays the admin token's alone
            refused = await client.delete("/admin/api/sessions/any", headers=viewer)
            assert refused.status_code == 401
    finally:
        await hub.shutdown()


async def test_a_session_life_is_counted(
    app: SessionHub,
    client: httpx.AsyncClient,
    clock: ManualClock,
    admin_headers: dict[str, str],
) -> None:
    before = await scrape(client, admin_headers)
    tenant = await Tenant(app, client).create(limit=1)
    await tenant.start("dev-1")
    # SRM answers refusals with 200 and an errorResponse
    assert (await tenant.setup("dev-2")).json()["errorResponse"]["errorCode"] == "SRM-0006"
    other = {"content": {"contentID": "OTHER", "contentType": "COD"}}
    refused = await tenant.setup("dev-3", other)
    assert refused.json()["errorResponse"]["errorCode"] == "SRM-0007"  # not entitled

    started = await client.post("/api/v1/sessions", json=start(ts=1_000))
    adobe = started.headers["location"]
    await client.post(f"{adobe}/events", json=event("bufferStart", 1_200))
    await client.post(f"{adobe}/events", json=event("play", 2_500))
    await client.post(f"{adobe}/events", json=event("sessionEnd", 12_500, 10))
    during = await scrape(client, admin_headers)

    assert value(during, "sessionhub_sessions_active", api="nagra") == 1
    assert value(during, "sessionhub_sessions_active", api="adobe") == 0
    assert delta(during, before, "sessionhub_session_starts_total", api="nagra") == 1
    assert delta(during, before, "sessionhub_session_starts_total", api="adobe") == 1
    assert delta(during, before, "sessionhub_session_ends_total", api="adobe", reason="ended") == 1
    for outcome in ("granted", "denied_limit", "denied_not_entitled"):
        assert delta(during, before, "sessionhub_admissions_total", outcome=outcome) == 1
    tts = "sessionhub_qoe_time_to_start_seconds"
    assert delta(during, before, f"{tts}_count") == 1
    assert delta(during, before, f"{tts}_sum") == pytest.approx(1.5)
    rebuffer = "sessionhub_qoe_rebuffer_ratio"
    assert delta(during, before, f"{rebuffer}_count") == 1
    assert delta(during, before, f"{rebuffer}_sum") == pytest.approx(1.3 / 11.3)
    setup_route = {"dialect": "nagra", "route": "/srm/sessions", "method": "POST"}
    assert delta(during, before, "sessionhub_http_requests_total", status="200", **setup_route) == 3
    events_route = {"dialect": "adobe", "route": "/api/v1/sessions/{sid}/events", "method": "POST"}
    assert (
        delta(during, before, "sessionhub_http_request_duration_seconds_count", **events_route) == 3
    )

    clock.advance(seconds=31)  # the SRM lease lapses; the sweep writes it down
    await app.sessions.expire_lapsed()
    after = await scrape(client, admin_headers)
    assert value(after, "sessionhub_sessions_active", api="nagra") == 0
    assert delta(after, during, "sessionhub_session_ends_total", api="nagra", reason="expired") == 1
    assert delta(after, during, "sessionhub_lease_expiry_lateness_seconds_count") == 1


async def test_store_commits_and_play_logs_are_counted(
    app: SessionHub, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    before = await scrape(client, admin_headers)
    await client.post("/api/v1/sessions", json=start())
    after = await scrape(client, admin_headers)
    store = "sqlite" if app.settings.database_url.startswith("sqlite") else "postgresql"
    assert delta(after, before, "sessionhub_store_batch_size_count", store=store) >= 1
    assert delta(after, before, "sessionhub_store_commit_duration_seconds_count", store=store) >= 1
