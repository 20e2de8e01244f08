"""``sessionhub clients``: OAuth 2.0 clients of the Nuance Data Collection API."""

from __future__ import annotations

import click

from sessionhub.cli.context import load_settings, read_secret, with_store
from sessionhub.core.clients import ClientService
from sessionhub.core.clock import SystemClock


@click.group()
def clients() -> None:
    """OAuth 2.0 clients of the Nuance Data Collection API."""


@clients.command("add")
@click.argument("client_id")
@click.option("--secret", help="Client secret (at least 8 characters).")
@click.option("--secret-stdin", is_flag=True, help="Read the secret from standard input.")
@click.option("--site", "site_id", type=int, required=True, help="Nuance siteID it writes to.")
def add_client(client_id: str, secret: str | None, secret_stdin: bool, site_id: int) -> None:
    """Add a client for POST /oauth-server/oauth/token (client credentials)."""
    secret = read_secret(secret, secret_stdin)
    if not secret:
        raise click.UsageError("give --secret or --secret-stdin")
    settings = load_settings()
    with_store(
        settings,
        lambda store: ClientService(store, SystemClock()).add_client(client_id, secret, site_id),
    )
    click.echo(f"added client {client_id} for site {site_id}")
