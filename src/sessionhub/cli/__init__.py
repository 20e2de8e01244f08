"""``sessionhub`` command line. Every command calls the core directly, never over HTTP.

One module per command group; ``context`` holds what they share, and nothing imports this
package's ``__init__`` but the entry point.
"""

from __future__ import annotations

import click

from sessionhub.cli.accounts import accounts
from sessionhub.cli.clients import clients
from sessionhub.cli.consumers import consumers
from sessionhub.cli.content import content, entitle
from sessionhub.cli.devices import devices
from sessionhub.cli.operators import audit, operators
from sessionhub.cli.playlogs import playlogs
from sessionhub.cli.reports import report
from sessionhub.cli.server import migrate, serve
from sessionhub.cli.sessions import sessions
from sessionhub.cli.tokens import tokens
from sessionhub.cli.top import top
from sessionhub.cli.visitors import visitors


@click.group()
@click.version_option(package_name="sessionhub")
def main() -> None:
    """sessionhub: sessions for five vendor APIs over one core."""


for command in (
    serve,
    migrate,
    sessions,
    accounts,
    devices,
    content,
    entitle,
    tokens,
    clients,
    visitors,
    consumers,
    report,
    playlogs,
    top,
    operators,
    audit,
):
    main.add_command(command)
