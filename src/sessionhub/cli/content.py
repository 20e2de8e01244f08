"""``sessionhub content``: the catalogue, and ``sessionhub entitle``: who may play what."""

from __future__ import annotations

import click

from sessionhub.cli.context import (
    as_json_option,
    listing,
    show,
    with_accounts,
)
from sessionhub.core.accounts import CONTENT_TYPES, AccountService


@click.group()
def content() -> None:
    """The content catalogue."""


@content.command("add")
@click.argument("content_id")
@click.argument("content_type", type=click.Choice(CONTENT_TYPES))
def add_content(content_id: str, content_type: str) -> None:
    """Add content (contentID and its type)."""
    with_accounts(lambda service: service.add_content(content_id, content_type))
    click.echo(f"added {content_type} content {content_id}")


@content.command("list")
@as_json_option
def list_content(as_json: bool) -> None:
    """List the catalogue."""
    listing(
        "content",
        with_accounts(lambda service: service.list_content()),
        as_json,
        ("CONTENT", "TYPE"),
        lambda item: (item.content_id, item.content_type),
    )


@content.command("show")
@click.argument("content_id")
def show_content(content_id: str) -> None:
    """Show one title, as JSON."""
    show(with_accounts(lambda service: service.get_content(content_id)))


@content.command("remove")
@click.argument("content_id")
def remove_content(content_id: str) -> None:
    """Remove a title and every entitlement to it (sessions that played it keep its id)."""
    with_accounts(lambda service: service.remove_content(content_id))
    click.echo(f"removed content {content_id}")


@click.command()
@click.argument("account_id")
@click.argument("content_ids", nargs=-1, required=True)
@click.option("--revoke", is_flag=True, help="Take the entitlements away instead.")
def entitle(account_id: str, content_ids: tuple[str, ...], revoke: bool) -> None:
    """Entitle an account to play content (or --revoke it)."""

    async def apply(service: AccountService) -> None:
        for content_id in content_ids:
            if revoke:
                await service.revoke_entitlement(account_id, content_id)
            else:
                await service.entitle(account_id, content_id)

    with_accounts(apply)
    verb = "revoked" if revoke else "entitled"
    click.echo(f"{verb} {account_id}: {', '.join(content_ids)}")
