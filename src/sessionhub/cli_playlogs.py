"""``sessionhub consumers|report|playlogs``: MassiveMusic consumers, reports, bulk import."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import click

from sessionhub import reports
from sessionhub.cli_accounts import _password, load_settings, with_store
from sessionhub.core.clock import SystemClock
from sessionhub.core.consumers import ConsumerService
from sessionhub.core.contracts import Store
from sessionhub.core.errors import InvalidInputError
from sessionhub.core.playlogs import LogProblem, PlayLogRules, PlayLogService
from sessionhub.core.records import ReportRow
from sessionhub.dialects.massivemusic.bulk import ImportResult, import_file

MAX_SHOWN_PROBLEMS = 50


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
    secret = _password(secret, secret_stdin)
    if not secret:
        raise click.UsageError("give --secret or --secret-stdin")
    consumer = with_store(
        load_settings(),
        lambda store: ConsumerService(store, SystemClock()).add(key, secret, countries.split(",")),
    )
    click.echo(f"added consumer {consumer.key} for {','.join(consumer.countries)}")


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


@click.group()
def playlogs() -> None:
    """Play logs."""


@playlogs.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consumer", "consumer_key", required=True, help="The partner's consumer key.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    help="Default: by the file's ending (.csv/.tsv, else JSON lines).",
)
@click.option("--skip-bad", is_flag=True, help="Import the good lines even if some are bad.")
def import_playlogs(path: Path, consumer_key: str, fmt: str | None, skip_bad: bool) -> None:
    """Import preview play logs from a CSV or JSON-lines file, checked like the API's."""
    shown = 0

    def report_problem(problem: LogProblem) -> None:
        nonlocal shown
        shown += 1
        if shown <= MAX_SHOWN_PROBLEMS:
            click.echo(f"line {problem.index}: {problem.code} {problem.message}", err=True)

    settings = load_settings()

    async def run_import(store: Store) -> ImportResult:
        if await ConsumerService(store, SystemClock()).find(consumer_key) is None:
            raise click.UsageError(f"no consumer {consumer_key!r}")
        rules = PlayLogRules(settings.playlog_max_age_days, settings.playlog_future_skew_s)
        service = PlayLogService(store, SystemClock(), rules)
        return await import_file(
            path,
            consumer_key,
            service,
            fmt=fmt,  # type: ignore[arg-type]
            skip_bad=skip_bad,
            on_problem=report_problem,
        )

    result = with_store(settings, run_import)
    if shown > MAX_SHOWN_PROBLEMS:
        click.echo(f"... and {shown - MAX_SHOWN_PROBLEMS} more problems", err=True)
    if not result.imported:
        raise click.ClickException(
            f"{result.bad} of {result.lines} lines are bad; nothing imported"
            " (--skip-bad imports the good ones)"
        )
    click.echo(f"{result.lines} lines, {result.bad} bad, {result.stored} new logs stored")


def register(main: click.Group) -> None:
    for command in (consumers, report, playlogs):
        main.add_command(command)
