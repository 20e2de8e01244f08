"""``sessionhub top``: the overview, live in the terminal, read from the store itself (it works
with the server's port closed, and shows every instance's figures)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sys
import termios
import tty
from collections.abc import Iterator

import click
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from sessionhub.cli.context import load_settings, with_sessions
from sessionhub.core.clock import SystemClock
from sessionhub.core.contracts import Store
from sessionhub.core.overview import Overview, OverviewService
from sessionhub.core.sessions import SessionService

MINUTE_ROWS = (
    ("starts", "start:"),
    ("ends", "end:"),
    ("admitted", "admission:granted"),
    ("denied: limit", "admission:denied_limit"),
    ("denied: not entitled", "admission:denied_not_entitled"),
    ("play logs", "playlogs"),
)


@click.command()
@click.option("--interval", type=click.FloatRange(0.2, 60), default=1.0, show_default=True)
@click.option("--minutes", type=click.IntRange(1, 30), default=10, show_default=True)
@click.option("--once", is_flag=True, help="Print one frame and exit (for scripts).")
def top(interval: float, minutes: int, once: bool) -> None:
    """Live view of sessions: active now by API, each minute's activity, QoE of the last hour.
    Press q (or Ctrl-C) to quit."""
    settings = load_settings()
    console = Console()

    async def run(store: Store, sessions: SessionService) -> None:
        overview = OverviewService(store, sessions, SystemClock())
        if once:
            console.print(render(await overview.overview(minutes)))
            return
        quit_pressed = asyncio.Event()
        with Live(console=console, auto_refresh=False, screen=False) as live, keys(quit_pressed):
            while not quit_pressed.is_set():
                live.update(render(await overview.overview(minutes)), refresh=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(quit_pressed.wait(), interval)

    with contextlib.suppress(KeyboardInterrupt):
        with_sessions(settings, run)


@contextlib.contextmanager
def keys(quit_pressed: asyncio.Event) -> Iterator[None]:
    """While the view runs on a terminal, ``q`` quits it (as in top(1)): the terminal reads
    keys one at a time (cbreak, so Ctrl-C still works) and is set back as it was after."""
    stdin = sys.stdin
    if not stdin.isatty():
        yield
        return
    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    loop = asyncio.get_running_loop()

    def read_key() -> None:
        if os.read(fd, 1) in (b"q", b"Q"):
            quit_pressed.set()

    tty.setcbreak(fd)
    loop.add_reader(fd, read_key)
    try:
        yield
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def render(overview: Overview) -> Group:
    at = dt.datetime.fromtimestamp(overview.at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    active = Table(title=f"sessionhub top: {at}", title_justify="left")
    for api in overview.active:
        active.add_column(api, justify="right")
    active.add_column("all", justify="right", style="bold")
    active.add_row(*(str(n) for n in overview.active.values()), str(sum(overview.active.values())))

    per_minute = Table(title="per minute (the last column is the minute so far)")
    per_minute.add_column("")
    for minute in overview.minutes:
        stamp = dt.datetime.fromtimestamp(minute.minute * 60, dt.UTC).strftime("%H:%M")
        per_minute.add_column(stamp, justify="right")
    for label, prefix in MINUTE_ROWS:
        per_minute.add_row(label, *(str(overview.total(m, prefix)) for m in overview.minutes))

    q = overview.qoe
    qoe = Table(title=f"QoE, Adobe sessions of the last hour ({q.sessions})")
    for name in ("start p50", "start p95", "rebuffering", "exit before start", "errors", "bitrate"):
        qoe.add_column(name, justify="right")
    qoe.add_row(
        _ms(q.time_to_start_p50_ms),
        _ms(q.time_to_start_p95_ms),
        "-" if q.rebuffer_ratio is None else f"{q.rebuffer_ratio:.2%}",
        "-" if q.exits_before_start_pct is None else f"{q.exits_before_start_pct:.1f}%",
        "-" if q.error_sessions_pct is None else f"{q.error_sessions_pct:.1f}%",
        "-" if q.average_bitrate_bps is None else f"{q.average_bitrate_bps / 1000:.0f} kb/s",
    )
    return Group(active, per_minute, qoe)


def _ms(value: int | None) -> str:
    return "-" if value is None else f"{value / 1000:.2f} s"
