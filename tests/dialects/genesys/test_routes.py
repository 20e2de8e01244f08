"""Genesys KC session management through the real ASGI app (PROTOCOLS.md §3, seed 002)."""

from __future__ import annotations

import re

import httpx
import pytest

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.mark.parametrize("prefix", ["", "/gks-server/v1"])
async def test_new_get_and_associate(client: httpx.AsyncClient, prefix: str) -> None:
    created = await client.put(f"{prefix}/sessions/new")
    assert created.status_code == 200
    assert created.headers["content-type"] == "application/json"
    info = created.json()
    assert UUID.match(info["sessionId"]) and set(info) == {"sessionId"}  # anonymous session
    sid = info["sessionId"]

    associated = await client.post(
        f"{prefix}/sessions/{sid}",
        json={"visitId": "visit-1", "globalVisitId": "global-1"},
        headers={"gkc_customerId": "CRM-42", "gkc_agentId": "agent-7"},
    )
    assert associated.json() == {
        "sessionId": sid,
        "customerId": "CRM-42",
        "agentId": "agent-7",
        "visitId": "visit-1",
        "globalVisitId": "global-1",
    }
    fetched = await client.get(f"{prefix}/sessions/{sid}", headers={"gkc_customerId": "other"})
    assert fetched.json() == associated.json()  # GET changes nothing


async def test_put_new_with_headers_and_body(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/gks-server/v1/sessions/new?tenantId=tenant-1",
        json={"visitId": "v-1"},
        headers={"gkc_customerId": "CRM-1"},
    )
    info = response.json()
    assert (info["customerId"], info["visitId"], info["tenantId"]) == ("CRM-1", "v-1", "tenant-1")


async def test_get_unknown_is_session_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/sessions/no-such-session")
    assert response.status_code == 404
    assert response.json() == {"code": 404, "description": "Session not found"}


async def test_post_on_unknown_id_creates_the_session(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post("/sessions/client-chosen-1", headers={"gkc_customerId": "CRM-9"})
    assert response.json() == {"sessionId": "client-chosen-1", "customerId": "CRM-9"}
    assert (await client.get("/sessions/client-chosen-1")).status_code == 200
    stored = await client.get("/admin/api/sessions/genesys:client-chosen-1", headers=admin_headers)
    body = stored.json()
    assert (body["api"], body["state"], body["details"]["external_id"]) == (
        "genesys",
        "active",
        "client-chosen-1",
    )


@pytest.mark.parametrize(
    "body", [b"{bad", b'{"visitId": 5}', b'{"customerId": "x"}', b"[]", b'"text"']
)
async def test_malformed_body_is_400_and_writes_nothing(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/sessions/s-1", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == 400 and response.json()["description"]
    assert (await client.get("/sessions/s-1")).status_code == 404
    response = await client.put("/sessions/new", content=body)
    assert response.status_code == 400


async def test_wrong_method(client: httpx.AsyncClient) -> None:
    response = await client.delete("/sessions/new")
    assert response.status_code == 405
    assert response.json()["code"] == 405


@pytest.mark.parametrize("prefix", ["", "/gks-server/v1"])
async def test_a_session_an_operator_ended_is_not_found_and_not_changed(
    client: httpx.AsyncClient, admin_headers: dict[str, str], prefix: str
) -> None:
    sid = (await client.put(f"{prefix}/sessions/new", headers={"gkc_customerId": "C1"})).json()[
        "sessionId"
    ]
    ended = await client.delete(f"/admin/api/sessions/genesys:{sid}", headers=admin_headers)
    assert ended.json() == {"ended": True}
    for response in (
        await client.get(f"{prefix}/sessions/{sid}"),
        await client.post(f"{prefix}/sessions/{sid}", headers={"gkc_customerId": "C2"}),
    ):
        assert (response.status_code, response.json()) == (
            404,
            {"code": 404, "description": "Session not found"},
        )
    stored = await client.get(f"/admin/api/sessions/genesys:{sid}", headers=admin_headers)
    assert stored.json()["state"] == "ended"
    assert stored.json()["params"]["customerId"] == "C1"
