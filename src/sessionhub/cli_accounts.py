"""``sessionhub accounts|devices|content|entitle|tokens``: playback authorization, run by CLI."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import msgspec

from sessionhub.core.accounts import CONTENT_TYPES, POLICIES, AccountService
from sessionhub.core.clients import ClientService
from sessionhub.core.clock import SystemClock
from sessionhub.core.contracts import Store
from sessionhub.core.sessions import SessionService
from sessionhub.core.visitors import VisitorService

T = TypeVar("T")


def load_settings() -> Any:
    from sessionhub.cli import load_settings as load  # noqa: PLC0415  (cli imports this module)

    return load()


def with_store(settings: Any, work: Callable[[Store], Awaitable[T]]) -> T:
    from sessionhub.cli import with_store as run_with  # noqa: PLC0415  (cli imports this module)

    return run_with(settings, work)


def run(work: Callable[[AccountService], Awaitable[T]]) -> T:
    settings = load_settings()
    return with_store(
        settings,
        lambda store: work(AccountService(store, SystemClock(), token_ttl_s=settings.token_ttl_s)),
    )


def show(value: Any) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(value)))


@click.group()
def accounts() -> None:
    """Accounts: concurrency limit, policy at the limit, sign-on password."""


@accounts.command("add")
@click.argument("account_id")
@click.option("--max-sessions", type=click.IntRange(0), default=3, show_default=True)
@click.option("--policy", type=click.Choice(POLICIES), default="deny", show_default=True)
@click.option(
    "--lease-timeout",
    type=click.IntRange(0),
    help="Keep-alive timeout in seconds "
    "(0: no keep-alive) [default: SESSIONHUB_SRM_LEASE_TIMEOUT_S].",
)
@click.option("--password", help="Sign-on password for devices of this account.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_account(
    account_id: str,
    max_sessions: int,
    policy: str,
    lease_timeout: int | None,
    password: str | None,
    password_stdin: bool,
) -> None:
    """Add an account."""
    password = _password(password, password_stdin)
    account = run(
        lambda service: service.add_account(
            account_id,
            max_sessions=max_sessions,
            policy=policy,  # type: ignore[arg-type]
            lease_timeout_s=lease_timeout,
            password=password,
        )
    )
    click.echo(f"added account {account.id} (max {account.max_sessions}, {account.policy})")


@accounts.command("set")
@click.argument("account_id")
@click.option("--enable/--disable", "enabled", default=None)
@click.option("--max-sessions", type=click.IntRange(0))
@click.option("--policy", type=click.Choice(POLICIES))
@click.option("--lease-timeout", type=click.IntRange(0))
@click.option("--password", help="New sign-on password.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_account(
    account_id: str,
    enabled: bool | None,
    max_sessions: int | None,
    policy: str | None,
    lease_timeout: int | None,
    password: str | None,
    password_stdin: bool,
) -> None:
    """Change an account."""
    password = _password(password, password_stdin)
    account = run(
        lambda service: service.update_account(
            account_id,
            enabled=enabled,
            max_sessions=max_sessions,
            policy=policy,  # type: ignore[arg-type]
            lease_timeout_s=lease_timeout,
            password=password,
        )
    )
    state = "enabled" if account.enabled else "disabled"
    click.echo(f"account {account.id}: {state}, max {account.max_sessions}, {account.policy}")


@accounts.command("list")
def list_accounts() -> None:
    """List accounts."""
    for account in run(lambda service: service.list_accounts()):
        state = "enabled" if account.enabled else "disabled"
        click.echo(f"{account.id}\t{state}\tmax {account.max_sessions}\t{account.policy}")


@accounts.command("show")
@click.argument("account_id")
def show_account(account_id: str) -> None:
    """Show an account with its devices and entitlements."""

    async def gather(service: AccountService) -> dict[str, Any]:
        account = await service.get_account(account_id)
        shown = msgspec.structs.asdict(account)
        shown["password_hash"] = "set" if account.password_hash else None
        shown["devices"] = await service.list_devices(account_id)
        shown["entitlements"] = await service.entitlements(account_id)
        return shown

    show(run(gather))


def _password(given: str | None, from_stdin: bool) -> str | None:
    if from_stdin:
        line = str(sys.stdin.readline()).rstrip("\n")
        if not line:
            raise click.ClickException("--password-stdin: no password on standard input")
        return line
    return given


@click.group()
def devices() -> None:
    """Devices of an account."""


@devices.command("add")
@click.argument("account_id")
@click.argument("device_id")
def add_device(account_id: str, device_id: str) -> None:
    """Register a device to an account."""
    run(lambda service: service.add_device(account_id, device_id))
    click.echo(f"added device {device_id} to {account_id}")


@devices.command("list")
@click.argument("account_id")
def list_devices(account_id: str) -> None:
    """List an account's devices."""
    for device in run(lambda service: service.list_devices(account_id)):
        click.echo(f"{device.device_id}\t{'enabled' if device.enabled else 'disabled'}")


@devices.command("disable")
@click.argument("account_id")
@click.argument("device_id")
def disable_device(account_id: str, device_id: str) -> None:
    """Disable a device: its tokens stop working and it can start no session."""
    run(lambda service: service.set_device_enabled(account_id, device_id, False))
    click.echo(f"disabled {device_id}")


@devices.command("enable")
@click.argument("account_id")
@click.argument("device_id")
def enable_device(account_id: str, device_id: str) -> None:
    """Enable a device again."""
    run(lambda service: service.set_device_enabled(account_id, device_id, True))
    click.echo(f"enabled {device_id}")


@click.group()
def content() -> None:
    """The content catalogue."""


@content.command("add")
@click.argument("content_id")
@click.argument("content_type", type=click.Choice(CONTENT_TYPES))
def add_content(content_id: str, content_type: str) -> None:
    """Add content (contentID and its type)."""
    run(lambda service: service.add_content(content_id, content_type))
    click.echo(f"added {content_type} content {content_id}")


@content.command("list")
def list_content() -> None:
    """List the catalogue."""
    for item in run(lambda service: service.list_content()):
        click.echo(f"{item.content_id}\t{item.content_type}")


@click.command()
@click.argument("account_id")
@click.argument("content_ids", nargs=-1, required=True)
@click.option("--revoke", is_flag=True, help="Take the entitlements away instead.")
def entitle(account_id: str, content_ids: tuple[str, ...], revoke: bool) -> None:
    """Entitle an account to play content (or --revoke it)."""

    async def apply(service: AccountService) -> None:
        for content_id in content_ids:
            if revoke:
                await service.revoke_entitlement(account_id, content_id)
            else:
                await service.entitle(account_id, content_id)

    run(apply)
    verb = "revoked" if revoke else "entitled"
    click.echo(f"{verb} {account_id}: {', '.join(content_ids)}")


@click.group()
def tokens() -> None:
    """Client-Tokens for devices."""


@tokens.command("issue")
@click.argument("account_id")
@click.argument("device_id")
def issue_token(account_id: str, device_id: str) -> None:
    """Print a new Client-Token for a device (shown only this once)."""
    issued = run(lambda service: service.issue_token(account_id, device_id))
    click.echo(issued.token)


@tokens.command("revoke")
@click.argument("account_id")
@click.option("--device", "device_id", help="Only this device's tokens.")
def revoke_tokens(account_id: str, device_id: str | None) -> None:
    """Revoke an account's tokens (or one device's)."""
    count = run(lambda service: service.revoke_tokens(account_id, device_id))
    click.echo(f"revoked {count} token(s)")


def register(main: click.Group) -> None:
    for command in (accounts, devices, content, entitle, tokens, clients, visitors):
        main.add_command(command)


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
    secret = _password(secret, secret_stdin)
    if not secret:
        raise click.UsageError("give --secret or --secret-stdin")
    settings = load_settings()
    with_store(
        settings,
        lambda store: ClientService(store, SystemClock()).add_client(client_id, secret, site_id),
    )
    click.echo(f"added client {client_id} for site {site_id}")


@click.group()
def visitors() -> None:
    """Visitor profiles across every API."""


@visitors.command("show")
@click.argument("visitor_id", required=False)
@click.option("--kind", help="Find by identity kind (e.g. genesys.customerId, customer:crm).")
@click.option("--value", help="... and its value.")
def show_visitor(visitor_id: str | None, kind: str | None, value: str | None) -> None:
    """Print a visitor with attributes and every session, in time order, as JSON."""
    if (visitor_id is None) == (kind is None or value is None):
        raise click.UsageError("give a VISITOR_ID, or --kind and --value")

    async def gather(store: Store, sessions: SessionService) -> dict[str, Any]:
        service = VisitorService(store, SystemClock())
        if visitor_id is not None:
            visitor = await service.get(visitor_id)
        else:
            assert kind is not None and value is not None
            visitor = await service.find(kind, value)
        shown = msgspec.structs.asdict(visitor)
        shown["sessions"] = await sessions.of_visitor(visitor.id)
        return shown

    from sessionhub.cli import with_sessions  # noqa: PLC0415  (cli imports this module)

    show(with_sessions(load_settings(), gather))
