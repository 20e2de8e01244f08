"""``sessionhub visitors``: one person across every API."""

from __future__ import annotations

import click

from sessionhub.cli.context import load_settings, show, with_sessions
from sessionhub.core.clock import SystemClock
from sessionhub.core.contracts import Store
from sessionhub.core.records import DEFAULT_TENANT
from sessionhub.core.sessions import SessionService
from sessionhub.core.views import VisitorDetail
from sessionhub.core.visitors import IDENTITY_KINDS, VisitorService


@click.group()
def visitors() -> None:
    """Visitor profiles across every API."""


@visitors.command("show")
@click.argument("visitor_id", required=False)
@click.option(
    "--kind",
    type=click.Choice(list(IDENTITY_KINDS)),
    help="Find by identity kind.",
)
@click.option("--value", help="... and its value.")
@click.option("--tenant", default=DEFAULT_TENANT, show_default=True, help="... in this tenant.")
def show_visitor(visitor_id: str | None, kind: str | None, value: str | None, tenant: str) -> None:
    """Print a visitor with attributes and every session, in time order, as JSON."""
    if (visitor_id is None) == (kind is None or value is None):
        raise click.UsageError("give a VISITOR_ID, or --kind and --value")

    async def gather(store: Store, sessions: SessionService) -> VisitorDetail:
        service = VisitorService(store, SystemClock())
        if visitor_id is not None:
            visitor = await service.get(visitor_id)
        else:
            assert kind is not None and value is not None
            visitor = await service.find(kind, value, tenant)
        return VisitorDetail.of(visitor, await sessions.of_visitor(visitor.id))

    show(with_sessions(load_settings(), gather))
