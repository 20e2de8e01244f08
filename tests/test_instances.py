"""Three ``sessionhub serve`` processes sharing one PostgreSQL behave as one service."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from oauthlib.oauth1 import Client

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import SystemClock
from sessionhub.core.consumers import ConsumerService
from sessionhub.stores import store_for_url
from tests.conftest import redis_url_for
from tests.dialects.adobe.payloads import event, start
from tests.dialects.adobe.test_timeline1 import EXPECTED_QOE, TIMELINE_1
from tests.server import Server, running_server

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer e2e-admin-token-1234"}
VOD = {"content": {"contentID": "100001V3D", "contentType": "COD"}}


@pytest.fixture
def database(postgres_schema: str) -> str:
    return postgres_schema


@pytest.fixture(params=["database", "redis"])
def hot_state_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Where hot state (leases, admission, nonces, rate buckets) lives: the database, or Redis."""
    if request.param == "database":
        yield {}
        return
    for url in redis_url_for(request):
        yield {"SESSIONHUB_REDIS_URL": url}


@contextlib.contextmanager
def three_instances(url: str, **env: str) -> Iterator[list[Server]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(running_server(url, **env)) for _ in range(3)]


@contextlib.asynccontextmanager
async def clients(servers: list[Server]) -> AsyncIterator[list[httpx.AsyncClient]]:
    limits = httpx.Limits(max_connections=200)
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=s.url, timeout=60, limits=limits)
            )
            for s in servers
        ]


async def tenant(url: str, devices: int, limit: int) -> list[str]:
    store = store_for_url(url)
    await store.open()
    try:
        accounts = AccountService(store, SystemClock())
        await accounts.add_account("ACME", max_sessions=limit)
        await accounts.add_content("100001V3D", "COD")
        await accounts.entitle("ACME", "100001V3D")
        await asyncio.gather(*(accounts.add_device("ACME", f"d{i}") for i in range(devices)))
        issued = await asyncio.gather(
            *(accounts.issue_token("ACME", f"d{i}") for i in range(devices))
        )
        await ConsumerService(store, SystemClock()).add("partner", "partner-secret", ["GB"])
        return [token.token for token in issued]
    finally:
        await store.close()


async def test_one_service_across_three_instances(
    database: str, hot_state_env: dict[str, str]
) -> None:
    tokens = await tenant(database, 500, limit=5)
    with three_instances(database, **hot_state_env) as servers:
        async with clients(servers) as (a, b, c):
            spread = [a, b, c]

            # A session started on A is kept alive on B and ended on C.
            head = {"Client-Token": tokens[0]}
            sid = (await a.post("/srm/sessions", json=VOD, headers=head)).json()["successResponse"][
                "sessionId"
            ]
            assert (await b.put(f"/srm/sessions/{sid}", headers=head)).status_code == 200
            assert (await c.delete(f"/srm/sessions/{sid}", headers=head)).status_code == 200
            gone = await a.put(f"/srm/sessions/{sid}", headers=head)
            assert gone.json()["errorResponse"]["errorCode"] == "SRM-0013"

            # 500 concurrent setups spread over the three admit exactly 5, round after round.
            for _ in range(3):
                answers = await asyncio.gather(
                    *(
                        spread[i % 3].post(
                            "/srm/sessions", json=VOD, headers={"Client-Token": token}
                        )
                        for i, token in enumerate(tokens)
                    )
                )
                won = [
                    r.json()["successResponse"]["sessionId"]
                    for r in answers
                    if "successResponse" in r.json()
                ]
                assert len(won) == 5
                live = await b.get("/admin/api/accounts/ACME/sessions", headers=ADMIN)
                assert len(live.json()["sessions"]) == 5
                for session_id in won:
                    await c.delete(f"/admin/api/sessions/{session_id}", headers=ADMIN)

            # Adobe events for one session spread over all three make one timeline.
            t0 = int(time.time() * 1000)
            started = await a.post("/api/v1/sessions", json=start(ts=t0, **{"media.length": 60.3}))
            media_id = started.headers["location"].rsplit("/", 1)[1]
            for n, (second, playhead, kind, extra) in enumerate(TIMELINE_1):
                body = event(kind, t0 + second * 1000, playhead, **extra)
                posted = await spread[n % 3].post(f"/api/v1/sessions/{media_id}/events", json=body)
                assert posted.status_code == 204, posted.text
            detail = (await c.get(f"/admin/api/sessions/{media_id}", headers=ADMIN)).json()
            for name, expected in EXPECTED_QOE.items():
                assert detail["qoe"][name] == expected, name
            assert len(detail["events"]) == len(TIMELINE_1) + 1


async def test_play_log_rate_limit_holds_across_instances(
    database: str, hot_state_env: dict[str, str]
) -> None:
    await tenant(database, 0, limit=1)
    with three_instances(database, **hot_state_env) as servers:
        async with clients(servers) as spread:
            signer = Client("partner", client_secret="partner-secret")
            played = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
            body = {
                "logs": [
                    {
                        "userId": "u",
                        "country": "GB",
                        "trackId": 1,
                        "playMode": "online",
                        "dateTimePlayed": played,
                        "totalTimePlayed": 1,
                        "userAgent": "x",
                    }
                ]
            }

            async def send(i: int) -> httpx.Response:
                client = spread[i % 3]
                uri, headers, _ = signer.sign(
                    f"{str(client.base_url).rstrip('/')}/1.2/user/preview/log?country=GB",
                    http_method="POST",
                    headers={"Content-Type": "application/json"},
                )
                return await client.post(uri, content=json.dumps(body), headers=headers)

            started = time.monotonic()
            answers = await asyncio.gather(*(send(i) for i in range(15)))
            elapsed = time.monotonic() - started
            allowed = sum(r.status_code == 200 for r in answers)
            assert {r.status_code for r in answers} <= {200, 429}
            # a bucket of 5 refilled at 5/s: never more than 5 + what refilled meanwhile
            assert 5 <= allowed <= 5 + int(elapsed * 5)


async def test_each_lapsed_lease_is_ended_once_at_its_expiry(
    database: str, hot_state_env: dict[str, str]
) -> None:
    tokens = await tenant(database, 20, limit=50)
    env = {"SESSIONHUB_SRM_LEASE_TIMEOUT_S": "1", "SESSIONHUB_SWEEP_INTERVAL_S": "0.2"}
    store = store_for_url(database)
    await store.open()
    try:
        with three_instances(database, **env, **hot_state_env) as servers:
            async with clients(servers) as (a, _, _):
                answers = await asyncio.gather(
                    *(
                        a.post("/srm/sessions", json=VOD, headers={"Client-Token": t})
                        for t in tokens
                    )
                )
                ids = {r.json()["successResponse"]["sessionId"] for r in answers}
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    ended = await store.list_sessions(api="nagra", state="ended", limit=100)
                    if {record.id for record in ended} == ids:
                        break
                    await asyncio.sleep(0.2)
        for session_id in ids:
            record = await store.get_session(session_id)
            assert record is not None
            assert (record.live.state, record.live.end_reason) == ("ended", "expired")
            # ended at the instant the lease ran out: written by one sweeper, never re-ended
            assert record.live.ended_at == record.started_at + 1000
    finally:
        await store.close()


async def test_every_instance_shows_the_same_global_overview(
    database: str, hot_state_env: dict[str, str]
) -> None:
    """The dashboard's figures are the store's, not a process's: sessions started on each
    instance show on all three alike, and equal what the admin API lists."""
    tokens = await tenant(database, devices=4, limit=10)
    with three_instances(database, **hot_state_env) as servers:
        async with clients(servers) as (first, second, third):
            for client, token in zip((first, second, third), tokens, strict=False):
                answer = await client.post(
                    "/srm/sessions", json=VOD, headers={"Client-Token": token}
                )
                assert "successResponse" in answer.json()
            for client in (first, second, third, third):
                assert (await client.post("/api/v1/sessions", json=start())).status_code == 201
            listed = await first.get("/admin/api/sessions?state=active&limit=1000", headers=ADMIN)
            by_api: dict[str, int] = {}
            for session in listed.json()["sessions"]:
                by_api[session["api"]] = by_api.get(session["api"], 0) + 1
            assert by_api == {"nagra": 3, "adobe": 4}
            seen = []
            deadline = time.monotonic() + 10
            for client in (first, second, third):
                await client.post("/admin/login", data={"token": "e2e-admin-token-1234"})
                while True:  # each instance writes its minute counts every second
                    overview = (await client.get("/admin/overview.json")).json()
                    starts = sum(sum(series) for series in overview["starts"].values())
                    if starts == 7 or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.2)
                seen.append((overview["active"], starts))
            expected = {"adobe": 4, "nagra": 3, "icecast": 0, "genesys": 0, "nuance": 0}
            assert seen == [(expected, 7)] * 3
