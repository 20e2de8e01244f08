"""The NAGRA SRM API through the real ASGI app (PROTOCOLS.md §2, seed nagra-srm-ott-sessions)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from tests.dialects.nagra.tenant import LIVE, VOD, Tenant

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
async def tenant(app: SessionHub, client: httpx.AsyncClient) -> Tenant:
    return await Tenant(app, client).create()


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"errorResponse"}
    error: dict[str, Any] = body["errorResponse"]
    assert list(error)[:4] == ["code", "status", "errorCode", "errorMessage"]
    assert all(isinstance(error[k], str) for k in ("code", "status", "errorCode", "errorMessage"))
    assert error["code"] == str(response.status_code)
    return error


async def live_count(app: SessionHub) -> int:
    return len(await app.sessions.list(account_id="ACME", state="active"))


@pytest.mark.parametrize("path", ["/srm/sessions", "/srm/v1/sessions"])
@pytest.mark.parametrize("body", [VOD, LIVE])
async def test_setup_answers_as_the_seed(tenant: Tenant, path: str, body: Any) -> None:
    response = await tenant.setup("dev-1", body, path)

    assert response.status_code == 200
    success = response.json()["successResponse"]
    assert UUID.match(success["sessionId"])
    assert success["timeout"] == 30


async def test_keep_alive_and_teardown_answer_200_without_body(
    tenant: Tenant, client: httpx.AsyncClient, app: SessionHub
) -> None:
    sid = await tenant.start("dev-1")
    for version in ("/srm", "/srm/v1"):
        response = await client.put(f"{version}/sessions/{sid}", headers=tenant.auth("dev-1"))
        assert (response.status_code, response.content) == (200, b"")
    response = await client.delete(f"/srm/v1/sessions/{sid}", headers=tenant.auth("dev-1"))
    assert (response.status_code, response.content) == (200, b"")
    assert await live_count(app) == 0
    again = await client.delete(f"/srm/sessions/{sid}", headers=tenant.auth("dev-1"))
    assert again.status_code == 200  # tearing down twice is harmless
    gone = await client.put(f"/srm/sessions/{sid}", headers=tenant.auth("dev-1"))
    assert (gone.status_code, error_of(gone)["errorCode"]) == (410, "SRM-0013")


async def test_deny_at_the_limit_lists_conflicting_sessions(
    tenant: Tenant, app: SessionHub, clock: ManualClock
) -> None:
    first = await tenant.start("dev-1")
    clock.advance(ms=1)
    second = await tenant.start("dev-2", LIVE)

    response = await tenant.setup("dev-3")

    assert response.status_code == 200
    error = error_of(response)
    assert (error["status"], error["errorCode"]) == ("DENIED", "SRM-0006")
    assert error["errorMessage"] == "Session Limit Reached"
    conflicts = error["conflictingSessions"]
    assert [(c["sessionId"], c["deviceId"], c["contentID"]) for c in conflicts] == [
        (first, "dev-1", "100001V3D"),
        (second, "dev-2", "BTV_CH1_V"),
    ]
    assert all(c["startedAt"].endswith("Z") for c in conflicts)
    assert await live_count(app) == 2


async def test_evict_oldest_ends_the_oldest_and_its_keep_alive_says_so(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    tenant = await Tenant(app, client).create(policy="evict-oldest")
    oldest = await tenant.start("dev-1")
    clock.advance(ms=5)
    await tenant.start("dev-2")
    clock.advance(ms=5)
    newest = await tenant.start("dev-3")

    response = await client.put(f"/srm/sessions/{oldest}", headers=tenant.auth("dev-1"))
    error = error_of(response)
    assert (response.status_code, error["errorCode"]) == (410, "SRM-0011")
    detail = await app.sessions.get(oldest)
    assert (detail.state, detail.end_reason) == ("ended", "evicted")
    assert {s.id for s in await app.sessions.list(account_id="ACME", state="active")} >= {newest}
    assert await live_count(app) == 2


async def test_the_same_device_replaces_its_session_instead_of_being_refused(
    tenant: Tenant, client: httpx.AsyncClient, app: SessionHub
) -> None:
    await tenant.start("dev-1")
    episode_1 = await tenant.start("dev-2")
    episode_2 = await tenant.start("dev-2", LIVE)  # next episode on the same device

    assert episode_2 != episode_1
    assert await live_count(app) == 2
    response = await client.put(f"/srm/sessions/{episode_1}", headers=tenant.auth("dev-2"))
    assert error_of(response)["errorCode"] == "SRM-0012"


async def test_a_lapsed_lease_stops_counting_at_once_and_is_never_revived(
    tenant: Tenant, client: httpx.AsyncClient, app: SessionHub, clock: ManualClock
) -> None:
    sid = await tenant.start("dev-1")
    await tenant.start("dev-2")
    clock.advance(seconds=29)
    assert (
        await client.put(f"/srm/sessions/{sid}", headers=tenant.auth("dev-1"))
    ).status_code == 200
    clock.advance(seconds=29)  # renewed: still alive 58 s after setup
    assert (
        await client.put(f"/srm/sessions/{sid}", headers=tenant.auth("dev-1"))
    ).status_code == 200
    clock.advance(seconds=31)

    assert (await tenant.setup("dev-3")).json().get("successResponse")  # dev-2's lapsed too
    response = await client.put(f"/srm/sessions/{sid}", headers=tenant.auth("dev-1"))
    assert (response.status_code, error_of(response)["errorCode"]) == (410, "SRM-0010")
    assert await app.sessions.expire_lapsed() == 1  # dev-2's; dev-1's was written at keep-alive
    detail = await app.sessions.get(sid)
    assert (detail.state, detail.end_reason) == ("ended", "expired")


async def test_no_keep_alive_when_the_account_timeout_is_zero(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    tenant = await Tenant(app, client).create(lease_s=0)
    response = await tenant.setup("dev-1")
    success = response.json()["successResponse"]
    assert "timeout" not in success
    clock.advance(minutes=600)
    assert await live_count(app) == 1
    sid = success["sessionId"]
    assert (
        await client.put(f"/srm/sessions/{sid}", headers=tenant.auth("dev-1"))
    ).status_code == 200


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({}, "content"),
        ({"content": {}}, "contentID"),
        ({"content": {"contentID": "100001V3D"}}, "contentType"),
        ({"content": {"contentID": "100001V3D", "contentType": "VOD"}}, "contentType"),
        ({"content": {"contentID": "", "contentType": "COD"}}, "contentID"),
        ({"content": {"contentID": 100001, "contentType": "COD"}}, "contentID"),
        # PostgreSQL cannot compare text with a NUL: a 500 there before (schemathesis)
        ({"content": {"contentID": "\x00", "contentType": "CU"}}, "NUL character - at `$.content"),
        ([], "object"),
    ],
)
async def test_malformed_setup_is_srm_0002(
    tenant: Tenant, app: SessionHub, body: Any, mentions: str
) -> None:
    response = await tenant.setup("dev-1", body)
    error = error_of(response)
    assert (response.status_code, error["status"], error["errorCode"]) == (400, "ERROR", "SRM-0002")
    assert mentions in error["errorMessage"]
    assert await live_count(app) == 0


async def test_body_that_is_not_json_is_srm_0002(tenant: Tenant, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/srm/sessions", content=b"content=1", headers=tenant.auth("dev-1")
    )
    assert (response.status_code, error_of(response)["errorCode"]) == (400, "SRM-0002")


async def test_token_problems_are_srm_0003(
    tenant: Tenant, app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    cases: list[dict[str, str]] = [{}, {"Client-Token": ""}, {"Client-Token": "forged"}]
    for headers in cases:
        response = await client.post("/srm/sessions", json=VOD, headers=headers)
        assert (response.status_code, error_of(response)["errorCode"]) == (401, "SRM-0003")

    await app.accounts.revoke_tokens("ACME", "dev-1")
    assert (await tenant.setup("dev-1")).status_code == 401
    clock.advance(seconds=86_401)
    response = await tenant.setup("dev-2")
    assert response.status_code == 401 and "expired" in error_of(response)["errorMessage"]
    assert await live_count(app) == 0


async def test_disabled_account_or_device_is_denied(tenant: Tenant, app: SessionHub) -> None:
    await app.accounts.set_device_enabled("ACME", "dev-1", False)
    response = await tenant.setup("dev-1")
    error = error_of(response)
    assert (response.status_code, error["status"], error["errorCode"]) == (
        200,
        "DENIED",
        "SRM-0005",
    )

    await app.accounts.update_account("ACME", enabled=False)
    error = error_of(await tenant.setup("dev-2"))
    assert (error["status"], error["errorCode"]) == ("DENIED", "SRM-0004")
    assert await live_count(app) == 0


async def test_content_checks(tenant: Tenant, app: SessionHub) -> None:
    not_entitled = await tenant.setup(
        "dev-1", {"content": {"contentID": "OTHER", "contentType": "COD"}}
    )
    error = error_of(not_entitled)
    assert (not_entitled.status_code, error["status"], error["errorCode"]) == (
        200,
        "DENIED",
        "SRM-0007",
    )

    unknown = await tenant.setup("dev-1", {"content": {"contentID": "NOPE", "contentType": "COD"}})
    assert (unknown.status_code, error_of(unknown)["errorCode"]) == (404, "SRM-0008")
    wrong_type = await tenant.setup(
        "dev-1", {"content": {"contentID": "100001V3D", "contentType": "LIVE"}}
    )
    assert error_of(wrong_type)["errorCode"] == "SRM-0008"
    assert await live_count(app) == 0


async def test_sessions_of_other_accounts_look_unknown(
    tenant: Tenant, app: SessionHub, client: httpx.AsyncClient
) -> None:
    sid = await tenant.start("dev-1")
    await app.accounts.add_account("OTHER", max_sessions=1)
    await app.accounts.add_device("OTHER", "x")
    other = (await app.accounts.issue_token("OTHER", "x")).token

    for method in ("PUT", "DELETE"):
        response = await client.request(
            method, f"/srm/sessions/{sid}", headers={"Client-Token": other}
        )
        assert (response.status_code, error_of(response)["errorCode"]) == (404, "SRM-0009")
    assert (await app.sessions.get(sid)).state == "active"
    unknown = await client.put("/srm/sessions/0000", headers=tenant.auth("dev-1"))
    assert error_of(unknown)["errorCode"] == "SRM-0009"


async def test_sign_on_issues_a_working_token(client: httpx.AsyncClient, tenant: Tenant) -> None:
    path = "/ias/v3/token/actions/signOnByUserNamePassword"
    good = {"username": "ACME", "password": "s3cret", "deviceId": "dev-1"}
    response = await client.post(path, json=good)
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Client-Token", 86_400)
    setup = await client.post(
        "/srm/sessions", json=VOD, headers={"Client-Token": body["access_token"]}
    )
    assert "successResponse" in setup.json()

    for bad, status, code in [
        ({**good, "password": "wrong"}, 401, "SRM-0003"),
        ({**good, "username": "NOBODY"}, 401, "SRM-0003"),
        ({**good, "deviceId": "unregistered"}, 200, "SRM-0005"),
        ({"username": "ACME"}, 400, "SRM-0002"),
        ({**good, "username": "AC\x00ME"}, 400, "SRM-0002"),
        ({**good, "deviceId": "dev-1\x00"}, 400, "SRM-0002"),
    ]:
        response = await client.post(path, json=bad)
        assert (response.status_code, error_of(response)["errorCode"]) == (status, code)


async def test_wrong_method_is_405_in_the_srm_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/srm/sessions")
    assert (response.status_code, error_of(response)["errorCode"]) == (405, "SRM-0014")
    assert "POST" in response.headers["allow"]
