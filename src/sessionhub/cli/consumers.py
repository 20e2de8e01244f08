"""``sessionhub consumers``: OAuth 1.0a consumers of the MassiveMusic logging API."""

from __future__ import annotations

import click

from sessionhub.cli.context import load_settings, read_secret, with_store
from sessionhub.core.clock import SystemClock
from sessionhub.core.consumers import ConsumerService


@click.group()
def consumers() -> None:
    """OAuth 1.0a consumers of the MassiveMusic logging API."""


@consumers.command("add")
@click.argument("key")
@click.option("--secret", help="Consumer secret (at least 8 characters).")
@click.option("--secret-stdin", is_flag=True, help="Read the secret from standard input.")
@click.option("--countries", required=True, help="Countries the key may log for: GB,US,...")
def add_consumer(key: str, secret: str | None, secret_stdin: bool, countries: str) -> None:
    """Add a consumer key with its secret and allowed countries."""
    secret = read_secret(secret, secret_stdin)
    if not secret:
        raise click.UsageError("give --secret or --secret-stdin")
    consumer = with_store(
        load_settings(),
        lambda store: ConsumerService(store, SystemClock()).add(key, secret, countries.split(",")),
    )
    click.echo(f"added consumer {consumer.key} for {','.join(consumer.countries)}")
