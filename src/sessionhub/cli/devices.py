"""``sessionhub devices``: the devices of an account."""

from __future__ import annotations

import click

from sessionhub.cli.context import with_accounts


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
def list_devices(account_id: str) -> None:
    """List an account's devices."""
    for device in with_accounts(lambda service: service.list_devices(account_id)):
        click.echo(f"{device.device_id}\t{'enabled' if device.enabled else 'disabled'}")


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
