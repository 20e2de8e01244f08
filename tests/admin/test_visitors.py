"""One visitor across every API: the admin API shows them with all their sessions in time order."""

from __future__ import annotations

import httpx

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from tests.dialects.adobe.payloads import start


async def test_one_visitor_across_adobe_genesys_nuance_and_srm(
    app: SessionHub, client: httpx.AsyncClient, admin_headers: dict[str, str], clock: ManualClock
) -> None:
    # Genesys: the customer's knowledge session
    await client.put("/sessions/new", headers={"gkc_customerId": "CRM-42"})
    clock.advance(seconds=1)
    # Adobe: they watch something, the player knows their CRM id and ECID
    watch = start(
        **{
            "visitor.customerIDs": {"crm": {"id": "CRM-42", "authState": 1}},
            "visitor.marketingCloudUserId": "ECID-1",
        }
    )
    adobe = await client.post("/api/v1/sessions", json=watch)
    adobe_id = adobe.headers["location"].rsplit("/", 1)[1]
    clock.advance(seconds=1)
    # Nuance: the chat widget marks the CRM id as the external customer id
    await app.clients.add_client("app", "secret-123", 306)
    token = (
        await client.post(
            "/oauth-server/oauth/token",
            content="grant_type=client_credentials",
            auth=("app", "secret-123"),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    ).json()
    crm = {
        "name": "crm",
        "value": "CRM-42",
        "attributeType": "visitorAttribute",
        "externalCustomerID": "yes",
    }
    await client.post(
        "/tagserver/v1/dataCollection/startSession",
        json={"siteID": 306, "sessionID": "chat-1", "attributes": [crm]},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    clock.advance(seconds=1)
    # Someone else entirely
    await client.put("/sessions/new", headers={"gkc_customerId": "CRM-99"})

    response = await client.get(
        "/admin/api/visitors?kind=customer&value=CRM-42", headers=admin_headers
    )

    assert response.status_code == 200
    visitor = response.json()
    assert [(s["api"], s["id"] == adobe_id) for s in visitor["sessions"]] == [
        ("genesys", False),
        ("adobe", True),
        ("nuance", False),
    ]
    kinds = {(i["kind"], i["value"]) for i in visitor["identities"]}
    assert {("customer", "CRM-42"), ("adobe.ecid", "ECID-1")} <= kinds
    assert any(kind == "nuance.tcCustomerId" for kind, _ in kinds)
    assert visitor["attributes"] == {"crm": ["CRM-42"]}
    assert all(s["visitor_id"] == visitor["id"] for s in visitor["sessions"])
    again = await client.get(f"/admin/api/visitors/{visitor['id']}", headers=admin_headers)
    assert again.json() == visitor


async def test_srm_sessions_belong_to_the_account_visitor(
    app: SessionHub, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    accounts = app.accounts
    await accounts.add_account("ACME", max_sessions=2)
    await accounts.add_content("c", "COD")
    await accounts.entitle("ACME", "c")
    for device in ("stb-1", "tv-2"):
        await accounts.add_device("ACME", device)
        token = (await accounts.issue_token("ACME", device)).token
        await client.post(
            "/srm/sessions",
            json={"content": {"contentID": "c", "contentType": "COD"}},
            headers={"Client-Token": token},
        )

    visitor = (
        await client.get("/admin/api/visitors?kind=nagra.account&value=ACME", headers=admin_headers)
    ).json()
    assert sorted(s["device_id"] for s in visitor["sessions"]) == ["stb-1", "tv-2"]
    by_device = await client.get(
        "/admin/api/visitors?kind=nagra.device&value=ACME/tv-2", headers=admin_headers
    )
    assert by_device.json()["id"] == visitor["id"]


async def test_unknown_visitors_and_bad_lookups(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (await client.get("/admin/api/visitors/vnope", headers=admin_headers)).status_code == 404
    missing = await client.get("/admin/api/visitors?kind=customer&value=x", headers=admin_headers)
    assert missing.status_code == 404
    assert (
        await client.get("/admin/api/visitors?kind=customer", headers=admin_headers)
    ).status_code == 400
    # a kind no API writes is a mistake to point out, not "no such visitor" (issue 22 item 2)
    typo = await client.get(
        "/admin/api/visitors?kind=adobe.visitor&value=v-42", headers=admin_headers
    )
    assert typo.status_code == 400
    assert "adobe.visitorId" in typo.text


async def test_every_identity_kind_finds_its_visitor(
    app: SessionHub, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """Each kind of the one list (README, dashboard, CLI) is a kind some API really writes."""
    from sessionhub.core.visitors import IDENTITY_KINDS  # noqa: PLC0415
    from tests.dialects.nuance.test_routes import collect, get_token  # noqa: PLC0415

    watch = start(
        **{
            "analytics.visitorId": "VID-1",
            "analytics.aid": "AID-1",
            "visitor.marketingCloudUserId": "ECID-1",
            "visitor.customerIDs": {"crm": {"id": "CRM-1", "authState": 1}},
        }
    )
    assert (await client.post("/api/v1/sessions", json=watch)).status_code == 201
    await app.clients.add_client("app-306", "s3cret-306", 306)
    bearer = {"Authorization": f"Bearer {await get_token(client)}"}
    nuance = {"siteID": 306, "tcCustomerID": "TC-1"}
    assert (await collect(client, bearer, nuance)).status_code == 200
    await app.accounts.add_account("HOME", max_sessions=1)
    await app.accounts.add_content("M-1", "COD")
    await app.accounts.entitle("HOME", "M-1")
    await app.accounts.add_device("HOME", "stb-1")
    token = (await app.accounts.issue_token("HOME", "stb-1")).token
    setup = await client.post(
        "/srm/sessions",
        json={"content": {"contentID": "M-1", "contentType": "COD"}},
        headers={"Client-Token": token},
    )
    assert setup.status_code == 200
    values = {
        "customer": "CRM-1",
        "adobe.visitorId": "VID-1",
        "adobe.ecid": "ECID-1",
        "adobe.aid": "AID-1",
        "nagra.account": "HOME",
        "nagra.device": "HOME/stb-1",
        "nuance.tcCustomerId": "TC-1",
    }
    assert set(values) == set(IDENTITY_KINDS)
    for kind, value in values.items():
        found = await client.get(
            "/admin/api/visitors", params={"kind": kind, "value": value}, headers=admin_headers
        )
        assert found.status_code == 200, (kind, found.text)
        assert {"kind": kind, "value": value} in found.json()["identities"]
