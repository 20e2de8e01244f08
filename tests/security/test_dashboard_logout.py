"""Logging out of the dashboard ends the visit server-side: a copy of the cookie (taken before
the logout, by anyone) opens nothing, ends nothing and keeps no live feed open, on any
instance (issue 20, item 6)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from sessionhub.app import SessionHub
from tests.conftest import ADMIN_TOKEN
from tests.dashboard.test_pages import log_in
from tests.dialects.adobe.payloads import start
from tests.server import running_server

COOKIE = "sessionhub_dashboard"


def browser_for(app: SessionHub) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://sessionhub.test")


async def test_a_copied_cookie_is_dead_after_logout_on_every_instance(
    app: SessionHub, client: httpx.AsyncClient, second_instance: SessionHub
) -> None:
    started = await client.post("/api/v1/sessions", json=start())
    sid = started.headers["location"].rsplit("/", 1)[1]
    csrf = await log_in(client, ADMIN_TOKEN)
    stolen = client.cookies[COOKIE]
    async with browser_for(second_instance) as elsewhere:
        elsewhere.cookies.set(COOKIE, stolen)
        assert (await elsewhere.get("/admin/sessions")).status_code == 200  # a live visit

        logged_out = await client.post("/admin/logout", data={"csrf": csrf})
        assert logged_out.status_code == 303
        for browser in (client, elsewhere):
            browser.cookies.set(COOKIE, stolen)
            page = await browser.get("/admin/sessions")
            assert (page.status_code, page.headers["location"]) == (303, "/admin")
            end = await browser.post(f"/admin/sessions/{sid}/end", data={"csrf": csrf})
            assert (end.status_code, end.headers["location"]) == (303, "/admin")
        assert (await app.sessions.get(sid)).state == "active"


async def test_logging_out_ends_only_that_visit(app: SessionHub) -> None:
    async with browser_for(app) as first, browser_for(app) as second:
        csrf = await log_in(first, ADMIN_TOKEN)
        await log_in(second, ADMIN_TOKEN)
        await first.post("/admin/logout", data={"csrf": csrf})
        assert (await first.get("/admin/overview")).status_code == 303
        assert (await second.get("/admin/overview")).status_code == 200


def test_a_live_feed_ends_when_its_visit_logs_out(tmp_path: Path) -> None:
    with (
        running_server(f"sqlite:///{tmp_path / 'feed.db'}") as server,
        httpx.Client(base_url=server.url, timeout=10) as viewer,
        httpx.Client(base_url=server.url, timeout=10) as owner,
    ):
        owner.post("/admin/login", data={"token": "e2e-admin-token-1234"})
        page = owner.get("/admin/overview").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        viewer.cookies.set(COOKIE, owner.cookies[COOKIE])
        with viewer.stream("GET", "/admin/live") as feed:
            lines = feed.iter_lines()
            while not next(lines).startswith("data: "):
                pass
            owner.post("/admin/logout", data={"csrf": csrf})
            deadline = time.monotonic() + 10
            for _ in lines:  # the stream closes by itself within a beat of the feed
                assert time.monotonic() < deadline, "the feed outlived its visit"
        assert time.monotonic() < deadline
