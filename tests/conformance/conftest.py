"""The conformance suite: real third-party clients against a real ``sessionhub serve``.

A client that cannot be set up (Node, its packages, Chromium) skips its tests with a message
saying how to set it up, except under ``CI=true``, where it fails the run: `.ci/run` installs
every one of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server import Server, running_server

NODE_DIR = Path(__file__).parent / "node"
CHROMIUM = "/usr/bin/chromium"
# Flags for a headless Chromium as root on a machine with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ADMIN = {"Authorization": "Bearer e2e-admin-token-1234"}


def missing(what: str, how: str) -> None:
    message = f"{what} is not available ({how})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def node() -> str:
    """Node with the suite's npm packages installed from its lock file."""
    found = shutil.which("node")
    if found is None:
        missing("node", "install Node 20")
    if not (NODE_DIR / "node_modules").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            missing("npm", "install npm")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    return str(found)


def cli(server: Server, *args: str) -> str:
    """``sessionhub ARGS...`` against the server's database, as an operator runs it."""
    env = {**os.environ, "SESSIONHUB_DATABASE_URL": server.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "sessionhub", *args], env=env, check=True, capture_output=True
    )
    return done.stdout.decode().strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("conformance") / "sessionhub.db"
    # Clients here send requests as fast as a test can: the play-log rate limit is for partners.
    with running_server(f"sqlite:///{path}", SESSIONHUB_PLAYLOG_RATE_PER_S="1000") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        missing("Chromium", "apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        missing("Playwright", "pip install playwright (the dev extra has it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
