"""``sessionhub accounts``: concurrency limit, policy at the limit, sign-on password."""

from __future__ import annotations

import click
import msgspec

from sessionhub.cli.context import (
    as_json_option,
    listing,
    load_settings,
    read_secret,
    show,
    with_accounts,
    with_sessions,
)
from sessionhub.core.accounts import POLICIES, AccountService
from sessionhub.core.clock import SystemClock
from sessionhub.core.contracts import Store
from sessionhub.core.sessions import SessionService
from sessionhub.core.views import AccountDetail, AccountView


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
@click.option(
    "--tenant",
    default="default",
    show_default=True,
    help="The tenant its sessions and visitors belong to.",
)
def add_account(
    account_id: str,
    max_sessions: int,
    policy: str,
    lease_timeout: int | None,
    password: str | None,
    password_stdin: bool,
    tenant: str,
) -> None:
    """Add an account."""
    password = read_secret(password, password_stdin)
    account = with_accounts(
        lambda service: service.add_account(
            account_id,
            max_sessions=max_sessions,
            policy=policy,  # type: ignore[arg-type]
            lease_timeout_s=lease_timeout,
            password=password,
            tenant=tenant,
        )
    )
    click.echo(
        f"added account {account.id} (max {account.max_sessions}, {account.policy},"
        f" tenant {account.tenant})"
    )


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
    password = read_secret(password, password_stdin)
    account = with_accounts(
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
@as_json_option
def list_accounts(as_json: bool) -> None:
    """List accounts."""
    listing(
        "accounts",
        [AccountView.of(account) for account in with_accounts(lambda s: s.list_accounts())],
        as_json,
        ("ACCOUNT", "STATE", "MAX", "POLICY"),
        lambda a: (a.id, "enabled" if a.enabled else "disabled", a.max_sessions, a.policy),
    )


@accounts.command("show")
@click.argument("account_id")
def show_account(account_id: str) -> None:
    """Show an account with its devices, entitlements and live sessions, as the API does."""

    async def gather(store: Store, sessions: SessionService) -> AccountDetail:
        service = AccountService(store, SystemClock())
        account = await service.get_account(account_id)
        return AccountDetail(
            **msgspec.structs.asdict(AccountView.of(account)),
            devices=await service.list_devices(account_id),
            entitlements=await service.entitlements(account_id),
            live_sessions=await sessions.list(account_id=account_id, state="active"),
        )

    show(with_sessions(load_settings(), gather))
