"""``sessionhub devices``: the devices of an account."""

from __future__ import annotations

import click

from sessionhub.cli.context import (
    as_json_option,
    listing,
    show,
    with_accounts,
)


@click.group()
def devices() -> None:
    """Devices of an account."""


@devices.command("add")
@click.argument("account_id")
@click.argument("device_id")
def add_device(account_id: str, device_id: str) -> None:
    """Register a device to an account."""
    with_accounts(lambda service: service.add_device(account_id, device_id))
    click.echo(f"added device {device_id} to {account_id}")


@devices.command("list")
@click.argument("account_id")
@as_json_option
def list_devices(account_id: str, as_json: bool) -> None:
    """List an account's devices."""
    listing(
        "devices",
        with_accounts(lambda service: service.list_devices(account_id)),
        as_json,
        ("DEVICE", "STATE"),
        lambda d: (d.device_id, "enabled" if d.enabled else "disabled"),
    )


@devices.command("show")
@click.argument("account_id")
@click.argument("device_id")
def show_device(account_id: str, device_id: str) -> None:
    """Show one device, as JSON."""
    show(with_accounts(lambda service: service.get_device(account_id, device_id)))


@devices.command("disable")
@click.argument("account_id")
@click.argument("device_id")
def disable_device(account_id: str, device_id: str) -> None:
    """Disable a device: its tokens stop working and it can start no session."""
    with_accounts(lambda service: service.set_device_enabled(account_id, device_id, False))
    click.echo(f"disabled {device_id}")


@devices.command("enable")
@click.argument("account_id")
@click.argument("device_id")
def enable_device(account_id: str, device_id: str) -> None:
    """Enable a device again."""
    with_accounts(lambda service: service.set_device_enabled(account_id, device_id, True))
    click.echo(f"enabled {device_id}")
