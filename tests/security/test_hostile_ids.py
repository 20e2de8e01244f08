"""Ids chosen by a client reach the operator's pages and API intact and harmless: a Nuance
session id holding ``</script>``, ``&``, U+2028 or ``/`` neither breaks out of a page's JSON
block nor becomes unreadable or unendable (issue 20, items 4 and 7)."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import msgspec
import pytest

from sessionhub.app import SessionHub
from sessionhub.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.dashboard.test_pages import log_in
from tests.dialects.nuance.test_routes import collect, get_token

HOSTILE_IDS = [
    "</script><script>alert(1)</script>",
    "a/b/../c",
    "x&amp;y\u2028z\u2029<!--",
    "%2F?q=1#frag",
]
JSON_BLOCK = re.compile(r'<script type="application/json" id="([a-z-]+)">(.*?)</script>', re.S)


@pytest.fixture
def settings(configuration: dict[str, str]) -> Settings:
    return Settings.from_env({}, admin_token=ADMIN_TOKEN, **configuration)


async def start_nuance(app: SessionHub, client: httpx.AsyncClient, sid: str) -> str:
    """A Nuance session named ``sid`` (with a visitor); its stored id."""
    await app.clients.add_client("app-306", "s3cret-306", 306)
    bearer = {"Authorization": f"Bearer {await get_token(client)}"}
    body = {"siteID": 306, "sessionID": sid, "tcCustomerID": "customer-1"}
    response = await collect(client, bearer, body)
    assert response.status_code == 200, response.text
    return f"nuance:306:{sid}"


def assert_scripts_intact(page: str) -> list[object]:
    """Every <script> on the page is one the template wrote, and its JSON decodes."""
    assert "alert(1)</script>" not in page
    opened = page.count("<script")
    assert page.count("</script>") == opened, "a value closed or opened a script block"
    assert "\u2028" not in page.split("<script", 1)[-1] or all(
        "\u2028" not in body for _, body in JSON_BLOCK.findall(page)
    )
    return [msgspec.json.decode(body) for _, body in JSON_BLOCK.findall(page)]


@pytest.mark.parametrize("sid", HOSTILE_IDS)
async def test_hostile_session_ids_stay_data_on_every_page(
    app: SessionHub, client: httpx.AsyncClient, sid: str
) -> None:
    stored = await start_nuance(app, client, sid)
    await log_in(client, ADMIN_TOKEN)
    sessions = await client.get("/admin/sessions")
    assert sessions.status_code == 200
    assert_scripts_intact(sessions.text)
    link = f"/admin/sessions/{quote(stored, safe='')}"
    assert f'href="{link}"' in sessions.text

    page = await client.get(link)
    assert page.status_code == 200, page.text
    assert_scripts_intact(page.text)

    [view] = await app.sessions.list(api="nuance")
    assert view.visitor_id is not None
    visitor = await client.get(f"/admin/visitors/{view.visitor_id}")
    [spans] = assert_scripts_intact(visitor.text)
    assert spans == [
        {"id": stored, "api": "nuance", "start": view.started_at, "end": view.expires_at}
    ]
    assert_scripts_intact((await client.get("/admin/overview")).text)


@pytest.mark.parametrize("sid", HOSTILE_IDS)
async def test_hostile_session_ids_can_be_read_and_ended(
    app: SessionHub, client: httpx.AsyncClient, admin_headers: dict[str, str], sid: str
) -> None:
    stored = await start_nuance(app, client, sid)
    url = f"/admin/api/sessions/{quote(stored, safe='')}"
    read = await client.get(url, headers=admin_headers)
    assert read.status_code == 200, read.text
    assert read.json()["id"] == stored
    ended = await client.delete(url, headers=admin_headers)
    assert ended.status_code in (200, 204), ended.text
    assert (await app.sessions.get(stored)).state == "ended"


async def test_the_dashboards_end_button_ends_a_session_whose_id_holds_a_slash(
    app: SessionHub, client: httpx.AsyncClient
) -> None:
    stored = await start_nuance(app, client, "tenant/visit/42")
    csrf = await log_in(client, ADMIN_TOKEN)
    page = (await client.get(f"/admin/sessions/{quote(stored, safe='')}")).text
    action = f"/admin/sessions/{quote(stored, safe='')}/end"
    assert f'<form method="post" action="{action}">' in page
    ended = await client.post(action, data={"csrf": csrf})
    assert ended.status_code == 303
    assert (await app.sessions.get(stored)).state == "ended"


async def test_a_literal_percent_in_an_id_is_not_decoded_twice(
    app: SessionHub, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    stored = await start_nuance(app, client, "100%25")  # the id itself holds "%25"
    read = await client.get(f"/admin/api/sessions/{quote(stored, safe='')}", headers=admin_headers)
    assert read.status_code == 200 and read.json()["id"] == "nuance:306:100%25"
