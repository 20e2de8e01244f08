"""``sessionhub`` command line. Every command calls the core directly, never over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
import msgspec

from sessionhub.core.clock import SystemClock
from sessionhub.core.contracts import Store
from sessionhub.core.errors import SessionhubError
from sessionhub.core.sessions import SessionService, SessionView
from sessionhub.settings import PREFIX, Settings, SettingsError
from sessionhub.stores import mask_url, store_for_url
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


@click.group()
@click.version_option(package_name="sessionhub")
def main() -> None:
    """sessionhub: sessions for five vendor APIs over one core."""


@main.command()
@click.option("--host", help="Interface to listen on [SESSIONHUB_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="TCP port [SESSIONHUB_PORT, default 8080].")
@click.option("--workers", type=int, help="Worker processes [SESSIONHUB_WORKERS, default 1].")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the HTTP server."""
    import uvicorn  # noqa: PLC0415  (heavy; only this command needs it)

    from sessionhub.protocol import GuardedHttpToolsProtocol  # noqa: PLC0415 (imports uvicorn)

    settings = load_settings(host=host, port=port, workers=workers)
    # Worker processes build their own app from the environment: hand them the flags too.
    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"{PREFIX}{name}"] = str(value)
    # Apply migrations once here, before any worker starts.
    with_store(settings, lambda store: asyncio.sleep(0))
    click.echo(
        f"sessionhub on http://{settings.host}:{settings.port} "
        f"({settings.workers} worker(s), {mask_url(settings.database_url)})",
        err=True,
    )
    uvicorn.run(
        "sessionhub.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http=GuardedHttpToolsProtocol,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
    )


@main.command()
def migrate() -> None:
    """Apply pending schema migrations to SESSIONHUB_DATABASE_URL."""
    settings = load_settings()
    with_store(settings, lambda store: asyncio.sleep(0))
    click.echo(f"{mask_url(settings.database_url)} is up to date")


@main.group()
def sessions() -> None:
    """Inspect sessions of every API."""


@sessions.command("list")
@click.option("--api", help="Only sessions of this API (adobe, nagra, ...).")
@click.option("--account", "account_id", help="Only sessions of this account.")
@click.option("--state", type=click.Choice(["active", "ended"]))
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_sessions(
    api: str | None, account_id: str | None, state: str | None, limit: int, as_json: bool
) -> None:
    """List sessions, newest first."""
    settings = load_settings()
    found = with_sessions(
        settings,
        lambda _, sessions: sessions.list(
            api=api,
            state=state,  # type: ignore[arg-type]
            limit=limit,
            account_id=account_id,
        ),
    )
    if as_json:
        click.echo(msgspec.json.encode(found))
        return
    rows: list[tuple[str, ...]] = [("ID", "API", "STATE", "STARTED", "ENDED", "END REASON")]
    rows += [_row(view) for view in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@sessions.command("show")
@click.argument("session_id")
def show_session(session_id: str) -> None:
    """Print one session with its QoE and timeline, as JSON."""
    settings = load_settings()
    detail = with_sessions(settings, lambda _, sessions: sessions.get(session_id))
    click.echo(msgspec.json.format(msgspec.json.encode(detail)))


@sessions.command("end")
@click.argument("session_id")
def end_session(session_id: str) -> None:
    """End a live session of any API now (end_reason: operator)."""
    settings = load_settings()
    ended = with_sessions(settings, lambda _, sessions: sessions.end(session_id))
    click.echo(f"ended {session_id}" if ended else f"{session_id} had already ended")


def _row(view: SessionView) -> tuple[str, ...]:
    return (
        view.id,
        view.api,
        view.state,
        _time(view.started_at),
        _time(view.ended_at),
        view.end_reason or "",
    )


def _time(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _register_account_commands() -> None:
    # Imported here: cli_accounts imports this module for its helpers.
    from sessionhub import cli_accounts, cli_playlogs  # noqa: PLC0415

    cli_accounts.register(main)
    cli_playlogs.register(main)


_register_account_commands()
