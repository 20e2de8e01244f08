"""``sessionhub playlogs import``: bulk import of play logs from files."""

from __future__ import annotations

from pathlib import Path

import click

from sessionhub.cli.context import load_settings, with_store
from sessionhub.core.clock import SystemClock
from sessionhub.core.consumers import ConsumerService
from sessionhub.core.contracts import Store
from sessionhub.core.playlogs import LogProblem, PlayLogRules, PlayLogService
from sessionhub.dialects.massivemusic.bulk import ImportResult, import_file

MAX_SHOWN_PROBLEMS = 50


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
