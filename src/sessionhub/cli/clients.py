"""``sessionhub clients``: OAuth 2.0 clients of the Nuance Data Collection API."""

from __future__ import annotations

from typing import Any

import click

from sessionhub.cli.context import (
    add_switch_commands,
    as_json_option,
    listing,
    load_settings,
    required_secret,
    secret_options,
    show,
    with_store,
)
from sessionhub.core.clients import ClientService
from sessionhub.core.clock import SystemClock


@click.group()
def clients() -> None:
    """OAuth 2.0 clients of the Nuance Data Collection API."""


@clients.command("add")
@click.argument("client_id")
@secret_options("Client")
@click.option("--site", "site_id", type=int, required=True, help="Nuance siteID it writes to.")
@click.option(
    "--tenant",
    default="default",
    show_default=True,
    help="The tenant the site belongs to (a site is one tenant's).",
)
def add_client(
    client_id: str, secret: str | None, secret_stdin: bool, site_id: int, tenant: str
) -> None:
    """Add a client for POST /oauth-server/oauth/token (client credentials)."""
    given = required_secret(secret, secret_stdin)
    _clients(lambda service: service.add_client(client_id, given, site_id, tenant))
    click.echo(f"added client {client_id} for site {site_id} (tenant {tenant})")


def _clients(work: Any) -> Any:
    return with_store(load_settings(), lambda store: work(ClientService(store, SystemClock())))


@clients.command("list")
@as_json_option
def list_clients(as_json: bool) -> None:
    """List clients (never their secrets)."""
    listing(
        "clients",
        _clients(lambda service: service.list_clients()),
        as_json,
        ("CLIENT", "SITE", "STATE"),
        lambda c: (c.client_id, c.site_id, "enabled" if c.enabled else "disabled"),
    )


@clients.command("show")
@click.argument("client_id")
def show_client(client_id: str) -> None:
    """Show a client, as JSON."""
    show(_clients(lambda service: service.get_client(client_id)))


add_switch_commands(
    clients,
    "client",
    _clients,
    "it gets no new token (tokens it holds run out with their lifetime).",
)
