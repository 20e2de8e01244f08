"""What every command shares: settings, a store opened for the command, the services."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import click
import msgspec

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import SystemClock
from sessionhub.core.contracts import Store
from sessionhub.core.errors import SessionhubError
from sessionhub.core.sessions import SessionService
from sessionhub.settings import Settings, SettingsError
from sessionhub.stores import store_for_url
from sessionhub.stores.redis import RedisClient

T = TypeVar("T")


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings.from_env(None, **overrides)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        store = store_for_url(settings.database_url)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except SessionhubError as error:
        raise click.ClickException(error.message) from None


def with_sessions(settings: Settings, work: Callable[[Store, SessionService], Awaitable[T]]) -> T:
    """Run ``work`` with the session service, its leases where the servers keep them."""

    async def run(store: Store) -> T:
        from sessionhub.app import leases_for  # noqa: PLC0415 (the app pulls in every dialect)

        clock = SystemClock()
        redis = RedisClient(settings.redis_url) if settings.redis_url else None
        if redis is not None:
            await redis.open()
        try:
            leases = leases_for(redis, store, clock)
            await leases.open()
            return await work(store, SessionService(store, clock, leases))
        finally:
            if redis is not None:
                await redis.close()

    return with_store(settings, run)


def with_accounts(work: Callable[[AccountService], Awaitable[T]]) -> T:
    """Run ``work`` with the account service, on the configured store."""
    settings = load_settings()
    return with_store(
        settings,
        lambda store: work(AccountService(store, SystemClock(), token_ttl_s=settings.token_ttl_s)),
    )


def show(value: Any) -> None:
    """Print a value as indented JSON (what ``show`` commands and ``--json`` print)."""
    click.echo(msgspec.json.format(msgspec.json.encode(value)))


def read_secret(given: str | None, from_stdin: bool, name: str = "password") -> str | None:
    """A secret from its option, or from the first line of standard input."""
    if from_stdin:
        line = str(sys.stdin.readline()).rstrip("\n")
        if not line:
            raise click.ClickException(f"--{name}-stdin: no {name} on standard input")
        return line
    return given


def table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> None:
    """Print rows as aligned columns under a header."""
    cells = [tuple(str(cell) for cell in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def as_json_option(command: Any) -> Any:
    """``--json``: print the records as the admin API shows them, instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON, as the API shows it.")(
        command
    )


def add_switch_commands(
    group: click.Group, noun: str, run: Callable[[Callable[[Any], Any]], Any], disabled: str
) -> None:
    """``GROUP enable ID`` and ``GROUP disable ID`` for a service with ``set_enabled(id, on)``;
    ``run`` calls the work with the service, ``disabled`` says what disabling does."""

    for enabled in (True, False):
        verb = "enable" if enabled else "disable"

        def switch(identifier: str, enabled: bool = enabled, verb: str = verb) -> None:
            run(lambda service: service.set_enabled(identifier, enabled))
            click.echo(f"{verb}d {noun} {identifier}")

        help_text = f"Enable a {noun} again." if enabled else f"Disable a {noun}: {disabled}"
        command = click.command(verb, help=help_text)(click.argument("identifier")(switch))
        group.add_command(command)


def secret_options(what: str) -> Callable[[Any], Any]:
    """``--secret S`` or ``--secret-stdin`` (kept out of the shell's history) for ``what``."""

    def decorate(command: Any) -> Any:
        command = click.option(
            "--secret-stdin", is_flag=True, help="Read the secret from standard input."
        )(command)
        return click.option("--secret", help=f"{what} secret (at least 8 characters).")(command)

    return decorate


def required_secret(given: str | None, from_stdin: bool) -> str:
    """The ``--secret`` / ``--secret-stdin`` pair, one of which must be given."""
    secret = read_secret(given, from_stdin, name="secret")
    if not secret:
        raise click.UsageError("give --secret or --secret-stdin")
    return secret


def listing(
    key: str,
    found: Sequence[Any],
    as_json: bool,
    header: tuple[str, ...],
    row: Callable[[Any], tuple[object, ...]],
) -> None:
    """What every ``list`` command prints: the records as JSON in the admin API's own shape
    (``{"accounts": [...]}``), or a table of ``row``s."""
    if as_json:
        show({key: found})
    else:
        table(header, [row(item) for item in found])


def cli_actor() -> str:
    """Who a command line change is by, for the audit log: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return f"cli:uid {os.getuid()}"


def utc_time(ms: int | None) -> str:
    """Epoch milliseconds as ``YYYY-MM-DD HH:MM:SS`` (UTC); nothing for None."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
