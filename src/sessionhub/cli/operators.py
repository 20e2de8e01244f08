"""``sessionhub operators`` and ``sessionhub audit``: people with dashboard logins of their own,
and the log of who changed what."""

from __future__ import annotations

from typing import Any

import click
import msgspec

from sessionhub.cli.context import (
    as_json_option,
    cli_actor,
    listing,
    load_settings,
    show,
    table,
    utc_time,
    with_store,
)
from sessionhub.core.clock import SystemClock
from sessionhub.core.operators import MAX_AUDIT_PAGE, ROLES, OperatorService


@click.group()
def operators() -> None:
    """People who sign in to the dashboard with a token of their own."""


@operators.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--tenant", help="Limit them to one tenant's sessions, visitors and accounts.")
def add_operator(name: str, role: str, tenant: str | None) -> None:
    """Give NAME a dashboard login; prints their token, this once (only its hash is kept)."""
    actor = cli_actor()
    _, token = _operators(lambda service: service.add(name, role, tenant, by=actor))
    click.echo(token)
    click.echo(f"added {role} {name}: give them the token above; it is not shown again", err=True)


@operators.command("list")
@as_json_option
def list_operators(as_json: bool) -> None:
    """List operators (tokens never print)."""
    found = [
        {k: v for k, v in msgspec.structs.asdict(person).items() if k != "token_hash"}
        for person in _operators(lambda service: service.all())
    ]
    listing(
        "operators",
        found,
        as_json,
        ("NAME", "ROLE", "TENANT", "SINCE", "REVOKED"),
        lambda p: (
            p["name"],
            p["role"],
            p["tenant"] or "all",
            utc_time(p["created_at"]),
            utc_time(p["revoked_at"]),
        ),
    )


@operators.command("revoke")
@click.argument("name")
def revoke_operator(name: str) -> None:
    """Revoke NAME's login: their token opens nothing more, their open visits end now."""
    actor = cli_actor()
    _operators(lambda service: service.revoke(name, by=actor))
    click.echo(f"revoked {name}")


@click.command()
@click.option("--limit", type=click.IntRange(1, MAX_AUDIT_PAGE), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, as the API shows it.")
def audit(limit: int, as_json: bool) -> None:
    """Who ended which session, and who was given or lost a login, newest first."""
    entries = _operators(lambda service: service.audit(limit))
    if as_json:
        show({"entries": entries})
        return
    table(
        ("WHEN (UTC)", "WHO", "WHAT", "OF"),
        [(utc_time(e.at), e.actor, e.action, e.target) for e in entries],
    )


def _operators(work: Any) -> Any:
    return with_store(load_settings(), lambda store: work(OperatorService(store, SystemClock())))
