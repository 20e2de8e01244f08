"""A segment check is bound to the device that set the session up, by default: a live session
id alone (a shared link) is refused, so are other devices' tokens; the device's own token
passes by header, query or cookie. The unbound mode is an explicit setting (issue 20, item 3).
The real nginx does the same in tests/conformance/test_nginx.py."""

from __future__ import annotations

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from tests.dialects.nagra.tenant import Tenant
from tests.streaming.hubs import hub_with

AUTH = "/streaming/nginx/auth"
SEGMENT = "/hls/100001V3D/720p/seg-00042.ts"


async def ask(client: httpx.AsyncClient, uri: str, **headers: str) -> tuple[int, str]:
    response = await client.get(AUTH, headers={"X-Original-URI": uri, **headers})
    return response.status_code, response.headers.get("x-sessionhub-reason", "")


async def test_a_session_id_alone_serves_nobody(app: SessionHub, client: httpx.AsyncClient) -> None:
    tenant = await Tenant(app, client).create(limit=1)
    sid = await tenant.start("dev-1")
    link = f"{SEGMENT}?sessionId={sid}"
    for _ in range(50):
        assert await ask(client, link) == (
            401,
            "the session is bound to its device: send its Client-Token",
        )
    assert (await ask(client, SEGMENT, Cookie=f"sessionId={sid}"))[0] == 401


async def test_only_the_sessions_own_device_token_passes(
    app: SessionHub, client: httpx.AsyncClient
) -> None:
    tenant = await Tenant(app, client).create(limit=2)
    sid = await tenant.start("dev-1")
    own, sibling = tenant.tokens["dev-1"], tenant.tokens["dev-2"]
    link = f"{SEGMENT}?sessionId={sid}"
    assert await ask(client, link, **{"Client-Token": own}) == (200, "")
    assert await ask(client, f"{link}&token={own}") == (200, "")
    assert await ask(client, SEGMENT, Cookie=f"sessionId={sid}; token={own}") == (200, "")
    assert await ask(client, link, **{"Client-Token": sibling}) == (
        403,
        "the token is another device's",
    )
    assert await ask(client, f"{link}&token=forged") == (401, "Client-Token is not valid")
    # the sibling's own session passes with its own token, not with the first device's
    other = await tenant.start("dev-2")
    assert await ask(client, f"{SEGMENT}?sessionId={other}&token={sibling}") == (200, "")
    assert (await ask(client, f"{SEGMENT}?sessionId={other}&token={own}"))[0] == 403


@pytest.mark.parametrize("configuration", ["sqlite"], indirect=True)
async def test_the_unbound_mode_is_an_explicit_setting(
    configuration: dict[str, str], clock: ManualClock
) -> None:
    async with hub_with(clock, streaming_binding="session", **configuration) as (hub, client):
        tenant = await Tenant(hub, client).create(limit=1)
        sid = await tenant.start("dev-1")
        assert await ask(client, f"{SEGMENT}?sessionId={sid}") == (200, "")
        other_account_token = "forged"
        assert (await ask(client, f"{SEGMENT}?sessionId={sid}&token={other_account_token}"))[
            0
        ] == 401


async def test_a_revoked_token_is_refused_within_the_token_memory(
    app: SessionHub, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    from sessionhub.core.delivery import TOKEN_MEMORY_MS  # noqa: PLC0415

    tenant = await Tenant(app, client).create(limit=2, lease_s=3600)
    sid = await tenant.start("dev-1")
    own = tenant.tokens["dev-1"]
    link = f"{SEGMENT}?sessionId={sid}&token={own}"
    assert await ask(client, link) == (200, "")
    assert await app.accounts.revoke_token(own)
    clock.advance(ms=TOKEN_MEMORY_MS + 1)
    assert await ask(client, link) == (401, "Client-Token is not valid")
