"""``sessionhub serve`` and ``sessionhub migrate``."""

from __future__ import annotations

import asyncio
import os
import tempfile

import click
import msgspec

from sessionhub.cli.context import load_settings, with_store
from sessionhub.settings import PREFIX
from sessionhub.stores import mask_url


@click.command()
@click.option("--host", help="Interface to listen on [SESSIONHUB_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="TCP port [SESSIONHUB_PORT, default 8080].")
@click.option("--workers", type=int, help="Worker processes [SESSIONHUB_WORKERS, default 1].")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the HTTP server."""
    import uvicorn  # noqa: PLC0415  (heavy; only this command needs it)

    from sessionhub.protocol import GuardedHttpToolsProtocol  # noqa: PLC0415 (imports uvicorn)

    settings = load_settings(host=host, port=port, workers=workers)
    if settings.workers > 1 and settings.database_url.startswith("sqlite:"):
        # SQLite has one writer: a second process only queues for its lock. Measured on two
        # cores (bench/RESULTS.md): two workers served no more than one, with p99 up to 25x
        # worse. One process is the single writer and serves every connection.
        click.echo(
            f"SQLite has a single writer: serving with 1 worker, not {settings.workers} "
            "(more workers only queue for its lock; use PostgreSQL + Redis to scale out)",
            err=True,
        )
        settings = msgspec.structs.replace(settings, workers=1)
        workers = 1
    # Worker processes build their own app from the environment: hand them the flags too.
    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"{PREFIX}{name}"] = str(value)
    if settings.workers > 1 and settings.metrics and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker writes its counters to files here; a scrape of any worker sums them all.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sessionhub-metrics-")
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


@click.command()
def migrate() -> None:
    """Apply pending schema migrations to SESSIONHUB_DATABASE_URL."""
    settings = load_settings()
    with_store(settings, lambda store: asyncio.sleep(0))
    click.echo(f"{mask_url(settings.database_url)} is up to date")
