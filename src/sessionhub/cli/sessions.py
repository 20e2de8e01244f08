"""``sessionhub sessions list|show|end``: sessions of every API."""

from __future__ import annotations

import click
import msgspec

from sessionhub.cli.context import cli_actor, load_settings, show, table, utc_time, with_sessions
from sessionhub.core.sessions import SessionView


@click.group()
def sessions() -> None:
    """Inspect sessions of every API."""


@sessions.command("list")
@click.option("--api", help="Only sessions of this API (adobe, nagra, ...).")
@click.option("--account", "account_id", help="Only sessions of this account.")
@click.option("--state", type=click.Choice(["active", "ended"]))
@click.option("--visitor", "visitor_id", help="Only sessions of this visitor.")
@click.option(
    "--content", "content_id", help="Only sessions of this content (media.id, contentID)."
)
@click.option("--tenant", help="Only sessions of this tenant.")
@click.option("--before", "before_id", help="The next page: sessions older than this one.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, as the API shows it.")
def list_sessions(as_json: bool, limit: int, state: str | None, **filters: str | None) -> None:
    """List sessions, newest first."""
    settings = load_settings()
    found = with_sessions(
        settings,
        lambda _, sessions: sessions.list(
            state=state,  # type: ignore[arg-type]
            limit=limit,
            **filters,
        ),
    )
    if as_json:  # the admin API's page: {"sessions": [...], "next_before": ...}
        next_before = found[-1].id if len(found) == limit else None
        show({"sessions": found, "next_before": next_before})
        return
    table(
        ("ID", "API", "STATE", "STARTED", "ENDED", "END REASON", "PLAYED", "PLAYER"),
        [_row(v) for v in found],
    )


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
    actor = cli_actor()
    ended = with_sessions(settings, lambda _, sessions: sessions.end(session_id, actor=actor))
    click.echo(f"ended {session_id}" if ended else f"{session_id} had already ended")


def _row(view: SessionView) -> tuple[str, ...]:
    return (
        view.id,
        view.api,
        view.state,
        utc_time(view.started_at),
        utc_time(view.ended_at),
        view.end_reason or "",
        view.title or view.content_id or "",
        view.player or "",
    )
