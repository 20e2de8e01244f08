"""Run ``sessionhub serve`` as a real process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    database_url: str = ""


@contextlib.contextmanager
def running_server(
    database_url: str,
    *,
    workers: int = 1,
    stdout: IO[bytes] | None = None,
    port: int | None = None,
    **env: str,
) -> Iterator[Server]:
    port = port or free_port()
    environ = {
        **os.environ,
        "SESSIONHUB_DATABASE_URL": database_url,
        "SESSIONHUB_ADMIN_TOKEN": "e2e-admin-token-1234",
        "SESSIONHUB_LOG_LEVEL": "warning",
        **env,
    }
    command = [sys.executable, "-m", "sessionhub", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, env=environ, start_new_session=True, stdout=stdout)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield Server(url, process, database_url)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Terminate a process we started, killing it if it does not go within ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sessionhub exited with {process.returncode} before serving")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"sessionhub did not become ready on {url}")
