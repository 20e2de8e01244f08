"""Adobe's Media Collection API from a real browser (Debian's Chromium, driven by Playwright):
a page on another origin plays a session with fetch, reads the id from Location, sends
heartbeats, and ends the session with navigator.sendBeacon as it unloads."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conformance.conftest import ADMIN
from tests.server import Server, free_port


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    """The player page, served by a plain static server on another port (another origin)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(Path(__file__).parent))
    port = free_port()
    static = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=static.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    static.shutdown()
    static.server_close()


def test_a_player_page_on_another_origin_plays_and_ends_with_a_beacon(
    server: Server, page_origin: str, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{page_origin}/player.html?api={server.url}")
    page.wait_for_function("document.getElementById('state').textContent !== 'starting'")
    state = page.text_content("#state") or ""
    page.screenshot(path=str(tmp_path / "player.png"))
    assert state.startswith("playing "), (state, errors)
    sid = state.removeprefix("playing ")

    page.goto("about:blank")  # pagehide: the beacon goes out
    deadline = time.monotonic() + 10
    session: dict[str, Any] = {}
    while time.monotonic() < deadline:
        session = httpx.get(f"{server.url}/admin/api/sessions/{sid}", headers=ADMIN).json()
        if session["state"] == "ended":
            break
        time.sleep(0.1)
    page.close()
    assert errors == []
    assert (session["state"], session["end_reason"]) == ("ended", "ended")
    qoe = session["qoe"]
    assert qoe["time_to_start_ms"] == 2000
    assert qoe["playing_time_s"] == 28.0
    assert [event["event_type"] for event in session["events"]] == [
        "sessionStart",
        "play",
        "ping",
        "ping",
        "sessionEnd",
    ]
