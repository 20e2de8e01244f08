"""The access log of a real ``sessionhub serve``: one JSON line per request, a request id in and
out, and never a secret, whatever the request carried."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from oauthlib.oauth1 import Client as OAuth1Client

from sessionhub.core.accounts import AccountService
from sessionhub.core.clients import ClientService
from sessionhub.core.clock import SystemClock
from sessionhub.core.consumers import ConsumerService
from sessionhub.stores import store_for_url
from tests.dialects.adobe.payloads import start
from tests.server import running_server

ADMIN_TOKEN = "e2e-admin-token-1234"  # what running_server sets
PASSWORD = "account-password-5f3a"
CLIENT_SECRET = "nuance-client-secret-9d1c"
CONSUMER_SECRET = "consumer-secret-77b2"
FIELDS = {"time", "method", "route", "status", "duration_ms", "dialect", "request_id"}


async def _provision(url: str) -> str:
    """An SRM account with a password and a device; a Nuance client; a 7digital consumer.
    Returns the device's Client-Token."""
    store = store_for_url(url)
    await store.open()
    try:
        clock = SystemClock()
        accounts = AccountService(store, clock)
        await accounts.add_account("ACME", max_sessions=2, password=PASSWORD)
        await accounts.add_content("100001V3D", "COD")
        await accounts.entitle("ACME", "100001V3D")
        await accounts.add_device("ACME", "dev-1")
        await ClientService(store, clock).add_client("nuance-client", CLIENT_SECRET, 10004470)
        await ConsumerService(store, clock).add("partner-key", CONSUMER_SECRET, ["GB"])
        return (await accounts.issue_token("ACME", "dev-1")).token
    finally:
        await store.close()


async def test_one_json_line_per_request_with_its_id_and_no_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    client_token = await _provision(url)
    log_path = tmp_path / "access.log"
    with (
        log_path.open("wb") as log,
        running_server(url, stdout=log, SESSIONHUB_LOG_FORMAT="json") as server,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            sign_on = await client.post(
                "/ias/v3/token/actions/signOnByUserNamePassword",
                json={"username": "ACME", "password": PASSWORD, "deviceId": "dev-1"},
            )
            issued = sign_on.json()["access_token"]
            setup = await client.post(
                "/srm/sessions?token=" + client_token,  # a secret in the query, too
                json={"content": {"contentID": "100001V3D", "contentType": "COD"}},
                headers={"Client-Token": client_token},
            )
            sid = setup.json()["successResponse"]["sessionId"]
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            await client.get(f"/admin/api/sessions/{sid}", headers=admin)
            oauth2 = await client.post(
                "/oauth-server/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=("nuance-client", CLIENT_SECRET),
            )
            bearer = oauth2.json()["access_token"]
            signer = OAuth1Client("partner-key", client_secret=CONSUMER_SECRET)
            signed_url, _, _ = signer.sign(f"{server.url}/1.2/user/playlog?userId=u1")
            await client.get(signed_url)
            traced = await client.post(
                "/api/v1/sessions", json=start(), headers={"X-Request-ID": "trace-abc.123"}
            )
            hostile = await client.get("/healthz", headers={"X-Request-ID": "a b\\c" * 30})
            await client.get(f"/no/such/{sid}/path")

    assert traced.headers["x-request-id"] == "trace-abc.123"
    replaced = hostile.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", replaced)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert all(set(line) == FIELDS for line in lines)
    assert len(lines) >= 9
    by_id = {line["request_id"]: line for line in lines}
    assert by_id["trace-abc.123"]["route"] == "/api/v1/sessions"
    assert by_id["trace-abc.123"]["dialect"] == "adobe"
    assert by_id[replaced]["dialect"] == "health"
    routes = {line["route"] for line in lines}
    assert "/admin/api/sessions/{session_id}" in routes
    assert "unmatched" in routes  # a path no route serves is not written out

    text = log_path.read_text()
    for secret in (ADMIN_TOKEN, PASSWORD, CLIENT_SECRET, CONSUMER_SECRET, client_token, issued):
        assert secret not in text
    assert bearer not in text and sid not in text and "oauth_signature" not in text
