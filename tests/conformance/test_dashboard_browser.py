"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) against a real
``sessionhub serve``: log in, watch figures move without reloading, read a session's timeline,
end a stream and see the device refused, and find the viewer token unable to change anything.

Every page is kept as a screenshot under ``.artifacts/dashboard/``; any JavaScript error or
console error (a CSP violation included) fails the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import SystemClock
from sessionhub.stores import store_for_url
from tests.dialects.adobe.payloads import event, start
from tests.server import Server, running_server

ADMIN_TOKEN = "e2e-admin-token-1234"  # what running_server sets
VIEWER_TOKEN = "wall-screen-viewer-token"
SHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "dashboard"
VOD = {"content": {"contentID": "100001V3D", "contentType": "COD"}}


async def _household(url: str) -> dict[str, str]:
    """Account HOME, limit 2, three devices; returns each device's Client-Token."""
    store = store_for_url(url)
    await store.open()
    try:
        accounts = AccountService(store, SystemClock())
        await accounts.add_account("HOME", max_sessions=2)
        await accounts.add_content("100001V3D", "COD")
        await accounts.entitle("HOME", "100001V3D")
        tokens = {}
        for device in ("tv", "phone", "tablet"):
            await accounts.add_device("HOME", device)
            tokens[device] = (await accounts.issue_token("HOME", device)).token
        return tokens
    finally:
        await store.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'sessionhub.db'}"
    tokens = asyncio.run(_household(url))
    with running_server(url, SESSIONHUB_VIEWER_TOKEN=VIEWER_TOKEN) as server:
        yield server, tokens


def wait_text(page: Any, selector: str, wanted: Callable[[str], bool], timeout: float = 15) -> str:
    """Poll a node's text from Python (the page's CSP forbids the eval wait_for_function needs)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = page.text_content(selector) or ""
        if wanted(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{selector} never matched; last text: {text!r}")


def utc_clock(minutes_ago: int) -> str:
    """The time some minutes ago in UTC as uPlot's legend writes it: ``2026-12-05 4:41pm``."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    hour = at.hour % 12 or 12
    return f"{at:%Y-%m-%d} {hour}:{at:%M}{'am' if at.hour < 12 else 'pm'}"


class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    def __init__(self, browser: Any) -> None:
        # A browser far from UTC: every time the dashboard shows must still be UTC.
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, timezone_id="America/New_York"
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.navigations = 0
        self.page.on("framenavigated", self._navigated)

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.navigations += 1

    def log_in(self, base: str, token: str) -> None:
        self.page.goto(f"{base}/admin")
        self.page.fill("input[name=token]", token)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base}/admin/overview")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def test_an_operator_watches_ends_a_stream_and_reads_a_timeline(
    site: tuple[Server, dict[str, str]], browser: Any
) -> None:
    server, tokens = site
    base = server.url
    watched = Watched(browser)
    page = watched.page

    page.goto(f"{base}/admin")
    page.fill("input[name=token]", "not-the-token")
    page.click("button[type=submit]")
    assert page.text_content(".error") == "That token is not right."
    watched.shot("login-refused")

    watched.log_in(base, ADMIN_TOKEN)
    before = int(wait_text(page, '[data-active="all"]', lambda text: text != "-"))
    navigations = watched.navigations

    with httpx.Client(base_url=base, timeout=10) as client:
        setup = client.post("/srm/sessions", json=VOD, headers={"Client-Token": tokens["tv"]})
        srm_id = setup.json()["successResponse"]["sessionId"]
        started = client.post("/api/v1/sessions", json=start(ts=0))
        adobe = started.headers["location"]
        for body in (
            event("bufferStart", 500, 0),
            event("play", 2_000, 0),
            event("bitrateChange", 6_000, 4, qoeData={"media.qoe.bitrate": 3_000_000}),
            event("pauseStart", 12_000, 10),
            event("play", 15_000, 10),
            event("ping", 25_000, 20),
        ):
            assert client.post(f"{adobe}/events", json=body).status_code == 204

    wait_text(page, '[data-active="all"]', lambda text: int(text) >= before + 2)
    assert watched.navigations == navigations  # the figure moved by itself, no reload
    assert page.text_content('[data-active="nagra"]') == "1"
    assert page.locator('[data-chart="concurrent"] canvas').count() == 1
    # legends show the latest values, not uPlot's "--", and the time in UTC (issue 22 item 7)
    for chart in ("concurrent", "starts", "admissions", "playlogs"):
        legend = page.text_content(f'[data-chart="{chart}"] .u-legend') or ""
        assert "--" not in legend, (chart, legend)
    legend = page.text_content('[data-chart="concurrent"] .u-legend') or ""
    assert any(utc_clock(minutes_ago) in legend for minutes_ago in (0, 1, 2)), legend
    watched.shot("overview")

    adobe_id = adobe.rsplit("/", 1)[1]
    page.goto(f"{base}/admin/sessions/{adobe_id}")
    page.wait_for_selector('[data-chart="timeline"] canvas')
    legend = page.text_content('[data-chart="timeline"] .u-legend') or ""
    assert all(label in legend for label in ("playhead", "buffering", "paused", "bitrate change"))
    assert "2.00 s" in page.locator(".facts").nth(1).inner_text()  # QoE: time to start
    watched.shot("session-timeline")

    page.goto(f"{base}/admin/sessions?api=nagra&state=active")
    assert page.locator(f'a[href="/admin/sessions/{srm_id}"]').count() == 1
    watched.shot("sessions")

    page.goto(f"{base}/admin/accounts")
    watched.shot("accounts")
    page.goto(f"{base}/admin/accounts/HOME")
    assert page.text_content("[data-live-streams]") == "1"
    page.click(f'tr[data-session="{srm_id}"] button')
    page.wait_for_url(f"{base}/admin/accounts/HOME")
    assert page.text_content("[data-live-streams]") == "0"
    watched.shot("account-after-end")
    with httpx.Client(base_url=base, timeout=10) as client:
        refused = client.put(f"/srm/sessions/{srm_id}", headers={"Client-Token": tokens["tv"]})
    assert "errorResponse" in refused.json()  # the device's next keep-alive is refused

    page.goto(f"{base}/admin/visitors?kind=nagra.account&value=HOME")
    page.wait_for_selector('[data-chart="visitor"] canvas')
    # every lane's name fits its axis as this browser draws it ("uance" before)
    assert page.get_attribute('[data-chart="visitor"]', "data-labels-fit") == "true"
    watched.shot("visitor")
    page.goto(f"{base}/admin/playlogs")
    watched.shot("playlogs")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{base}/admin/overview")
    page.wait_for_selector('[data-chart="concurrent"] canvas')
    watched.shot("overview-phone")
    watched.close()
    assert watched.errors == []


def test_the_viewer_token_sees_but_cannot_end_and_forms_need_their_csrf(
    site: tuple[Server, dict[str, str]], browser: Any
) -> None:
    server, tokens = site
    base = server.url
    with httpx.Client(base_url=base, timeout=10) as client:
        setup = client.post("/srm/sessions", json=VOD, headers={"Client-Token": tokens["phone"]})
        sid = setup.json()["successResponse"]["sessionId"]

    viewer = Watched(browser)
    viewer.log_in(base, VIEWER_TOKEN)
    viewer.page.goto(f"{base}/admin/accounts/HOME")
    assert viewer.page.locator("button.danger").count() == 0  # no end buttons for a viewer
    viewer.shot("account-as-viewer")
    csrf = viewer.page.input_value("form.logout input[name=csrf]")
    forged = viewer.page.request.post(f"{base}/admin/sessions/{sid}/end", form={"csrf": csrf})
    assert forged.status == 403

    admin = Watched(browser)
    admin.log_in(base, ADMIN_TOKEN)
    stale = admin.page.request.post(f"{base}/admin/sessions/{sid}/end", form={"csrf": "stale"})
    assert stale.status == 403
    with httpx.Client(base_url=base, timeout=10) as client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        session = client.get(f"/admin/api/sessions/{sid}", headers=headers).json()
    assert session["state"] == "active"  # neither the viewer nor a forged form ended it

    viewer.close()
    admin.close()
    assert viewer.errors == [] and admin.errors == []


def test_a_person_signs_in_with_their_own_token_and_the_audit_names_them(
    site: tuple[Server, dict[str, str]], browser: Any, tmp_path: Path
) -> None:
    """Issue 22 item 8, in the browser: ``sessionhub operators add`` gives a person a token,
    they end a stream from the account page, the audit page says it was them; revoked, their
    open page is sent back to the login form."""
    server, tokens = site
    base = server.url
    env = {**os.environ, "SESSIONHUB_DATABASE_URL": server.database_url}
    added = subprocess.run(
        [sys.executable, "-m", "sessionhub", "operators", "add", "dana", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = added.stdout.strip()
    with httpx.Client(base_url=base, timeout=10) as client:
        setup = client.post("/srm/sessions", json=VOD, headers={"Client-Token": tokens["tablet"]})
        sid = setup.json()["successResponse"]["sessionId"]

    dana = Watched(browser)
    dana.log_in(base, token)
    assert "dana" in (dana.page.text_content("form.logout .role") or "")
    dana.page.goto(f"{base}/admin/accounts/HOME")
    dana.page.click(f'tr[data-session="{sid}"] button')
    dana.page.wait_for_url(f"{base}/admin/accounts/HOME")
    dana.page.goto(f"{base}/admin/audit")
    first = dana.page.locator("table[data-audit] tbody tr").first.inner_text()
    assert "dana" in first and "end-session" in first and sid in first
    dana.shot("audit")
    subprocess.run(
        [sys.executable, "-m", "sessionhub", "operators", "revoke", "dana"],
        env=env,
        capture_output=True,
        check=True,
    )
    dana.page.goto(f"{base}/admin/sessions")
    dana.page.wait_for_url(f"{base}/admin")  # the visit is gone: the login form
    assert dana.page.locator("input[name=token]").count() == 1
    dana.close()
    assert dana.errors == []
