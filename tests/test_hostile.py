"""Hostile input through the real ASGI app, on every configuration (issue: hostile input).

Each test names the numbered rule it proves. Every body here was seen to answer 500 or 503, or
to wedge the store, before the rule held.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from oauthlib.oauth1 import Client

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from tests.dialects.adobe.payloads import event, start
from tests.dialects.nagra.test_routes import Tenant, error_of
from tests.dialects.nuance.test_routes import get_token

BIG = 2**63  # one past int64
HUGE = 2**64 + 5
INVALID_UTF8 = b'{"\xff\xfe":"\xc3"}'
DEEP = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


async def adobe_session(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/v1/sessions", json=start(ts=1_000))
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[1]


async def nuance_token(app: SessionHub, client: httpx.AsyncClient) -> str:
    await app.clients.add_client("app-306", "s3cret-306", 306)
    return str(await get_token(client))


# -- 1. No input wedges the service ----------------------------------------------------------


async def test_the_two_requests_that_wedged_sqlite_now_leave_it_writable(
    client: httpx.AsyncClient,
) -> None:
    sid = await adobe_session(client)
    bad = {"playerTime": {"playhead": 1, "ts": BIG}, "eventType": "ping"}
    response = await client.post(f"/api/v1/sessions/{sid}/events", json=bad)
    assert response.status_code == 400
    assert "ts" in response.json()["message"]

    assert (await client.put("/sessions/new")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    ok = event("ping", 2_000, 1)
    assert (await client.post(f"/api/v1/sessions/{sid}/events", json=ok)).status_code == 204


# -- 2. One bad request fails alone, and leaves nothing of itself ----------------------------


async def test_a_session_start_the_store_cannot_hold_creates_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for ts in (BIG, HUGE, -1):
        response = await client.post("/api/v1/sessions", json=start(ts=ts))
        assert response.status_code == 400, response.text
        assert "location" not in response.headers
    listed = await client.get("/admin/api/sessions", headers=admin_headers)
    assert listed.json()["sessions"] == []


# -- 3. Never a 500 for client input: the vendor's own 4xx -----------------------------------


def adobe_shape(response: httpx.Response) -> None:
    assert set(response.json()) == {"message"}


def genesys_shape(response: httpx.Response) -> None:
    assert set(response.json()) == {"code", "description"}


def nagra_shape(response: httpx.Response) -> None:
    assert error_of(response)["errorCode"] == "SRM-0002"


def nuance_shape(response: httpx.Response) -> None:
    assert set(response.json()) == {"timestamp", "status", "error", "message"}


def admin_shape(response: httpx.Response) -> None:
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("body", [INVALID_UTF8, DEEP], ids=["invalid-utf8", "deep-nesting"])
async def test_undecodable_json_is_a_400_in_each_vendors_shape(
    app: SessionHub,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    body: bytes,
) -> None:
    tenant = await Tenant(app, client).create()
    token = await nuance_token(app, client)
    sid = await adobe_session(client)
    json_type = {"content-type": "application/json"}
    cases: list[tuple[str, str, dict[str, str], Any]] = [
        ("/api/v1/sessions", "POST", json_type, adobe_shape),
        (f"/api/v1/sessions/{sid}/events", "POST", json_type, adobe_shape),
        ("/api/v1/downloaded", "POST", json_type, adobe_shape),
        ("/srm/sessions", "POST", tenant.auth("dev-1"), nagra_shape),
        ("/srm/v1/sessions", "POST", tenant.auth("dev-1"), nagra_shape),
        ("/ias/v3/token/actions/signOnByUserNamePassword", "POST", {}, nagra_shape),
        ("/sessions/new", "PUT", {}, genesys_shape),
        ("/gks-server/v1/sessions/abc", "POST", {}, genesys_shape),
        (
            "/tagserver/v1/dataCollection/startSession",
            "POST",
            {"authorization": f"Bearer {token}"},
            nuance_shape,
        ),
        ("/admin/api/accounts", "POST", admin_headers, admin_shape),
    ]
    for path, method, headers, shape in cases:
        response = await client.request(method, path, content=body, headers=headers)
        assert response.status_code == 400, (path, response.status_code, response.text)
        shape(response)


@pytest.mark.parametrize("value", [BIG, HUGE, -BIG - 1])
async def test_integers_past_int64_are_400_everywhere(
    client: httpx.AsyncClient, admin_headers: dict[str, str], value: int
) -> None:
    sid = await adobe_session(client)
    for body in (
        {"playerTime": {"playhead": 0, "ts": value}, "eventType": "play"},
        event("bitrateChange", 2_000, 0, qoeData={"media.qoe.bitrate": value}),
        event(
            "chapterStart",
            2_000,
            0,
            params={
                "media.chapter.index": value,
                "media.chapter.offset": 0,
                "media.chapter.length": 1,
            },
        ),
    ):
        response = await client.post(f"/api/v1/sessions/{sid}/events", json=body)
        assert response.status_code == 400, (body, response.text)
        adobe_shape(response)
    for field in ("max_sessions", "lease_timeout_s"):
        response = await client.post(
            "/admin/api/accounts", json={"id": "X", field: value}, headers=admin_headers
        )
        assert response.status_code == 400, response.text
        admin_shape(response)
    created = await client.post("/admin/api/accounts", json={"id": "Y"}, headers=admin_headers)
    assert created.status_code == 201
    response = await client.patch(
        "/admin/api/accounts/Y", json={"max_sessions": value}, headers=admin_headers
    )
    assert response.status_code == 400, response.text


async def test_timestamps_past_the_year_9999_are_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/sessions", json=start(ts=253_402_300_800_000))
    assert response.status_code == 400
    assert "ts" in response.json()["message"]


async def test_a_nuance_body_with_huge_numbers_is_400(
    app: SessionHub, client: httpx.AsyncClient
) -> None:
    token = await nuance_token(app, client)
    headers = {"authorization": f"Bearer {token}"}
    for body in (
        {"siteID": BIG},
        {"siteID": 306, "agentGroupID": HUGE},
        {"siteID": 306, "customVariables": [{"name": "a", "value": "b", "persistence": BIG}]},
    ):
        response = await client.post(
            "/tagserver/v1/dataCollection/startSession", json=body, headers=headers
        )
        assert response.status_code == 400, response.text
        nuance_shape(response)


async def test_an_oauth1_header_with_an_access_token_is_a_401_not_a_500(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    clock.set(time.time_ns() // 1_000_000)
    await app.consumers.add("partner-key", "partner-secret", ["GB"])
    oauth = Client(
        "partner-key",
        client_secret="partner-secret",
        resource_owner_key="user-token",
        resource_owner_secret="user-secret",
    )
    url = "http://sessionhub.test/1.2/user/preview/log?country=GB"
    uri, headers, _ = oauth.sign(
        url, http_method="POST", headers={"Content-Type": "application/json"}
    )
    response = await client.post(uri, content=b'{"logs":[]}', headers=headers)
    assert response.status_code == 401
    assert response.text.startswith("OAuth authentication error: oauth_token is not accepted")


# -- 7. Stored header values are bounded -----------------------------------------------------


async def test_genesys_stores_no_megabyte_header(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for header in ("gkc_customerId", "gkc_agentId"):
        response = await client.put("/sessions/new", headers={header: "x" * 300})
        assert response.status_code == 400
        assert header in response.json()["description"]
    response = await client.put("/sessions/new?tenantId=" + "t" * 300)
    assert response.status_code == 400
    listed = await client.get("/admin/api/sessions", headers=admin_headers)
    assert listed.json()["sessions"] == []
    assert (await client.put("/sessions/new", headers={"gkc_customerId": "x" * 256})).is_success


# -- 6. Password checks: off the loop, throttled, the same cost for unknown users -------------


async def test_password_hashing_never_runs_on_the_event_loop(
    app: SessionHub, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from sessionhub.core import passwords  # noqa: PLC0415

    await Tenant(app, client).create()
    await app.clients.add_client("app-306", "s3cret-306", 306)
    threads: list[str] = []
    real = hashlib.scrypt

    def recording(*args: Any, **kwargs: Any) -> bytes:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(passwords.hashlib, "scrypt", recording)
    sign_on = "/ias/v3/token/actions/signOnByUserNamePassword"
    await asyncio.gather(
        *(
            client.post(sign_on, json={"username": u, "password": "x", "deviceId": "dev-1"})
            for u in ("ACME", "NOBODY")
        ),
        client.post(
            "/oauth-server/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("app-306", "wrong"),
        ),
    )
    # scrypt takes ~50 ms of CPU: on the loop's thread it would stall every other request.
    assert len(threads) >= 3
    assert all(name.startswith("password-check") for name in threads), threads


async def test_failed_sign_ons_are_throttled_per_account(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await Tenant(app, client).create()
    path = "/ias/v3/token/actions/signOnByUserNamePassword"
    wrong = {"username": "ACME", "password": "nope", "deviceId": "dev-1"}
    right = {"username": "ACME", "password": "s3cret", "deviceId": "dev-1"}
    for _ in range(10):
        assert error_of(await client.post(path, json=wrong))["errorCode"] == "SRM-0003"
    throttled = await client.post(path, json=right)
    assert throttled.status_code == 429
    assert error_of(throttled)["errorCode"] == "SRM-0018"
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    clock.advance(seconds=61)
    assert (await client.post(path, json=right)).status_code == 200


async def test_failed_client_secrets_are_throttled_at_the_token_endpoint(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await app.clients.add_client("app-306", "s3cret-306", 306)
    path = "/oauth-server/oauth/token"
    form = {"grant_type": "client_credentials"}
    for _ in range(10):
        assert (await client.post(path, data=form, auth=("app-306", "wrong"))).status_code == 401
    throttled = await client.post(path, data=form, auth=("app-306", "s3cret-306"))
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "temporarily_unavailable"
    assert "retry-after" in throttled.headers
    clock.advance(seconds=61)
    assert (await client.post(path, data=form, auth=("app-306", "s3cret-306"))).is_success


async def test_an_unknown_user_costs_one_hash_like_a_wrong_password(
    app: SessionHub, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib  # noqa: PLC0415

    from sessionhub.core import passwords  # noqa: PLC0415

    await Tenant(app, client).create()
    passwords.check_password("warm-up", None)  # the dummy hash is made once
    calls: list[int] = []
    real = hashlib.scrypt

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(passwords.hashlib, "scrypt", counting)
    path = "/ias/v3/token/actions/signOnByUserNamePassword"
    for username in ("ACME", "NOBODY"):
        calls.clear()
        body = {"username": username, "password": "wrong", "deviceId": "dev-1"}
        response = await client.post(path, json=body)
        assert error_of(response)["errorMessage"].startswith("Authentication failed")
        assert len(calls) == 1, username


# -- 9. Smaller edges ------------------------------------------------------------------------


async def test_a_stale_oauth1_timestamp_says_so(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    clock.set(time.time_ns() // 1_000_000)
    await app.consumers.add("partner-key", "partner-secret", ["GB"])
    oauth = Client(
        "partner-key", client_secret="partner-secret", timestamp=str(int(time.time()) - 3600)
    )
    url = "http://sessionhub.test/1.2/user/preview/log?country=GB"
    uri, headers, _ = oauth.sign(
        url, http_method="POST", headers={"Content-Type": "application/json"}
    )
    response = await client.post(uri, content=b'{"logs":[]}', headers=headers)
    assert response.status_code == 401
    assert "Timestamp" in response.text and "Invalid signature" not in response.text


@pytest.mark.parametrize("path", ["/1.2/user/subscription/log?userId=u", "/1.2/catalogue/log?"])
async def test_rate_limit_and_replay_errors_use_the_wrapped_envelope(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock, path: str
) -> None:
    clock.set(time.time_ns() // 1_000_000)
    await app.consumers.add("partner-key", "partner-secret", ["GB"])
    url = f"http://sessionhub.test{path}&country=GB"

    signed_at = str(int(time.time()))  # a replay repeats nonce and timestamp both

    async def send(nonce: str | None = None) -> httpx.Response:
        oauth = Client(
            "partner-key", client_secret="partner-secret", nonce=nonce, timestamp=signed_at
        )
        uri, headers, _ = oauth.sign(
            url, http_method="POST", headers={"Content-Type": "application/json"}
        )
        return await client.post(uri, content=b"{}", headers=headers)

    first = await send("nonce-1")
    replay = await send("nonce-1")
    # A replay is an OAuth failure, answered as every OAuth failure is (docs/compatibility.md).
    assert (replay.status_code, replay.text) == (
        401,
        "OAuth authentication error: Nonce has already been used",
    )
    answers = [await send() for _ in range(8)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited, [r.status_code for r in answers]
    body = limited[0].json()
    assert body["status"] == "error" and body["version"] == "1.2"
    assert body["error"]["code"] == 7001
    assert first.status_code == 400  # an empty batch: the request itself got through


async def test_outage_errors_name_the_failure_without_driver_text() -> None:
    from sessionhub.dialects.nagra.errors import render_error  # noqa: PLC0415
    from sessionhub.stores.sqlite_batch import unavailable  # noqa: PLC0415

    error = unavailable(OSError("disk I/O error at /var/lib/secret/path.db"))
    body = json.loads(render_error(error).body)["errorResponse"]
    assert body["errorCode"] == "SRM-0016"
    assert "secret" not in body["errorMessage"] and "database unavailable" in body["errorMessage"]


async def test_a_nul_character_in_a_query_or_an_id_is_a_4xx_everywhere(
    app: SessionHub, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """Rule 3. Found by schemathesis on PostgreSQL, which cannot hold or even compare a NUL:
    ``?value=%00`` on the visitor search was a 500. Every route that reads its query or an id
    from its path, each with a NUL, answers 400 or 404."""
    sid = await adobe_session(client)
    queries = [
        "/admin/api/visitors?kind=customer&value=a%00",
        "/admin/api/visitors?kind=%00&value=a",
        "/admin/api/sessions?account=%00",
        "/admin/api/sessions?before=%00",
        "/admin/api/sessions?api=a%00",
        "/admin/api/reports/plays?consumer=%00",
        "/admin/api/accounts?tenant=%00",
        "/sessions/s-1?tenantId=%00",
    ]
    ids = [
        "/admin/api/visitors/v%00",
        "/admin/api/sessions/s%00",
        "/admin/api/accounts/a%00",
        "/sessions/s%00",
        f"/api/v1/sessions/{sid}%00/events",
    ]
    for path in queries + ids:
        method = "POST" if path.endswith("/events") else "GET"
        body = event("ping", 2_000) if method == "POST" else None
        answer = await client.request(method, path, headers=admin_headers, json=body)
        assert answer.status_code in (400, 404), (path, answer.status_code, answer.text)
    refused = await client.get("/sessions/s-1?tenantId=%00")
    assert (refused.status_code, refused.json()["code"]) == (400, 400)  # Genesys' own shape
    # ... and in the identities an Adobe session start names (a 503 on PostgreSQL before)
    for name, value in (
        ("analytics.visitorId", "v\x00"),
        ("analytics.aid", "a\x00"),
        ("visitor.marketingCloudUserId", "e\x00"),
        ("visitor.customerIDs", {"crm": {"id": "c\x00", "authState": 1}}),
    ):
        started = await client.post("/api/v1/sessions", json=start(**{name: value}))
        assert started.status_code == 400, (name, started.text)
        assert "NUL" in started.json()["message"]
