"""``sessionhub tokens``: Client-Tokens of devices."""

from __future__ import annotations

import click

from sessionhub.cli.context import (
    as_json_option,
    listing,
    utc_time,
    with_accounts,
)


@click.group()
def tokens() -> None:
    """Client-Tokens for devices."""


@tokens.command("issue")
@click.argument("account_id")
@click.argument("device_id")
def issue_token(account_id: str, device_id: str) -> None:
    """Print a new Client-Token for a device (shown only this once)."""
    issued = with_accounts(lambda service: service.issue_token(account_id, device_id))
    click.echo(issued.token)


@tokens.command("revoke")
@click.argument("account_id")
@click.option("--device", "device_id", help="Only this device's tokens.")
def revoke_tokens(account_id: str, device_id: str | None) -> None:
    """Revoke an account's tokens (or one device's)."""
    count = with_accounts(lambda service: service.revoke_tokens(account_id, device_id))
    click.echo(f"revoked {count} token(s)")


@tokens.command("list")
@click.argument("account_id")
@click.option("--device", "device_id", help="Only this device's tokens.")
@as_json_option
def list_tokens(account_id: str, device_id: str | None, as_json: bool) -> None:
    """List an account's tokens by id (the first digits of their hash; tokens are not kept)."""
    listing(
        "tokens",
        with_accounts(lambda service: service.list_tokens(account_id, device_id)),
        as_json,
        ("TOKEN", "DEVICE", "ISSUED", "EXPIRES", "STATE"),
        lambda t: (
            t.id,
            t.device_id,
            utc_time(t.issued_at),
            utc_time(t.expires_at),
            "revoked" if t.revoked else "",
        ),
    )
