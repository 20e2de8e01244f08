"""A real Prometheus (Debian's package) scrapes /metrics with the viewer token, and the figures
come back through its own HTTP query API."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conformance.conftest import missing
from tests.dialects.adobe.payloads import start
from tests.server import Server, free_port, running_server

VIEWER = "prometheus-viewer-token"

CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sessionhub
    authorization:
      credentials: {token}
    static_configs:
      - targets: ["{target}"]
"""


@pytest.fixture(scope="module")
def viewed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("prometheus") / "sessionhub.db"
    with running_server(f"sqlite:///{path}", SESSIONHUB_VIEWER_TOKEN=VIEWER) as running:
        yield running


@pytest.fixture(scope="module")
def prometheus(viewed_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        missing("prometheus", "apt-get install -y prometheus")
    assert binary is not None
    folder = tmp_path_factory.mktemp("prometheus-data")
    config = folder / "prometheus.yml"
    target = viewed_server.url.removeprefix("http://")
    config.write_text(CONFIG.format(token=VIEWER, target=target))
    port = free_port()
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, folder / "prometheus.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"prometheus exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("prometheus did not become ready")


def _query(prometheus: str, promql: str) -> list[dict[str, object]]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5)
    assert response.status_code == 200, response.text
    result: list[dict[str, object]] = response.json()["data"]["result"]
    return result


def _eventually(prometheus: str, promql: str, expected: float) -> None:
    deadline = time.monotonic() + 30
    seen: object = None
    while time.monotonic() < deadline:
        result = _query(prometheus, promql)
        if result:
            seen = result[0]["value"][1]  # type: ignore[index]
            if float(str(seen)) == expected:
                return
        time.sleep(0.5)
    raise AssertionError(f"{promql} never read {expected} through Prometheus (last: {seen})")


def test_prometheus_scrapes_the_sessions_active(prometheus: str, viewed_server: Server) -> None:
    _eventually(prometheus, 'up{job="sessionhub"}', 1)
    _eventually(prometheus, 'sessionhub_sessions_active{api="adobe"}', 0)
    with httpx.Client(base_url=viewed_server.url, timeout=10) as client:
        for _ in range(3):
            assert client.post("/api/v1/sessions", json=start()).status_code == 201
    _eventually(prometheus, 'sessionhub_sessions_active{api="adobe"}', 3)
    _eventually(prometheus, 'sum(sessionhub_session_starts_total{api="adobe"})', 3)
    starts = 'sessionhub_http_requests_total{route="/api/v1/sessions",method="POST",status="201"}'
    _eventually(prometheus, f"sum({starts})", 3)
