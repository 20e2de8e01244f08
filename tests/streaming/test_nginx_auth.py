"""``/streaming/nginx/auth`` (nginx ``auth_request``) through the real ASGI app, on every
configuration: segments of a live SRM session pass; teardown, eviction, replacement, expiry,
other content, another account's token, no session at all are refused."""

from __future__ import annotations

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from sessionhub.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.dialects.nagra.tenant import VOD, Tenant
from tests.streaming.hubs import hub_with

AUTH = "/streaming/nginx/auth"
SEGMENT = "/hls/100001V3D/720p/seg-00042.ts"


@pytest.fixture
def settings(configuration: dict[str, str]) -> Settings:
    """The unbound mode (a live session id is enough): what these tests check is the lease;
    tests/security/test_shared_links.py checks the default, bound to the device."""
    return Settings.from_env(
        {}, admin_token=ADMIN_TOKEN, streaming_binding="session", **configuration
    )


@pytest.fixture
async def tenant(app: SessionHub, client: httpx.AsyncClient) -> Tenant:
    return await Tenant(app, client).create(limit=2, policy="evict-oldest", lease_s=30)


async def ask(client: httpx.AsyncClient, uri: str, **headers: str) -> tuple[int, str]:
    response = await client.get(AUTH, headers={"X-Original-URI": uri, **headers})
    return response.status_code, response.headers.get("x-sessionhub-reason", "")


async def test_a_live_session_gets_its_segments_by_query_or_cookie(
    tenant: Tenant, client: httpx.AsyncClient
) -> None:
    sid = await tenant.start("dev-1")
    assert await ask(client, f"{SEGMENT}?sessionId={sid}") == (200, "")
    assert await ask(client, f"/hls/100001V3D/index.m3u8?x=1&sessionId={sid}") == (200, "")
    assert await ask(client, SEGMENT, Cookie=f"sessionId={sid}") == (200, "")
    # the device's own token passes; HEAD (a player probing) is answered like GET
    token = tenant.tokens["dev-1"]
    headers = {"Client-Token": token}
    assert await ask(client, f"{SEGMENT}?sessionId={sid}", **headers) == (200, "")
    assert await ask(client, f"{SEGMENT}?sessionId={sid}&token={token}") == (200, "")
    head = await client.head(AUTH, headers={"X-Original-URI": f"{SEGMENT}?sessionId={sid}"})
    assert head.status_code == 200


async def test_every_way_a_session_ends_refuses_its_next_segment(
    tenant: Tenant, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    torn = await tenant.start("dev-1")
    assert (await client.delete(f"/srm/sessions/{torn}", headers=tenant.auth("dev-1"))).is_success
    assert await ask(client, f"{SEGMENT}?sessionId={torn}") == (403, "session ended: teardown")

    replaced = await tenant.start("dev-2")
    await tenant.start("dev-2")  # the same device starts something else
    assert await ask(client, f"{SEGMENT}?sessionId={replaced}") == (
        403,
        "session ended: replaced",
    )

    clock.advance(seconds=1)
    oldest = await tenant.start("dev-3")  # dev-2's second and dev-3's: the limit of 2
    clock.advance(seconds=1)
    await tenant.start("dev-4")  # evicts the oldest live one (dev-2's)
    clock.advance(seconds=1)
    await tenant.start("dev-1")  # evicts dev-3's
    assert await ask(client, f"{SEGMENT}?sessionId={oldest}") == (403, "session ended: evicted")

    lapsing = await tenant.start("dev-2")
    assert (await ask(client, f"{SEGMENT}?sessionId={lapsing}"))[0] == 200
    clock.advance(seconds=30)  # no keep-alive for a whole lease
    assert await ask(client, f"{SEGMENT}?sessionId={lapsing}") == (403, "session ended: expired")


async def test_refusals_say_why(tenant: Tenant, client: httpx.AsyncClient) -> None:
    sid = await tenant.start("dev-1")
    assert await ask(client, SEGMENT) == (401, "no session id")
    assert await ask(client, f"{SEGMENT}?sessionId=no-such-session") == (403, "unknown session")
    assert await ask(client, f"/hls/BTV_CH1_V/seg1.ts?sessionId={sid}") == (
        403,
        "the session plays other content than BTV_CH1_V",
    )
    # a dot segment never climbs from a covered folder into another content's
    assert await ask(client, f"/hls/100001V3D/../BTV_CH1_V/seg1.ts?sessionId={sid}") == (
        403,
        "the path serves no known content",
    )
    assert await ask(client, f"/hls/seg1.ts?sessionId={sid}") == (
        403,
        "the path serves no known content",
    )
    assert await ask(client, f"{SEGMENT}?sessionId={sid}&token=not-a-token") == (
        401,
        "Client-Token is not valid",
    )
    accounts = tenant.app.accounts
    await accounts.add_account("OTHER", max_sessions=1, policy="deny", lease_timeout_s=None)
    await accounts.add_device("OTHER", "tv")
    stranger = (await accounts.issue_token("OTHER", "tv")).token
    assert await ask(client, f"{SEGMENT}?sessionId={sid}", **{"Client-Token": stranger}) == (
        403,
        "the token is another account's",
    )
    missing = await client.get(AUTH)
    assert missing.status_code == 400 and "X-Original-URI" in missing.text
    # a reason naming a path never carries a line break into a header
    status, reason = await ask(client, f"/hls/a%0d%0aSet-Cookie:x/s.ts?sessionId={sid}")
    assert status == 403 and "\r" not in reason and "\n" not in reason


@pytest.mark.parametrize("configuration", ["sqlite"], indirect=True)
async def test_with_a_streaming_key_only_the_operators_servers_may_ask(
    configuration: dict[str, str], clock: ManualClock
) -> None:
    rules = "/live/news/=BTV_CH1_V,/hls/{contentID}/"
    key = {"X-Sessionhub-Key": "k" * 32}
    async with hub_with(
        clock,
        streaming_key="k" * 32,
        streaming_content=rules,
        streaming_session_name="srm",
        streaming_binding="session",
        **configuration,
    ) as (hub, client):
        tenant = await Tenant(hub, client).create()
        live = {"content": {"contentID": "BTV_CH1_V", "contentType": "LIVE"}}
        sid = await tenant.start("dev-1", live)
        uri = f"/live/news/index.m3u8?srm={sid}"
        assert (await ask(client, uri))[0] == 403
        assert (await ask(client, uri, **{"X-Sessionhub-Key": "wrong"}))[0] == 403
        assert await ask(client, uri, **key) == (200, "")
        vod = await tenant.start("dev-2", VOD)
        assert await ask(client, f"/hls/100001V3D/a.ts?srm={vod}", **key) == (200, "")


@pytest.mark.parametrize("configuration", ["sqlite", "postgresql+redis"], indirect=True)
async def test_an_end_decided_by_another_instance_is_seen_within_the_cache_time(
    configuration: dict[str, str], clock: ManualClock
) -> None:
    """Each process remembers a live lease for SESSIONHUB_STREAMING_CACHE_MS (1 s): an end
    decided by this process is seen at once, one decided by another instance within 1 s; with
    0, every check asks the keeper."""
    async with (
        hub_with(clock, streaming_cache_ms=1000, streaming_binding="session", **configuration) as (
            first,
            a,
        ),
        hub_with(clock, streaming_cache_ms=1000, streaming_binding="session", **configuration) as (
            _,
            b,
        ),
        hub_with(clock, streaming_cache_ms=0, streaming_binding="session", **configuration) as (
            _,
            c,
        ),
    ):
        tenant = await Tenant(first, a).create()
        sid = await tenant.start("dev-1")
        uri = f"{SEGMENT}?sessionId={sid}"
        assert [(await ask(x, uri))[0] for x in (a, b, c)] == [200, 200, 200]
        assert (await a.delete(f"/srm/sessions/{sid}", headers=tenant.auth("dev-1"))).is_success
        assert (await ask(a, uri))[0] == 403  # decided here: at once
        assert (await ask(c, uri))[0] == 403  # no memory: at once
        assert (await ask(b, uri))[0] == 200  # B still remembers it live...
        clock.advance(seconds=1)
        assert await ask(b, uri) == (403, "session ended: teardown")  # ...for 1 s at most
