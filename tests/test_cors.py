"""CORS on every vendor API a browser calls (sessionhub.cors), through the real ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.settings import Settings

PAGE = "https://player.example"
# One path of every vendor API, with the method a page would call it with.
PATHS = [
    ("POST", "/api/v1/sessions"),
    ("POST", "/srm/sessions"),
    ("PUT", "/srm/v1/sessions/abc"),
    ("POST", "/ias/v3/token/actions/signOnByUserNamePassword"),
    ("PUT", "/sessions/new"),
    ("POST", "/gks-server/v1/sessions/abc"),
    ("POST", "/oauth-server/oauth/token"),
    ("POST", "/tagserver/v1/dataCollection/startSession"),
    ("POST", "/1.2/user/preview/log"),
]


async def app_with(tmp_path: Path, **settings: str) -> AsyncIterator[httpx.AsyncClient]:
    hub = SessionHub(
        Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'c.db'}", **settings)
    )
    await hub.startup(sweep=False)
    transport = httpx.ASGITransport(app=hub)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client
    await hub.shutdown()


@pytest.fixture
async def any_origin(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_with(tmp_path):
        yield client


@pytest.fixture
async def named_origins(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_with(tmp_path, cors_origins=f"{PAGE}, https://other.example"):
        yield client


def preflight(method: str, headers: str = "content-type") -> dict[str, str]:
    return {
        "origin": PAGE,
        "access-control-request-method": method,
        "access-control-request-headers": headers,
    }


@pytest.mark.parametrize(("method", "path"), PATHS)
async def test_every_vendor_path_answers_a_preflight(
    any_origin: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await any_origin.options(path, headers=preflight(method, "client-token"))
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert method in response.headers["access-control-allow-methods"].split(",")
    assert "access-control-allow-credentials" not in response.headers
    if not path.startswith("/api/v1"):  # (Adobe answers with its page's own headers)
        assert response.headers["access-control-allow-headers"] == "client-token"


async def test_answers_carry_the_origin_and_errors_too(any_origin: httpx.AsyncClient) -> None:
    response = await any_origin.post("/srm/sessions", json={}, headers={"origin": PAGE})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "*"


async def test_named_origins_are_answered_by_name_with_credentials(
    named_origins: httpx.AsyncClient,
) -> None:
    response = await named_origins.options("/srm/sessions", headers=preflight("POST"))
    assert response.headers["access-control-allow-origin"] == PAGE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"
    stranger = {**preflight("POST"), "origin": "https://evil.example"}
    refused = await named_origins.options("/srm/sessions", headers=stranger)
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-credentials" not in refused.headers
    answer = await named_origins.put("/sessions/new", headers={"origin": PAGE})
    assert answer.headers["access-control-allow-origin"] == PAGE


async def test_the_operator_api_and_unknown_paths_take_no_cors(
    any_origin: httpx.AsyncClient,
) -> None:
    admin = await any_origin.options("/admin/api/sessions", headers=preflight("GET"))
    assert "access-control-allow-origin" not in admin.headers
    unknown = await any_origin.options("/srm/nothing-here", headers=preflight("POST"))
    assert unknown.status_code == 404
