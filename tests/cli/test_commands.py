"""The CLI against a real SQLite file, through click's runner."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sessionhub.cli import main
from sessionhub.core.clock import SystemClock
from sessionhub.core.media import MediaService, MediaSettings, MediaStart
from sessionhub.core.timeline import MediaEvent
from sessionhub.stores import store_for_url


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SESSIONHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return CliRunner()


async def _seed(url: str) -> str:
    store = store_for_url(url)
    await store.open()
    try:
        media = MediaService(store, SystemClock(), MediaSettings())
        start = MediaStart(
            MediaEvent("sessionStart", 0, 0.0), False, 10, {"media.id": "x"}, {}, b"{}"
        )
        return await media.start(start)
    finally:
        await store.close()


def test_migrate_then_list_and_show(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output

    session_id = asyncio.run(_seed(f"sqlite:///{tmp_path / 'cli.db'}"))

    listed = runner.invoke(main, ["sessions", "list"])
    assert listed.exit_code == 0 and session_id in listed.output and "adobe" in listed.output
    as_json = runner.invoke(main, ["sessions", "list", "--json", "--state", "active"])
    page = json.loads(as_json.output)  # the admin API's shape
    assert [s["id"] for s in page["sessions"]] == [session_id]
    assert page["next_before"] is None
    shown = runner.invoke(main, ["sessions", "show", session_id])
    assert shown.exit_code == 0 and json.loads(shown.output)["qoe"]["completed"] is False
    missing = runner.invoke(main, ["sessions", "show", "nope"])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_bad_setting_stops_with_one_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSIONHUB_PORT", "eighty")
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: SESSIONHUB_PORT:")


def test_playback_authorization_by_cli(runner: CliRunner) -> None:
    steps = [
        ["accounts", "add", "ACME", "--max-sessions", "3", "--policy", "evict-oldest"],
        ["devices", "add", "ACME", "stb-1"],
        ["content", "add", "100001V3D", "COD"],
        ["entitle", "ACME", "100001V3D"],
        ["accounts", "set", "ACME", "--max-sessions", "2"],
    ]
    for step in steps:
        result = runner.invoke(main, step)
        assert result.exit_code == 0, (step, result.output)
    result = runner.invoke(main, ["accounts", "set", "ACME", "--password-stdin"], input="pw\n")
    assert result.exit_code == 0, result.output

    token = runner.invoke(main, ["tokens", "issue", "ACME", "stb-1"]).output.strip()
    assert len(token) >= 40
    shown = json.loads(runner.invoke(main, ["accounts", "show", "ACME"]).output)
    # The admin API's shape: whether a password is set, never its hash.
    assert (shown["max_sessions"], shown["policy"], shown["has_password"]) == (
        2,
        "evict-oldest",
        True,
    )
    assert [d["device_id"] for d in shown["devices"]] == ["stb-1"]
    assert shown["entitlements"] == ["100001V3D"]
    assert "revoked 1 token(s)" in runner.invoke(main, ["tokens", "revoke", "ACME"]).output

    duplicate = runner.invoke(main, ["accounts", "add", "ACME"])
    assert duplicate.exit_code == 1 and "exists already" in duplicate.output
    bad = runner.invoke(main, ["content", "add", "X", "VOD"])
    assert bad.exit_code == 2
    missing = runner.invoke(main, ["sessions", "end", "nope"])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_clients_and_visitors_by_cli(runner: CliRunner, tmp_path: Path) -> None:
    added = runner.invoke(main, ["clients", "add", "app", "--site", "306"], input="secret-123\n")
    assert added.exit_code == 2  # neither --secret nor --secret-stdin
    added = runner.invoke(
        main, ["clients", "add", "app", "--site", "306", "--secret-stdin"], input="secret-123\n"
    )
    assert added.exit_code == 0, added.output

    async def seed() -> None:
        store = store_for_url(f"sqlite:///{tmp_path / 'cli.db'}")
        await store.open()
        try:
            media = MediaService(store, SystemClock(), MediaSettings())
            start = MediaStart(
                MediaEvent("sessionStart", 0, 0.0),
                False,
                10,
                {},
                {},
                b"{}",
                identities=[("customer", "CRM-7")],
            )
            await media.start(start)
        finally:
            await store.close()

    asyncio.run(seed())
    shown = runner.invoke(main, ["visitors", "show", "--kind", "customer", "--value", "CRM-7"])
    assert shown.exit_code == 0, shown.output
    visitor = json.loads(shown.output)
    assert visitor["identities"] == [{"kind": "customer", "value": "CRM-7"}]
    assert [s["api"] for s in visitor["sessions"]] == ["adobe"]
    by_id = runner.invoke(main, ["visitors", "show", visitor["id"]])
    assert json.loads(by_id.output)["id"] == visitor["id"]
    assert runner.invoke(main, ["visitors", "show"]).exit_code == 2
    # the kinds it offers are the one list of kinds (issue 22 item 2: nagra's were missing)
    from sessionhub.core.visitors import IDENTITY_KINDS  # noqa: PLC0415

    helped = runner.invoke(main, ["visitors", "show", "--help"], terminal_width=400)
    assert "|".join(IDENTITY_KINDS) in helped.output
    typo = runner.invoke(main, ["visitors", "show", "--kind", "adobe.visitor", "--value", "v"])
    assert typo.exit_code == 2 and "adobe.visitorId" in typo.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["accounts", "add", "X", "--max-sessions", str(2**64)], "max sessions must be"),
        (["accounts", "add", "X", "--lease-timeout", str(2**63)], "lease timeout must be"),
        (
            ["clients", "add", "c1", "--secret", "long-enough", "--site", str(2**64)],
            "site id must be",
        ),
    ],
)
def test_numbers_past_what_a_store_holds_are_refused_with_a_sentence(
    runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
