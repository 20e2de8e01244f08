"""``/streaming/icecast/auth`` (Icecast URL authentication) through the real ASGI app, on every
configuration, with the form fields Icecast 2.4 posts. The real Icecast is in
tests/conformance/test_icecast.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from sessionhub.core.origin import CLIENT, MOUNT, SERVER
from sessionhub.settings import Settings, SettingsError
from tests.conftest import ADMIN_TOKEN
from tests.dialects.nagra.tenant import Tenant
from tests.streaming.hubs import hub_with

AUTH = "/streaming/icecast/auth"
KEY = "icecast-key-0123456789abcdef"
ICECAST = ("icecast", KEY)  # the shipped config's username/password options: basic auth


@pytest.fixture
def settings(configuration: dict[str, str]) -> Settings:
    return Settings.from_env(
        {}, admin_token=ADMIN_TOKEN, streaming_icecast=True, streaming_key=KEY, **configuration
    )


@pytest.fixture
async def tenant(app: SessionHub, client: httpx.AsyncClient) -> Tenant:
    tenant = await Tenant(app, client).create(limit=2, policy="deny")
    await app.accounts.add_content("radio", "LIVE")
    await app.accounts.entitle("ACME", "radio")
    return tenant


def form(action: str, client_id: int, mount: str = "/radio", **fields: str) -> dict[str, Any]:
    return {
        "action": action,
        "server": "icecast.example",
        "port": "8000",
        "client": str(client_id),
        "mount": mount,
        "user": "",
        "pass": "",
        "ip": "192.0.2.7",
        "agent": "VLC/3.0",
        **fields,
    }


async def post(client: httpx.AsyncClient, data: dict[str, Any]) -> httpx.Response:
    return await client.post(AUTH, data=data, auth=ICECAST)


def admitted(response: httpx.Response) -> bool:
    return response.headers.get("icecast-auth-user") == "1"


async def live(app: SessionHub) -> list[str]:
    return [s.id for s in await app.sessions.list(account_id="ACME", state="active")]


async def by_client(app: SessionHub) -> dict[str, Any]:
    """The account's sessions, live or ended, by Icecast client id."""
    found = await app.sessions.list(account_id="ACME")
    return {session.params[CLIENT]: session for session in found}


async def test_listeners_by_token_are_admitted_up_to_the_limit_and_freed_on_disconnect(
    tenant: Tenant, client: httpx.AsyncClient, app: SessionHub
) -> None:
    mounts = [f"/radio?token={quote(tenant.tokens[f'dev-{n}'])}" for n in (1, 2, 3)]
    assert admitted(await post(client, form("listener_add", 1, mounts[0])))
    assert admitted(await post(client, form("listener_add", 2, mounts[1])))
    refused = await post(client, form("listener_add", 3, mounts[2]))
    assert not admitted(refused) and refused.status_code == 403
    assert "Session Limit Reached" in refused.headers["icecast-auth-message"]
    first = (await by_client(app))["1"]
    assert first.params[SERVER] == "icecast.example:8000"
    assert (first.params[MOUNT], first.params[CLIENT]) == ("/radio", "1")
    assert first.params["contentID"] == "radio" and first.device_id == "dev-1"
    assert first.expires_at is None  # the connection is the lease

    removed = await post(client, form("listener_remove", 1, mounts[0], duration="42"))
    assert removed.status_code == 200
    ended = (await by_client(app))["1"]
    assert (ended.state, ended.end_reason) == ("ended", "disconnected")
    assert admitted(await post(client, form("listener_add", 3, mounts[2])))
    # a second removal of the same connection, or of one never admitted, changes nothing
    assert (await post(client, form("listener_remove", 1, mounts[0]))).status_code == 200
    assert (await post(client, form("listener_remove", 9, mounts[0]))).status_code == 200
    assert len(await live(app)) == 2


async def test_listeners_by_username_and_password_are_each_a_device(
    tenant: Tenant, client: httpx.AsyncClient, app: SessionHub
) -> None:
    basic = {"user": "ACME", "pass": "s3cret"}
    assert admitted(await post(client, form("listener_add", 11, **basic)))
    assert admitted(await post(client, form("listener_add", 12, **basic)))
    assert not admitted(await post(client, form("listener_add", 13, **basic)))
    wrong = await post(client, form("listener_add", 14, user="ACME", **{"pass": "nope"}))
    assert not admitted(wrong) and wrong.status_code == 401
    await post(client, form("listener_remove", 11, **basic))
    # ?device= names a registered device instead; an unknown one is refused
    assert admitted(await post(client, form("listener_add", 15, "/radio?device=dev-4", **basic)))
    unknown = await post(client, form("listener_add", 16, "/radio?device=tv-9", **basic))
    assert not admitted(unknown) and unknown.status_code == 403


async def test_refusals_reach_icecast_as_a_missing_header_with_a_message(
    tenant: Tenant, client: httpx.AsyncClient, app: SessionHub
) -> None:
    token = quote(tenant.tokens["dev-1"])
    cases = {
        "no credentials": form("listener_add", 21),
        "not entitled": form("listener_add", 22, f"/OTHER?token={token}"),
        "no such content": form("listener_add", 23, f"/jazz?token={token}"),
        "bad token": form("listener_add", 24, "/radio?token=forged"),
        "no client": form("listener_add", 25, f"/radio?token={token}", client=""),
    }
    for name, data in cases.items():
        response = await post(client, data)
        assert not admitted(response), name
        assert response.headers["icecast-auth-message"], name
    assert await live(app) == []
    assert (await post(client, form("listener_dance", 26))).status_code == 400


async def test_an_eviction_or_replacement_is_reported_for_disconnection(
    tenant: Tenant, client: httpx.AsyncClient, app: SessionHub, clock: ManualClock
) -> None:
    """At the limit with evict-oldest, the oldest listener's session ends ``evicted``; the
    same token connecting again replaces its own first connection. (Disconnecting them from
    Icecast is proven against a real Icecast.)"""
    await app.accounts.update_account("ACME", policy="evict-oldest")
    token = quote(tenant.tokens["dev-1"])
    assert admitted(await post(client, form("listener_add", 31, f"/radio?token={token}")))
    assert admitted(await post(client, form("listener_add", 32, f"/radio?token={token}")))
    assert (await by_client(app))["31"].end_reason == "replaced"
    other = quote(tenant.tokens["dev-2"])
    clock.advance(seconds=1)
    assert admitted(await post(client, form("listener_add", 33, f"/radio?token={other}")))
    clock.advance(seconds=1)
    third = quote(tenant.tokens["dev-3"])
    assert admitted(await post(client, form("listener_add", 34, f"/radio?token={third}")))
    ended = await by_client(app)
    assert (ended["32"].end_reason, ended["33"].end_reason) == ("evicted", None)


async def test_a_source_starting_anew_ends_the_sessions_of_earlier_listeners(
    tenant: Tenant, client: httpx.AsyncClient, app: SessionHub
) -> None:
    """An Icecast that crashed never reports its listeners gone; when it is back and the source
    reconnects, ``mount_add`` ends their sessions and frees the slots. Only that server's and
    that mount's listeners: SRM players and other mounts keep theirs."""
    token = quote(tenant.tokens["dev-1"])
    assert admitted(await post(client, form("listener_add", 41, f"/radio?token={token}")))
    other_mount = form("listener_add", 42, f"/radio?token={quote(tenant.tokens['dev-2'])}")
    other_mount["port"] = "9000"  # the same mount on another Icecast
    assert admitted(await post(client, other_mount))
    assert len(await live(app)) == 2
    restart = {"action": "mount_add", "server": "icecast.example", "port": "8000"}
    assert (await post(client, {**restart, "mount": "/radio"})).status_code == 200
    sessions = await by_client(app)
    assert (sessions["41"].state, sessions["41"].end_reason) == ("ended", "disconnected")
    assert sessions["42"].state == "active"
    assert (
        await post(client, {**restart, "action": "mount_remove", "port": "9000", "mount": "/radio"})
    ).status_code == 200
    assert await live(app) == []


@pytest.mark.parametrize("configuration", ["sqlite"], indirect=True)
async def test_only_the_operators_icecast_may_call(
    configuration: dict[str, str], clock: ManualClock
) -> None:
    """Without the key nobody can admit, report gone or restart listeners; with it (as basic
    authentication's password, or ``?key=``), Icecast can."""
    async with hub_with(clock, streaming_key=KEY, streaming_icecast=True, **configuration) as (
        hub,
        client,
    ):
        tenant = await Tenant(hub, client).create()
        await hub.accounts.add_content("radio", "LIVE")
        await hub.accounts.entitle("ACME", "radio")
        data = form("listener_add", 1, f"/radio?token={quote(tenant.tokens['dev-1'])}")
        for url, auth in ((AUTH, None), (f"{AUTH}?key=wrong", None), (AUTH, ("icecast", "no"))):
            refused = await client.post(url, data=data, auth=auth)
            assert refused.status_code == 403 and not admitted(refused)
        restart = {"action": "mount_add", "server": "icecast.example", "port": "8000"}
        assert (await client.post(AUTH, data={**restart, "mount": "/radio"})).status_code == 403
        assert (
            await client.post(AUTH, data=data, headers={"Authorization": "Basic !!"})
        ).status_code == 403
        assert admitted(await client.post(AUTH, data=data, auth=ICECAST))
        data = form("listener_add", 2, f"/radio?token={quote(tenant.tokens['dev-2'])}")
        assert admitted(await client.post(f"{AUTH}?key={KEY}", data=data))


@pytest.mark.parametrize("configuration", ["sqlite"], indirect=True)
async def test_the_icecast_endpoint_is_off_unless_turned_on_and_never_without_a_key(
    configuration: dict[str, str], clock: ManualClock
) -> None:
    async with hub_with(clock, **configuration) as (_, client):
        off = await client.post(AUTH, data=form("mount_add", 1))
        assert off.status_code == 404
    with pytest.raises(SettingsError, match="STREAMING_ICECAST needs SESSIONHUB_STREAMING_KEY"):
        Settings.from_env({"SESSIONHUB_STREAMING_ICECAST": "true"})
