"""Operator API for accounts, devices, content, entitlements, tokens and live sessions."""

from __future__ import annotations

import httpx

VOD = {"content": {"contentID": "100001V3D", "contentType": "COD"}}


async def test_operator_sets_up_an_account_and_tears_a_session_down(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    async def call(method: str, path: str, json: object = None, status: int = 200) -> object:
        response = await client.request(
            method, f"/admin/api{path}", json=json, headers=admin_headers
        )
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    account = await call(
        "POST", "/accounts", {"id": "ACME", "max_sessions": 1, "password": "pw"}, 201
    )
    assert account == {
        "id": "ACME",
        "enabled": True,
        "max_sessions": 1,
        "policy": "deny",
        "lease_timeout_s": None,
        "has_password": True,
        "created_at": account["created_at"],  # type: ignore[index]
        "tenant": "default",
    }
    await call("POST", "/content", {"content_id": "100001V3D", "content_type": "COD"}, 201)
    await call("POST", "/accounts/ACME/devices", {"device_id": "stb-1"}, 201)
    await call("POST", "/accounts/ACME/entitlements", {"content_id": "100001V3D"}, 201)
    issued = await call("POST", "/accounts/ACME/tokens", {"device_id": "stb-1"}, 201)
    token = issued["token"]  # type: ignore[index]

    setup = await client.post("/srm/sessions", json=VOD, headers={"Client-Token": token})
    sid = setup.json()["successResponse"]["sessionId"]

    detail = await call("GET", "/accounts/ACME")
    assert [s["id"] for s in detail["live_sessions"]] == [sid]  # type: ignore[index]
    assert detail["entitlements"] == ["100001V3D"]  # type: ignore[index]
    live = await call("GET", "/accounts/ACME/sessions")
    assert [s["device_id"] for s in live["sessions"]] == ["stb-1"]  # type: ignore[index]

    assert await call("DELETE", f"/sessions/{sid}") == {"ended": True}
    assert await call("DELETE", f"/sessions/{sid}") == {"ended": False}
    assert (await call("GET", f"/sessions/{sid}"))["end_reason"] == "operator"  # type: ignore[index]

    changed = await call("PATCH", "/accounts/ACME", {"max_sessions": 5, "policy": "evict-oldest"})
    assert (changed["max_sessions"], changed["policy"]) == (5, "evict-oldest")  # type: ignore[index]
    await call("PATCH", "/accounts/ACME/devices/stb-1", {"enabled": False})
    denied = await client.post("/srm/sessions", json=VOD, headers={"Client-Token": token})
    assert denied.json()["errorResponse"]["errorCode"] == "SRM-0005"
    assert await call("DELETE", "/accounts/ACME/tokens") == {"revoked": 1}
    await call("DELETE", "/accounts/ACME/entitlements/100001V3D", status=204)
    assert (await call("GET", "/accounts/ACME"))["entitlements"] == []  # type: ignore[index]


async def test_bad_operator_input(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    async def status(method: str, path: str, json: object = None) -> int:
        response = await client.request(
            method, f"/admin/api{path}", json=json, headers=admin_headers
        )
        assert response.json()["error"]["message"]
        return response.status_code

    assert await status("POST", "/accounts", {"id": "A", "policy": "random"}) == 400
    assert await status("POST", "/accounts", {"id": "A", "max_sessions": -1}) == 400
    assert await status("POST", "/accounts", {"id": "A", "colour": "red"}) == 400
    created = await client.post("/admin/api/accounts", json={"id": "A"}, headers=admin_headers)
    assert created.status_code == 201
    assert await status("POST", "/accounts", {"id": "A"}) == 409
    assert await status("GET", "/accounts/NOPE") == 404
    assert await status("POST", "/accounts/NOPE/devices", {"device_id": "x"}) == 404
    assert await status("POST", "/content", {"content_id": "c", "content_type": "VOD"}) == 400
    assert await status("POST", "/accounts/A/entitlements", {"content_id": "missing"}) == 404
    # a NUL in any text: refused before it reaches a store (PostgreSQL answered 500)
    for path, nul in [
        ("/accounts/A/entitlements", {"content_id": "\x00"}),
        ("/accounts/A/tokens", {"device_id": "d\x00"}),
        ("/accounts/A/devices", {"device_id": "\x00"}),
        ("/content", {"content_id": "c\x00", "content_type": "COD"}),
        ("/accounts", {"id": "B\x00"}),
    ]:
        assert await status("POST", path, nul) == 400, path
    assert await status("DELETE", "/sessions/unknown") == 404
    assert (await client.get("/admin/api/accounts")).status_code == 401
