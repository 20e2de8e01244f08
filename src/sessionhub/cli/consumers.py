"""``sessionhub consumers``: OAuth 1.0a consumers of the MassiveMusic logging API."""

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
from sessionhub.core.clock import SystemClock
from sessionhub.core.consumers import ConsumerService


@click.group()
def consumers() -> None:
    """OAuth 1.0a consumers of the MassiveMusic logging API."""


@consumers.command("add")
@click.argument("key")
@secret_options("Consumer")
@click.option("--countries", required=True, help="Countries the key may log for: GB,US,...")
def add_consumer(key: str, secret: str | None, secret_stdin: bool, countries: str) -> None:
    """Add a consumer key with its secret and allowed countries."""
    given = required_secret(secret, secret_stdin)
    consumer = _consumers(lambda service: service.add(key, given, countries.split(",")))
    click.echo(f"added consumer {consumer.key} for {','.join(consumer.countries)}")


def _consumers(work: Any) -> Any:
    return with_store(load_settings(), lambda store: work(ConsumerService(store, SystemClock())))


@consumers.command("list")
@as_json_option
def list_consumers(as_json: bool) -> None:
    """List consumer keys with their countries (never their secrets)."""
    listing(
        "consumers",
        _consumers(lambda service: service.list_consumers()),
        as_json,
        ("KEY", "COUNTRIES", "STATE"),
        lambda c: (c.key, ",".join(c.countries), "enabled" if c.enabled else "disabled"),
    )


@consumers.command("show")
@click.argument("key")
def show_consumer(key: str) -> None:
    """Show a consumer key, as JSON."""
    show(_consumers(lambda service: service.get_consumer(key)))


add_switch_commands(consumers, "consumer", _consumers, "its requests are refused from now on.")
