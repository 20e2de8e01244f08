"""The dashboard through the real ASGI app on every configuration: the cookie, CSRF, roles, the
live feed, the static files (and that the shipped uPlot is the npm registry's own)."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.records import PlayLog
from sessionhub.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.dialects.adobe.payloads import start
from tests.server import running_server

VIEWER_TOKEN = "dashboard-viewer-token"
STREAMING_KEY = "dashboard-streaming-key-0123"
VENDOR = Path(__file__).resolve().parents[2] / "src/sessionhub/dashboard/static/vendor"
NPM = Path(__file__).resolve().parents[1] / "conformance/node/node_modules/uplot/dist"


@pytest.fixture
def settings(configuration: dict[str, str]) -> Settings:
    return Settings.from_env(
        {},
        admin_token=ADMIN_TOKEN,
        viewer_token=VIEWER_TOKEN,
        streaming_icecast=True,
        streaming_key=STREAMING_KEY,
        **configuration,
    )


async def log_in(client: httpx.AsyncClient, token: str) -> str:
    """Logs the client in; returns the CSRF token of the visit (from the logout form)."""
    response = await client.post("/admin/login", data={"token": token})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/overview"
    page = await client.get("/admin/overview")
    marker = 'name="csrf" value="'
    return page.text.split(marker, 1)[1].split('"', 1)[0]


@pytest.fixture
async def browser(app: SessionHub) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sessionhub.test") as c:
        yield c


async def test_the_cookie_is_signed_httponly_strict_and_expires(
    browser: httpx.AsyncClient,
) -> None:
    assert (await browser.get("/admin/overview")).headers["location"] == "/admin"
    response = await browser.post("/admin/login", data={"token": ADMIN_TOKEN})
    cookie = response.headers["set-cookie"]
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=43200"):
        assert flag in cookie
    assert ADMIN_TOKEN not in cookie
    browser.cookies.set("sessionhub_dashboard", "tampered." + cookie.split("=", 1)[1][:20])
    assert (await browser.get("/admin/overview")).status_code == 303


async def test_a_wrong_token_gets_the_form_again_then_is_throttled(
    browser: httpx.AsyncClient,
) -> None:
    for _ in range(10):
        wrong = await browser.post("/admin/login", data={"token": "guess"})
        assert wrong.status_code == 200 and "That token is not right." in wrong.text
    throttled = await browser.post("/admin/login", data={"token": ADMIN_TOKEN})
    assert throttled.status_code == 429 and "retry-after" in throttled.headers


async def test_ending_a_session_needs_the_admin_and_the_csrf_token(
    app: SessionHub, browser: httpx.AsyncClient
) -> None:
    started = await browser.post("/api/v1/sessions", json=start())
    sid = started.headers["location"].rsplit("/", 1)[1]
    viewer_csrf = await log_in(browser, VIEWER_TOKEN)
    refused = await browser.post(f"/admin/sessions/{sid}/end", data={"csrf": viewer_csrf})
    assert refused.status_code == 403
    csrf = await log_in(browser, ADMIN_TOKEN)
    forged = await browser.post(f"/admin/sessions/{sid}/end", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert (await app.sessions.get(sid)).state == "active"
    ended = await browser.post(f"/admin/sessions/{sid}/end", data={"csrf": csrf, "back": "//x"})
    assert (ended.status_code, ended.headers["location"]) == (303, "/admin/sessions")
    assert (await app.sessions.get(sid)).state == "ended"


def test_the_live_feed_sends_the_overview_as_events(tmp_path: Path) -> None:
    """Over a real server (httpx's ASGI transport reads a whole body before answering); the
    feed ends when its reader goes (the access-log line is written when the response ends)."""
    log_path = tmp_path / "access.log"
    with (
        log_path.open("wb") as log,
        running_server(f"sqlite:///{tmp_path / 'live.db'}", stdout=log) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        client.post("/api/v1/sessions", json=start())
        client.post("/admin/login", data={"token": "e2e-admin-token-1234"})
        with client.stream("GET", "/admin/live") as feed:
            assert feed.headers["content-type"] == "text/event-stream"
            lines = feed.iter_lines()
            while not (line := next(lines)).startswith("data: "):
                pass
            overview = msgspec.json.decode(line.removeprefix("data: "))
            assert overview["active"]["adobe"] == 1
            assert len(overview["minutes"]) == 60
            while not (line := next(lines)).startswith("data: "):  # and again, by itself
                pass
        deadline = time.monotonic() + 10
        while "GET /admin/live 200" not in log_path.read_text():
            assert time.monotonic() < deadline, "the feed went on after its reader left"
            time.sleep(0.1)


async def test_static_files_are_cache_busted_and_uplot_is_npms_own(
    browser: httpx.AsyncClient,
) -> None:
    await log_in(browser, ADMIN_TOKEN)
    page = (await browser.get("/admin/overview")).text
    src = page.split('<script src="', 1)[1].split('"', 1)[0]
    assert src.startswith("/admin/static/vendor/uPlot.iife.min.js?v=")
    response = await browser.get(src)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    shipped = (VENDOR / "uPlot.iife.min.js").read_bytes()
    assert response.content == shipped
    if NPM.exists():  # after `npm ci` in tests/conformance/node (CI always runs it)
        for name in ("uPlot.iife.min.js", "uPlot.min.css"):
            npm = hashlib.sha256((NPM / name).read_bytes()).hexdigest()
            assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == npm


async def test_play_logs_by_territory_and_track_flag_unlicensed_territories(
    app: SessionHub, browser: httpx.AsyncClient
) -> None:
    await app.consumers.add("partner", "partner-secret", ["GB"])
    now = time.time_ns() // 1_000_000
    logs = [
        PlayLog(
            "partner",
            "subscription",
            "u1",
            country,
            track,
            now - 60_000 * n,
            30,
            "ua",
            "stream",
            None,
            None,
            None,
            None,
            now,
        )
        for n, (country, track) in enumerate([("GB", 7), ("GB", 8), ("US", 7)])
    ]
    await app.playlogs.record(logs)
    await log_in(browser, VIEWER_TOKEN)
    page = (await browser.get("/admin/playlogs")).text
    assert 'data-flagged="partner/US"' in page and 'data-flagged="partner/GB"' not in page
    territories = page.split('json" id="territory-data">', 1)[1].split("<", 1)[0]
    assert msgspec.json.decode(territories) == [["GB", 2], ["US", 1]]
    tracks = page.split('json" id="track-data">', 1)[1].split("<", 1)[0]
    assert msgspec.json.decode(tracks) == [["7", 2], ["8", 1]]
    csv_link = page.split('href="/admin/playlogs/report?', 1)[1].split('"', 1)[0]
    report = await browser.get("/admin/playlogs/report?" + csv_link.replace("&amp;", "&"))
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert report.text.splitlines()[0] == "track,country,plays,seconds"


async def test_a_listeners_session_page_says_which_icecast_serves_it(
    app: SessionHub, browser: httpx.AsyncClient
) -> None:
    await app.accounts.add_account("ACME", max_sessions=2, password="listen-pass")
    await app.accounts.add_content("radio", "LIVE")
    await app.accounts.entitle("ACME", "radio")
    form = {"action": "listener_add", "server": "radio-1", "port": "8000", "client": "17"}
    form |= {"mount": "/radio", "user": "ACME", "pass": "listen-pass", "ip": "192.0.2.1"}
    added = await browser.post(
        "/streaming/icecast/auth", data=form, auth=("icecast", STREAMING_KEY)
    )
    assert added.headers["icecast-auth-user"] == "1"
    [session] = await app.sessions.list(account_id="ACME")
    # a listener is a session of its own API (issue 22 item 5), not an SRM one
    assert (session.api, session.player) == ("icecast", "Icecast radio-1:8000 /radio")
    assert await app.sessions.list(api="nagra") == []
    assert (await app.store.count_active(app.clock.now_ms())).get("icecast") == 1
    await log_in(browser, ADMIN_TOKEN)
    page = await browser.get(f"/admin/sessions/{session.id}")
    assert "Icecast radio-1:8000, mount /radio, listener 17" in page.text
    overview = await browser.get("/admin/overview")
    assert 'data-active="icecast"' in overview.text
    accounts = await browser.get("/admin/accounts")
    assert "ACME" in accounts.text


async def test_the_visitor_search_offers_the_kinds_the_apis_write(
    app: SessionHub, browser: httpx.AsyncClient
) -> None:
    """Issue 22 item 2: the hint named ``adobe.visitor`` and ``genesys.visitor``."""
    from sessionhub.core.visitors import IDENTITY_KINDS  # noqa: PLC0415

    await log_in(browser, VIEWER_TOKEN)
    form = await browser.get("/admin/visitors")
    offered = re.findall(r'<option value="([^"]+)">', form.text)
    assert offered == list(IDENTITY_KINDS)
    assert "genesys.visitor" not in form.text
    typo = await browser.get("/admin/visitors", params={"kind": "adobe.visitor", "value": "v"})
    assert typo.status_code == 400
    assert "No identity kind adobe.visitor" in typo.text and "adobe.visitorId" in typo.text
