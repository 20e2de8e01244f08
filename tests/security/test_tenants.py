"""Tenants hold: every vendor identity is keyed by (tenant, id), a credential writes into its own
tenant only and gets 404 for another's, visitors never merge across tenants, the APIs without
credentials (Adobe, Genesys) write into the tenant of the host they are called on and never
into one named by a body or header, and a viewer may be limited to one tenant (issue 20,
item 5). On every configuration (SQLite, PostgreSQL, PostgreSQL + Redis)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.errors import InvalidInputError
from sessionhub.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.dashboard.test_pages import log_in
from tests.dialects.adobe.payloads import event, start
from tests.dialects.nuance.test_routes import collect, get_token

VIEWER_TOKEN = "acme-viewer-token-0123"
HOSTS = "acme.test=acme,beta.test=beta"
ACME = "http://acme.test"
BETA = "http://beta.test"


@pytest.fixture
def settings(configuration: dict[str, str]) -> Settings:
    return Settings.from_env(
        {},
        admin_token=ADMIN_TOKEN,
        viewer_token=VIEWER_TOKEN,
        viewer_tenant="acme",
        tenant_hosts=HOSTS,
        **configuration,
    )


def on(app: SessionHub, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def nuance_bearer(app: SessionHub, client: httpx.AsyncClient, site: int) -> dict[str, str]:
    token = await get_token(client, f"app-{site}", f"s3cret-{site}")
    return {"Authorization": f"Bearer {token}"}


def credit(limit: str, customer: str = "cust-1") -> dict[str, Any]:
    return {
        "tcCustomerID": customer,
        "attributes": [
            {
                "name": "creditLimit",
                "value": limit,
                "attributeType": "visitorAttribute",
                "action": "set",
            }
        ],
    }


async def test_a_nuance_site_never_writes_into_another_tenants_site_or_visitor(
    app: SessionHub, admin_headers: dict[str, str]
) -> None:
    await app.clients.add_client("app-306", "s3cret-306", 306, "acme")
    await app.clients.add_client("app-307", "s3cret-307", 307, "beta")
    with pytest.raises(InvalidInputError, match="belongs to tenant acme"):
        await app.clients.add_client("sneaky", "s3cret-sneaky", 306, "beta")
    async with on(app, ACME) as client:
        acme = await nuance_bearer(app, client, 306)
        beta = await nuance_bearer(app, client, 307)
        assert (await collect(client, acme, {"siteID": 306, **credit("5000")})).status_code == 200
        # site 307's credential naming site 306: not found, not forbidden
        crossing = await collect(client, beta, {"siteID": 306, **credit("999999")})
        assert crossing.status_code == 404
        # the same visitor id on its own site is another person
        own = await collect(client, beta, {"siteID": 307, **credit("999999")})
        assert own.status_code == 200
        found: dict[str, Any] = {}
        for tenant in ("acme", "beta"):
            answer = await client.get(
                "/admin/api/visitors",
                params={"kind": "nuance.tcCustomerId", "value": "cust-1", "tenant": tenant},
                headers=admin_headers,
            )
            assert answer.status_code == 200, answer.text
            found[tenant] = answer.json()
    assert found["acme"]["attributes"] == {"creditLimit": ["5000"]}
    assert found["beta"]["attributes"] == {"creditLimit": ["999999"]}
    assert found["acme"]["id"] != found["beta"]["id"]
    assert (found["acme"]["tenant"], found["beta"]["tenant"]) == ("acme", "beta")


async def test_genesys_writes_into_the_hosts_tenant_never_the_one_it_names(
    app: SessionHub, admin_headers: dict[str, str]
) -> None:
    async with on(app, ACME) as acme, on(app, BETA) as beta:
        gold = await acme.post(
            "/sessions/shared-id", json={"visitId": "gold"}, headers={"gkc_customerId": "CRM-1"}
        )
        assert gold.status_code == 200
        # the same client-chosen id and customer on the other host, naming the first tenant
        banned = await beta.post(
            "/sessions/shared-id?tenantId=acme",
            json={"visitId": "banned"},
            headers={"gkc_customerId": "CRM-1"},
        )
        assert banned.status_code == 200
        assert (await acme.get("/sessions/shared-id")).json()["visitId"] == "gold"
        assert (await beta.get("/sessions/shared-id")).json()["visitId"] == "banned"
        new = await beta.put("/sessions/new")
        assert (await acme.get(f"/sessions/{new.json()['sessionId']}")).status_code == 404
        async with on(app, "http://unknown.test") as stranger:
            refused = await stranger.put("/sessions/new")
            assert refused.status_code == 404  # no fallback to some other tenant
        visitors = [
            (
                await acme.get(
                    "/admin/api/visitors",
                    params={"kind": "customer", "value": "CRM-1", "tenant": tenant},
                    headers=admin_headers,
                )
            ).json()
            for tenant in ("acme", "beta")
        ]
    assert visitors[0]["id"] != visitors[1]["id"]
    assert [len(v["sessions"]) for v in visitors] == [1, 1]


async def test_adobe_sessions_are_the_hosts_tenants_and_nobody_elses(
    app: SessionHub, admin_headers: dict[str, str]
) -> None:
    body = start(**{"analytics.visitorId": "visitor-42"})
    async with on(app, ACME) as acme, on(app, BETA) as beta:
        started = await acme.post("/api/v1/sessions", json=body)
        assert started.status_code == 201
        location = started.headers["location"]
        # another tenant's host cannot add to it, nor learn that it exists
        elsewhere = await beta.post(f"{location}/events", json=event("play", 1000))
        assert elsewhere.status_code == 404
        assert (await acme.post(f"{location}/events", json=event("play", 1000))).status_code == 204
        assert (await beta.post("/api/v1/sessions", json=body)).status_code == 201
        listed = await acme.get(
            "/admin/api/sessions", params={"tenant": "beta"}, headers=admin_headers
        )
    [only] = listed.json()["sessions"]
    assert only["tenant"] == "beta" and only["api"] == "adobe"
    acme_visitor = await app.visitors.find("adobe.visitorId", "visitor-42", "acme")
    beta_visitor = await app.visitors.find("adobe.visitorId", "visitor-42", "beta")
    assert acme_visitor.id != beta_visitor.id


async def test_srm_sessions_belong_to_their_accounts_tenant(app: SessionHub) -> None:
    await app.accounts.add_account("BETA-HOME", max_sessions=2, tenant="beta")
    await app.accounts.add_content("100001V3D", "COD")
    await app.accounts.entitle("BETA-HOME", "100001V3D")
    await app.accounts.add_device("BETA-HOME", "stb-1")
    token = (await app.accounts.issue_token("BETA-HOME", "stb-1")).token
    async with on(app, ACME) as client:  # the host does not matter: the credential does
        setup = await client.post(
            "/srm/sessions",
            json={"content": {"contentID": "100001V3D", "contentType": "COD"}},
            headers={"Client-Token": token},
        )
        assert setup.status_code == 200, setup.text
    [session] = await app.sessions.list(api="nagra")
    assert session.tenant == "beta"
    visitor = await app.visitors.find("nagra.account", "BETA-HOME", "beta")
    assert visitor.tenant == "beta"
    with pytest.raises(Exception, match="No visitor"):
        await app.visitors.find("nagra.account", "BETA-HOME", "acme")


async def test_a_viewer_limited_to_one_tenant_sees_nothing_of_the_others(
    app: SessionHub, admin_headers: dict[str, str]
) -> None:
    async with on(app, ACME) as acme, on(app, BETA) as beta:
        await acme.post("/sessions/a-1", headers={"gkc_customerId": "CRM-A"})
        await beta.post("/sessions/b-1", headers={"gkc_customerId": "CRM-B"})
        [beta_session] = await app.sessions.list(tenant="beta")
        beta_visitor = beta_session.visitor_id
        landed = await acme.post("/admin/login", data={"token": VIEWER_TOKEN})
        assert landed.headers["location"] == "/admin/sessions"
        listing = await acme.get("/admin/sessions")
        assert "a-1" in listing.text and "b-1" not in listing.text
        # naming the other tenant in the query changes nothing
        assert "b-1" not in (await acme.get("/admin/sessions?tenant=beta")).text
        assert (await acme.get(f"/admin/sessions/{beta_session.id}")).status_code == 404
        assert (await acme.get(f"/admin/visitors/{beta_visitor}")).status_code == 404
        search = await acme.get(
            "/admin/visitors", params={"kind": "customer", "value": "CRM-B", "tenant": "beta"}
        )
        assert search.status_code == 404
        for everything in ("/admin/overview", "/admin/live", "/admin/playlogs"):
            assert (await acme.get(everything)).status_code == 403, everything
        metrics = await acme.get("/metrics", headers={"Authorization": f"Bearer {VIEWER_TOKEN}"})
        assert metrics.status_code in (401, 403)
        # the admin sees both, and may filter
        await log_in(beta, ADMIN_TOKEN)
        both = (await beta.get("/admin/sessions")).text
        assert "a-1" in both and "b-1" in both
        only_beta = (await beta.get("/admin/sessions?tenant=beta")).text
        assert "b-1" in only_beta and "a-1" not in only_beta


@pytest.mark.parametrize("configuration", ["sqlite"], indirect=True)
def test_tenant_settings_are_checked_at_start_up(configuration: dict[str, str]) -> None:
    from sessionhub.settings import SettingsError  # noqa: PLC0415

    for bad in ("acme.test", "acme.test=Bad Tenant", "a=x,a=y"):
        with pytest.raises(SettingsError, match="TENANT_HOSTS"):
            Settings.from_env({"SESSIONHUB_TENANT_HOSTS": bad})
    with pytest.raises(SettingsError, match="VIEWER_TENANT"):
        Settings.from_env({"SESSIONHUB_VIEWER_TENANT": "acme"})


async def test_a_tenant_filter_no_tenant_can_have_is_refused_not_looked_up(
    app: SessionHub, admin_headers: dict[str, str]
) -> None:
    """Found by schemathesis: a NUL byte in ?tenant= reached PostgreSQL (a 500)."""
    async with on(app, ACME) as acme:
        for bad in ("a\x00b", "Acme", "acme\n", "-acme", "x" * 64):
            for path, extra in (
                ("/admin/api/sessions", {}),
                ("/admin/api/visitors", {"kind": "customer", "value": "CRM-A"}),
            ):
                answer = await acme.get(
                    path, params={"tenant": bad, **extra}, headers=admin_headers
                )
                assert answer.status_code == 400, (path, bad)
                assert ("NUL" if "\x00" in bad else "tenant must be") in answer.text
        await log_in(acme, ADMIN_TOKEN)
        page = await acme.get("/admin/sessions", params={"tenant": "a\x00b"})
        assert page.status_code == 400
