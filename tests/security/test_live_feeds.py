"""Open dashboards cost one overview per beat, not one per feed, and feeds are bounded per token
(issue 20, item 9). The latency under 80 open feeds is measured by ``bench/soak.py``."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import httpx

from sessionhub.app import SessionHub
from sessionhub.dashboard.live import MAX_FEEDS_PER_ROLE
from tests.conftest import ADMIN_TOKEN
from tests.dashboard.test_pages import log_in
from tests.observe.metrics_reader import parse, value
from tests.server import running_server

E2E_ADMIN = "e2e-admin-token-1234"
FEEDS = 80


def test_eighty_open_feeds_share_one_overview_per_beat(tmp_path: Path) -> None:
    with running_server(f"sqlite:///{tmp_path / 'feeds.db'}") as server:
        owner = httpx.Client(base_url=server.url, timeout=30)
        owner.post("/admin/login", data={"token": E2E_ADMIN})
        cookie = owner.cookies["sessionhub_dashboard"]
        received = [0] * FEEDS
        stop = threading.Event()

        def read(index: int) -> None:
            with (
                contextlib.suppress(httpx.HTTPError),
                httpx.Client(base_url=server.url, timeout=30) as viewer,
                viewer.stream(
                    "GET", "/admin/live", cookies={"sessionhub_dashboard": cookie}
                ) as feed,
            ):
                for line in feed.iter_lines():
                    if line.startswith("data: "):
                        received[index] += 1
                    if stop.is_set():
                        return

        readers = [threading.Thread(target=read, args=(n,), daemon=True) for n in range(FEEDS)]
        for reader in readers:
            reader.start()
        metrics = {"Authorization": f"Bearer {E2E_ADMIN}"}
        began = time.monotonic()
        deadline = began + 30
        while min(received) < 3:  # every feed got three snapshots
            assert time.monotonic() < deadline, f"feeds starved: {sorted(received)[:5]}"
            time.sleep(0.2)
        elapsed = time.monotonic() - began
        samples = parse(owner.get("/metrics", headers=metrics).text)
        opened = value(samples, "sessionhub_dashboard_feeds_opened_total")
        closed = value(samples, "sessionhub_dashboard_feeds_closed_total")
        overviews = value(samples, "sessionhub_dashboard_overviews_total")
        stop.set()
        for reader in readers:  # each leaves at its next snapshot
            reader.join(10)
        assert opened - closed == FEEDS
        # one overview per 2 s beat for all of them (a few beats), never one per feed
        assert 3 <= overviews <= elapsed / 2 + 3, (overviews, elapsed)
        with contextlib.suppress(httpx.HTTPError):
            owner.post("/admin/logout", data={"csrf": "x"})
        owner.close()


async def test_feeds_are_bounded_per_token(app: SessionHub, client: httpx.AsyncClient) -> None:
    await log_in(client, ADMIN_TOKEN)
    for _ in range(MAX_FEEDS_PER_ROLE):
        app.live_snapshots.open("admin")
    try:
        refused = await client.get("/admin/live")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "5"
        assert f"At most {MAX_FEEDS_PER_ROLE} live feeds" in refused.text
    finally:
        for _ in range(MAX_FEEDS_PER_ROLE):
            app.live_snapshots.close("admin")
