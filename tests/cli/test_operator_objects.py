"""Every object an operator creates can be listed, shown and disabled or removed from the CLI,
and ``--json`` / ``show`` print the admin API's shapes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from sessionhub.app import SessionHub
from sessionhub.cli import main
from sessionhub.settings import Settings
from tests.conftest import ADMIN_TOKEN


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SESSIONHUB_DATABASE_URL", url)
    return url


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code != 0
    return result.output


def on_server(database: str, path: str, method: str = "GET", **request: Any) -> httpx.Response:
    """One request to an app on ``database``, through the real ASGI interface."""

    async def send() -> httpx.Response:
        hub = SessionHub(Settings.from_env({}, database_url=database, admin_token=ADMIN_TOKEN))
        await hub.startup(sweep=False)
        try:
            transport = httpx.ASGITransport(app=hub)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.request(method, path, **request)
        finally:
            await hub.shutdown()

    return asyncio.run(send())


def admin_get(database: str, path: str) -> Any:
    response = on_server(database, path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_clients_are_listed_shown_and_disabled(database: str) -> None:
    cli("clients", "add", "app-306", "--secret", "long-secret", "--site", "306")
    assert "app-306  306   enabled" in cli("clients", "list")
    shown = json.loads(cli("clients", "show", "app-306"))
    assert shown == {
        "client_id": "app-306",
        "site_id": 306,
        "created_at": shown["created_at"],
        "enabled": True,
        "tenant": "default",
    }
    assert "secret" not in cli("clients", "list", "--json")
    cli("clients", "disable", "app-306")
    assert json.loads(cli("clients", "list", "--json"))["clients"][0]["enabled"] is False
    assert "not found" in refused("clients", "disable", "nobody")


def test_consumers_are_listed_shown_and_disabled(database: str) -> None:
    cli("consumers", "add", "partner", "--secret", "partner-secret", "--countries", "GB,US")
    assert "partner  GB,US      enabled" in cli("consumers", "list")
    assert "partner-secret" not in cli("consumers", "show", "partner")
    cli("consumers", "disable", "partner")
    assert json.loads(cli("consumers", "show", "partner"))["enabled"] is False
    cli("consumers", "enable", "partner")
    assert json.loads(cli("consumers", "list", "--json"))["consumers"][0]["enabled"] is True


def test_content_devices_and_tokens(database: str) -> None:
    cli("accounts", "add", "ACME")
    cli("content", "add", "100001V3D", "COD")
    cli("entitle", "ACME", "100001V3D")
    assert json.loads(cli("content", "show", "100001V3D")) == {
        "content_id": "100001V3D",
        "content_type": "COD",
    }
    cli("devices", "add", "ACME", "stb-1")
    assert json.loads(cli("devices", "show", "ACME", "stb-1"))["enabled"] is True
    assert (
        json.loads(cli("devices", "list", "ACME", "--json"))["devices"][0]["device_id"] == "stb-1"
    )
    token = cli("tokens", "issue", "ACME", "stb-1").strip()
    listed = json.loads(cli("tokens", "list", "ACME", "--json"))["tokens"]
    assert [(t["device_id"], t["revoked"]) for t in listed] == [("stb-1", False)]
    assert token not in cli("tokens", "list", "ACME")
    cli("tokens", "revoke", "ACME")
    assert json.loads(cli("tokens", "list", "ACME", "--json"))["tokens"][0]["revoked"] is True
    cli("content", "remove", "100001V3D")
    assert json.loads(cli("accounts", "show", "ACME"))["entitlements"] == []
    assert "not found" in refused("content", "show", "100001V3D")


def test_accounts_and_visitors_print_the_admin_apis_shapes(database: str) -> None:
    cli("accounts", "add", "ACME", "--password", "s3cret-pass")
    cli("devices", "add", "ACME", "stb-1")
    assert json.loads(cli("accounts", "show", "ACME")) == admin_get(
        database, "/admin/api/accounts/ACME"
    )
    # the same shapes as the API, lists included (issue 22 item 3: they were bare lists)
    assert json.loads(cli("accounts", "list", "--json")) == admin_get(
        database, "/admin/api/accounts"
    )
    assert json.loads(cli("content", "list", "--json")) == admin_get(database, "/admin/api/content")

    on_server(database, "/sessions/new", "PUT", headers={"gkc_customerId": "CRM-42"})
    shown = json.loads(cli("visitors", "show", "--kind", "customer", "--value", "CRM-42"))
    assert shown == admin_get(database, "/admin/api/visitors?kind=customer&value=CRM-42")
    assert shown["identities"] == [{"kind": "customer", "value": "CRM-42"}]


def test_operators_and_the_audit_log_by_cli(database: str) -> None:
    """Issue 22 item 8: people are added, listed and revoked from the command line, the token
    prints once, and what the CLI ends is in the audit log as ``cli:<user>``, as the API shows."""
    import getpass  # noqa: PLC0415

    printed = cli("operators", "add", "alice", "--role", "admin").strip()
    assert len(printed) >= 40  # the token, and nothing else on standard output
    listed = json.loads(cli("operators", "list", "--json"))["operators"]
    assert [(p["name"], p["role"], p["revoked_at"]) for p in listed] == [("alice", "admin", None)]
    assert printed not in cli("operators", "list") and "token_hash" not in str(listed)

    new = on_server(database, "/sessions/new", "PUT")
    sid = f"genesys:{new.json()['sessionId']}"
    cli("sessions", "end", sid)
    cli("operators", "revoke", "alice")
    assert "No operator alice" in refused("operators", "revoke", "alice")
    entries = json.loads(cli("audit", "--json"))
    assert entries == admin_get(database, "/admin/api/audit")
    me = f"cli:{getpass.getuser()}"
    assert [(e["actor"], e["action"], e["target"]) for e in entries["entries"]] == [
        (me, "operator-revoked", "alice"),
        (me, "end-session", sid),
        (me, "operator-added", "alice (admin)"),
    ]
