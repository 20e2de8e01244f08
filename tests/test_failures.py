"""When PostgreSQL or Redis goes away, requests fail fast in each vendor's shape with 503,
nothing acknowledged is lost, and service resumes by itself when it returns. The tests run a
server of their own so they can stop and restart it."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.dialects.adobe.payloads import event, start
from tests.server import free_port, running_server
from tests.test_instances import VOD, tenant

pytestmark = pytest.mark.slow


class PrivatePostgres:
    def __init__(self, root: Path, port: int) -> None:
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.data = root / "data"
        self.root = root
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True)

    def init(self) -> None:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") or (
        os.geteuid() == 0 and shutil.which("runuser") is None
    ):
        message = "needs PostgreSQL's server binaries (Debian postgresql) to run a private server"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="sessionhub-pg-"))
    os.chmod(root, 0o777)
    server = PrivatePostgres(root, free_port())
    server.init()
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_postgres_outage_fails_fast_loses_nothing_and_recovers(
    private_postgres: PrivatePostgres,
) -> None:
    with running_server(private_postgres.url) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            acknowledged = []
            for _ in range(5):
                response = await client.post("/api/v1/sessions", json=start())
                assert response.status_code == 201
                acknowledged.append(response.headers["location"].rsplit("/", 1)[1])
            sid = acknowledged[0]
            ping = event("ping", 5_000, 1)
            assert (
                await client.post(f"/api/v1/sessions/{sid}/events", json=ping)
            ).status_code == 204

            private_postgres.stop()

            started = time.monotonic()
            down = await client.post(f"/api/v1/sessions/{sid}/events", json=event("ping", 6_000, 2))
            assert down.status_code == 503
            # The failure is named; the driver's words and the server's address are not.
            assert down.json()["message"] == "database unavailable"
            srm = await client.post(
                "/srm/sessions",
                json={"content": {"contentID": "x", "contentType": "COD"}},
                headers={"Client-Token": "t"},
            )
            assert srm.status_code == 503
            assert srm.json()["errorResponse"]["errorCode"] == "SRM-0016"
            genesys = await client.put("/sessions/new")
            assert (genesys.status_code, genesys.json()["code"]) == (503, 503)
            for answer in (srm, genesys):
                assert "127.0.0.1" not in answer.text and "onnect" not in answer.text
            assert (await client.get("/readyz")).status_code == 503
            assert time.monotonic() - started < 15  # fast, not a hang

            private_postgres.start()

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                back = await client.post(
                    f"/api/v1/sessions/{sid}/events", json=event("ping", 7_000, 3)
                )
                if back.status_code == 204:
                    break
                await asyncio.sleep(0.5)
            assert back.status_code == 204, back.text
            assert (await client.get("/readyz")).status_code == 200
            for session_id in acknowledged:
                found = await client.get(
                    f"/admin/api/sessions/{session_id}",
                    headers={"Authorization": "Bearer e2e-admin-token-1234"},
                )
                assert found.status_code == 200
            events = found.json()["events"]
            assert [e["event_type"] for e in events] == ["sessionStart"]
            first = await client.get(
                f"/admin/api/sessions/{sid}",
                headers={"Authorization": "Bearer e2e-admin-token-1234"},
            )
            assert [e["ts"] for e in first.json()["events"]] == [0, 5_000, 7_000]


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        message = "needs redis-server to run a private Redis"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PrivateRedis:
    """A Redis without persistence: a restart loses everything, the hardest case."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            )
            if probe.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("the private Redis did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


async def test_redis_outage_fails_fast_and_recovers_with_every_live_session_counted(
    private_redis: PrivateRedis, postgres_schema: str
) -> None:
    tokens = await tenant(postgres_schema, 2, limit=1)
    env = {"SESSIONHUB_REDIS_URL": private_redis.url}
    with running_server(postgres_schema, **env) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            first, second = ({"Client-Token": token} for token in tokens)
            setup = await client.post("/srm/sessions", json=VOD, headers=first)
            sid = setup.json()["successResponse"]["sessionId"]
            keep_alive = f"/srm/sessions/{sid}"
            assert (await client.put(keep_alive, headers=first)).status_code == 200

            private_redis.stop()

            started = time.monotonic()
            down = await client.put(keep_alive, headers=first)
            assert down.status_code == 503
            assert down.json()["errorResponse"]["errorCode"] == "SRM-0016"
            assert "127.0.0.1" not in down.text and "onnect" not in down.text
            refused = await client.post("/srm/sessions", json=VOD, headers=second)
            assert refused.status_code == 503
            assert (await client.get("/readyz")).status_code == 503
            assert time.monotonic() - started < 15  # fast, not a hang
            # What needs no hot state goes on: media sessions live in PostgreSQL.
            assert (await client.post("/api/v1/sessions", json=start())).status_code == 201

            private_redis.start()  # empty: it lost every lease

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                back = await client.put(keep_alive, headers=first)
                if back.status_code == 200:
                    break
                await asyncio.sleep(0.5)
            assert back.status_code == 200, back.text
            assert (await client.get("/readyz")).status_code == 200
            # The acknowledged session was loaded again from its record: it still counts.
            full = await client.post("/srm/sessions", json=VOD, headers=second)
            assert full.json()["errorResponse"]["errorCode"] == "SRM-0006"
            assert (await client.delete(keep_alive, headers=first)).status_code == 200
            assert (await client.post("/srm/sessions", json=VOD, headers=second)).status_code == 200
