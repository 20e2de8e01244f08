"""``sessionhub report plays``: the royalty report."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import click

from sessionhub import reports
from sessionhub.cli.context import load_settings, with_store
from sessionhub.core.clock import SystemClock
from sessionhub.core.contracts import Store
from sessionhub.core.errors import InvalidInputError
from sessionhub.core.playlogs import PlayLogRules, PlayLogService
from sessionhub.core.records import ReportRow


@click.group()
def report() -> None:
    """Reports."""


@report.command("plays")
@click.option("--from", "start", required=True, help="First day, YYYY-MM-DD (UTC).")
@click.option("--to", "end", required=True, help="Last day, YYYY-MM-DD, included.")
@click.option(
    "--by",
    default="track,country",
    show_default=True,
    help="Group by: track, country, day, user, consumer, kind (comma-separated).",
)
@click.option(
    "--format", "fmt", type=click.Choice(reports.FORMATS), default="csv", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to a file instead of standard output.",
)
def report_plays(start: str, end: str, by: str, fmt: str, output: str | None) -> None:
    """Play counts and seconds played per group: the royalty report, streamed."""
    try:
        dimensions = reports.parse_dimensions(by)
        from_ms, to_ms = reports.parse_day(start), reports.parse_day(end, end=True)
    except InvalidInputError as error:
        raise click.UsageError(error.message) from None

    async def write(store: Store) -> int:
        service = PlayLogService(store, SystemClock(), PlayLogRules())
        total = await service.report_size(from_ms, to_ms, dimensions)
        # A CLI writing its own output: blocking writes are what we want here.
        target = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115, ASYNC230
        written = 0
        with click.progressbar(
            length=total, label="report", file=sys.stderr, hidden=not sys.stderr.isatty()
        ) as bar:

            async def counted() -> AsyncIterator[ReportRow]:
                nonlocal written
                async for row in service.report(from_ms, to_ms, dimensions):
                    written += 1
                    bar.update(1)
                    yield row

            try:
                async for chunk in reports.render(counted(), dimensions, fmt):  # type: ignore[arg-type]
                    target.write(chunk)
                target.flush()
            finally:
                if output:
                    target.close()
        return written

    rows = with_store(load_settings(), write)
    if output:
        click.echo(f"wrote {rows} rows to {output}", err=True)
