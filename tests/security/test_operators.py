"""Per-person dashboard logins and the audit log (issue 22 item 8): a person signs in with a
token of their own, what they end is written down under their name, revoking them ends their
open visits at once, and a person limited to a tenant sees only that tenant. On every
configuration (SQLite, PostgreSQL, PostgreSQL + Redis), through the real ASGI app."""

from __future__ import annotations

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from tests.conftest import ADMIN_TOKEN
from tests.dashboard.test_pages import log_in
from tests.dialects.adobe.payloads import start

CSRF = 'name="csrf" value="'


def on(app: SessionHub, host: str = "http://sessionhub.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=host)


async def adobe_session(client: httpx.AsyncClient) -> str:
    started = await client.post("/api/v1/sessions", json=start())
    assert started.status_code == 201
    return started.headers["location"].rsplit("/", 1)[1]


async def sign_in(client: httpx.AsyncClient, token: str) -> str:
    """Signs in with a person's token; returns the visit's CSRF token."""
    landed = await client.post("/admin/login", data={"token": token})
    assert landed.status_code == 303, landed.text
    page = await client.get(landed.headers["location"])
    return page.text.split(CSRF, 1)[1].split('"', 1)[0]


async def test_what_a_person_ends_is_written_down_under_their_name(
    app: SessionHub, admin_headers: dict[str, str]
) -> None:
    _, token = await app.operators.add("alice", "admin", by="test")
    async with on(app) as alice, on(app) as api:
        first, second = await adobe_session(api), await adobe_session(api)
        csrf = await sign_in(alice, token)
        assert "alice" in (await alice.get("/admin/overview")).text  # who is signed in
        ended = await alice.post(f"/admin/sessions/{first}/end", data={"csrf": csrf})
        assert ended.status_code == 303
        assert (await api.delete(f"/admin/api/sessions/{second}", headers=admin_headers)).json()
        # ending it again changes nothing, and writes nothing
        await alice.post(f"/admin/sessions/{first}/end", data={"csrf": csrf})
        log = (await api.get("/admin/api/audit", headers=admin_headers)).json()["entries"]
        page = (await alice.get("/admin/audit")).text
    assert [(e["actor"], e["action"], e["target"]) for e in log] == [
        ("admin token", "end-session", second),
        ("alice", "end-session", first),
        ("test", "operator-added", "alice (admin)"),
    ]
    assert first in page and "alice" in page
    assert (await app.sessions.get(first)).end_reason == "operator"


async def test_revoking_a_person_ends_their_visits_at_once(app: SessionHub) -> None:
    _, token = await app.operators.add("alice", "admin", by="test")
    async with on(app) as laptop, on(app) as phone:
        await sign_in(laptop, token)
        await sign_in(phone, token)
        assert (await laptop.get("/admin/sessions")).status_code == 200
        await app.operators.revoke("alice", by="test")
        for device in (laptop, phone):
            gone = await device.get("/admin/sessions")
            assert (gone.status_code, gone.headers["location"]) == (303, "/admin")
        again = await laptop.post("/admin/login", data={"token": token})
        assert again.status_code == 200 and "That token is not right." in again.text
    with pytest.raises(NotFoundError):
        await app.operators.revoke("alice", by="test")
    with pytest.raises(AlreadyExistsError):  # a name is never given again
        await app.operators.add("alice", "viewer", by="test")


async def test_a_person_limited_to_a_tenant_sees_it_alone_and_a_viewer_ends_nothing(
    app: SessionHub,
) -> None:
    _, token = await app.operators.add("bob", "viewer", "acme", by="test")
    async with on(app) as api, on(app) as bob:
        sid = await adobe_session(api)  # the default tenant's
        landed = await bob.post("/admin/login", data={"token": token})
        assert landed.headers["location"] == "/admin/sessions"
        assert sid[:18] not in (await bob.get("/admin/sessions")).text
        assert (await bob.get(f"/admin/sessions/{sid}")).status_code == 404
        assert (await bob.get("/admin/audit")).status_code == 403  # every tenant's
        page = await bob.get("/admin/sessions")
        csrf = page.text.split(CSRF, 1)[1].split('"', 1)[0]
        refused = await bob.post(f"/admin/sessions/{sid}/end", data={"csrf": csrf})
        assert refused.status_code == 403
    assert (await app.sessions.get(sid)).state == "active"


async def test_names_roles_and_tenants_are_checked(app: SessionHub) -> None:
    for name, role, tenant in (
        ("a b", "admin", None),
        ("", "admin", None),
        ("carol", "root", None),
        ("carol", "viewer", "Not A Tenant"),
    ):
        with pytest.raises(InvalidInputError):
            await app.operators.add(name, role, tenant, by="test")


async def test_the_shared_tokens_keep_working_beside_people(app: SessionHub) -> None:
    await app.operators.add("alice", "admin", by="test")
    async with on(app) as client:
        await log_in(client, ADMIN_TOKEN)
        assert "Audit" in (await client.get("/admin/audit")).text
