"""``sessionhub top`` reads what real servers did from the store, with their ports closed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from sessionhub.core.overview import summarize
from sessionhub.core.sessions import SessionView
from sessionhub.core.timeline import Qoe
from tests.dialects.adobe.payloads import event, start
from tests.server import running_server


def test_top_shows_what_two_servers_did_after_they_stopped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'top.db'}"
    with (
        running_server(url) as first,
        running_server(url) as second,
        httpx.Client(timeout=10) as client,
    ):
        for server in (first, second, second):
            started = client.post(f"{server.url}/api/v1/sessions", json=start(ts=0))
            assert started.status_code == 201
        location = started.headers["location"]
        client.post(f"{first.url}{location}/events", json=event("play", 800))
        client.post(f"{first.url}{location}/events", json=event("sessionEnd", 10_800, 10))
    # both servers stopped: their counts were written at shutdown
    env = {**os.environ, "SESSIONHUB_DATABASE_URL": url, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "sessionhub", "top", "--once", "--minutes", "3"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    active = lines[lines.index(next(line for line in lines if "adobe" in line)) + 2]
    assert active.split("│")[1:-1] and [c.strip() for c in active.split("│")[1:-1]] == [
        "2",  # adobe
        "0",  # nagra
        "0",  # icecast
        "0",  # genesys
        "0",  # nuance
        "2",  # all
    ]
    starts = next(line for line in lines if line.strip("│ ").startswith("starts"))
    ends = next(line for line in lines if line.strip("│ ").startswith("ends"))
    assert sum(int(cell) for cell in starts.split("│")[2:-1]) == 3
    assert sum(int(cell) for cell in ends.split("│")[2:-1]) == 1
    assert "QoE, Adobe sessions of the last hour (3)" in done.stdout
    assert "0.80 s" in done.stdout  # time to start of the one that played


def _view(**qoe: object) -> SessionView:
    base = {
        "time_to_start_ms": None,
        "playing_time_s": 0.0,
        "ad_count": 0,
        "ad_time_s": 0.0,
        "buffer_count": 0,
        "buffer_time_s": 0.0,
        "pause_time_s": 0.0,
        "average_bitrate_bps": None,
        "bitrate_changes": 0,
        "error_count": 0,
        "completed": False,
        "exited_before_start": None,
        "player_states": [],
    }
    return SessionView(
        id="x",
        api="adobe",
        state="ended",
        started_at=0,
        ended_at=1,
        end_reason="ended",
        expires_at=None,
        params={},
        custom_metadata={},
        tenant="default",
        qoe=Qoe(**{**base, **qoe}),  # type: ignore[arg-type]
    )


def test_qoe_summary_follows_the_conviva_definitions() -> None:
    views = [
        _view(
            time_to_start_ms=ms, playing_time_s=90.0, buffer_time_s=10.0, exited_before_start=False
        )
        for ms in range(100, 2100, 100)  # 20 sessions: 100 ms ... 2000 ms
    ]
    views.append(_view(exited_before_start=True, error_count=1))
    views.append(_view(average_bitrate_bps=3_000_000))
    summary = summarize(views)
    assert summary.sessions == 22
    assert (summary.time_to_start_p50_ms, summary.time_to_start_p95_ms) == (1000, 1900)
    assert summary.rebuffer_ratio == 0.1
    assert summary.exits_before_start_pct == 100 / 21
    assert summary.error_sessions_pct == 100 / 22
    assert summary.average_bitrate_bps == 3_000_000


def test_q_quits_top_on_a_terminal_and_gives_the_terminal_back(tmp_path: Path) -> None:
    """Issue 22 item 7: on a real terminal (a pty), ``q`` ends the live view at once."""
    import pty  # noqa: PLC0415
    import select  # noqa: PLC0415
    import termios  # noqa: PLC0415
    import time  # noqa: PLC0415

    url = f"sqlite:///{tmp_path / 'top.db'}"
    subprocess.run(
        [sys.executable, "-m", "sessionhub", "migrate"],
        env={**os.environ, "SESSIONHUB_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    controller, terminal = pty.openpty()
    before = termios.tcgetattr(terminal)
    env = {**os.environ, "SESSIONHUB_DATABASE_URL": url, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sessionhub", "top", "--interval", "30"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    try:
        shown = b""
        deadline = time.monotonic() + 30
        while b"sessionhub top" not in shown and time.monotonic() < deadline:
            if select.select([controller], [], [], 1)[0]:
                shown += os.read(controller, 65536)
        assert b"sessionhub top" in shown, shown
        os.write(controller, b"q")
        assert process.wait(timeout=10) == 0  # not the 30 s interval, nor a kill
        assert termios.tcgetattr(terminal)[3] == before[3]  # echo and line mode are back
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
        os.close(terminal)
