"""Session lists filter in the query, not among the newest rows, page with a cursor, and say
what was played (issue 22 item 4): the admin API, the dashboard and the CLI's store call."""

from __future__ import annotations

import httpx

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from tests.conftest import ADMIN_TOKEN
from tests.dashboard.test_pages import log_in
from tests.dialects.adobe.payloads import start

NEWER = 250  # more than a dashboard page (200) of newer sessions


async def a_crowd(client: httpx.AsyncClient, clock: ManualClock) -> str:
    """One old Adobe session of movie-1 by customer CRM-1, then NEWER of something else.
    Returns the old one's id."""
    first = await client.post(
        "/api/v1/sessions",
        json=start(
            **{
                "media.id": "movie-1",
                "analytics.visitorId": "visitor-old",
                "media.name": "The First Movie",
                "media.playerName": "Living Room TV",
                "visitor.customerIDs": {"crm": {"id": "CRM-1", "authState": 1}},
            }
        ),
    )
    assert first.status_code == 201
    for n in range(NEWER):
        clock.advance(ms=10)
        later = await client.post(
            "/api/v1/sessions",
            json=start(**{"media.id": f"other-{n}", "analytics.visitorId": f"v-{n}"}),
        )
        assert later.status_code == 201
    return first.headers["location"].rsplit("/", 1)[1]


async def test_filters_find_an_old_session_under_many_newer(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock, admin_headers: dict[str, str]
) -> None:
    old = await a_crowd(client, clock)
    [view] = await app.sessions.list(content_id="movie-1")
    assert view.id == old and view.content_id == "movie-1"  # Adobe's media.id is its content
    assert (view.title, view.player) == ("The First Movie", "Living Room TV")
    visitor = view.visitor_id
    assert visitor is not None
    for query in ({"content": "movie-1"}, {"visitor": visitor}):
        page = await client.get("/admin/api/sessions", params=query, headers=admin_headers)
        assert [s["id"] for s in page.json()["sessions"]] == [old], query
    # the dashboard filters the same way, and shows what was played
    await log_in(client, ADMIN_TOKEN)
    for query in ({"content": "movie-1"}, {"visitor": visitor}):
        listing = await client.get("/admin/sessions", params=query)
        assert old[:18] in listing.text and "other-" not in listing.text, query
        assert "The First Movie" in listing.text and "Living Room TV" in listing.text
    detail = await client.get(f"/admin/sessions/{old}")
    assert "The First Movie" in detail.text and "Living Room TV" in detail.text


async def test_pages_follow_a_cursor_to_the_oldest_session(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock, admin_headers: dict[str, str]
) -> None:
    old = await a_crowd(client, clock)
    seen: list[str] = []
    before: str | None = None
    while True:
        params = {"api": "adobe", "limit": "100"} | ({"before": before} if before else {})
        page = (
            await client.get("/admin/api/sessions", params=params, headers=admin_headers)
        ).json()
        seen += [s["id"] for s in page["sessions"]]
        before = page["next_before"]
        if before is None:
            break
    assert len(seen) == len(set(seen)) == NEWER + 1 and seen[-1] == old
    # the dashboard's "Older sessions" link goes on from its first page
    await log_in(client, ADMIN_TOKEN)
    first = await client.get("/admin/sessions", params={"api": "adobe"})
    link = first.text.split('href="/admin/sessions?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "api=adobe" in link and "before=" in link
    second = await client.get(f"/admin/sessions?{link}")
    assert old[:18] in second.text and "Older sessions" not in second.text
