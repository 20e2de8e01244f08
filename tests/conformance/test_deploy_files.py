"""The shipped nginx files run as they are (issue 22 item 6): ``deploy/nginx/nginx.conf`` with
``sessionhub-hls.conf`` beside it, copied unchanged into a folder and started the way its
first lines say, in front of a sessionhub on the port and with the key those files name. A
player's segment is served to its session and refused without one; the key line is live."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import httpx

from tests.conformance.conftest import missing
from tests.conformance.streaming_servers import DEPLOY, debian_binary, wait_for_port
from tests.conformance.test_nginx import PLAYLIST, SEGMENT, VOD, tenant
from tests.server import running_server, stop

SESSIONHUB_PORT = 8080  # the upstream the shipped site names
NGINX_PORT = 8081  # where the shipped site listens
SHIPPED_KEY = "change-me-streaming-key"  # the key the shipped site sends


def taken(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def test_the_shipped_nginx_files_run_unchanged(tmp_path: Path) -> None:
    busy = [port for port in (SESSIONHUB_PORT, NGINX_PORT) if taken(port)]
    if busy:
        missing(f"ports {busy}", "the shipped files name 8080 and 8081: free them")
    binary = debian_binary("nginx", "/usr/sbin/nginx")
    # Run as root, nginx's workers are nobody: the copy goes where nobody can read it (pytest's
    # own folders are root's alone), and is removed after.
    outer = Path(tempfile.mkdtemp(prefix="sessionhub-deploy-"))
    folder = outer / "nginx"
    shutil.copytree(DEPLOY / "nginx", folder)
    for name in ("nginx.conf", "sessionhub-hls.conf"):  # byte for byte what ships
        assert (folder / name).read_bytes() == (DEPLOY / "nginx" / name).read_bytes()
    segments = folder / "streams" / "hls" / "100001V3D"
    segments.mkdir(parents=True)
    (segments / "index.m3u8").write_bytes(PLAYLIST)
    (segments / "seg-0.ts").write_bytes(SEGMENT)
    for path in [outer, *outer.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    tokens = asyncio.run(tenant(database))
    with running_server(
        database, port=SESSIONHUB_PORT, SESSIONHUB_STREAMING_KEY=SHIPPED_KEY
    ) as server:
        # the command the file's first lines give
        log = tmp_path / "nginx.log"
        with log.open("wb") as output:
            nginx = subprocess.Popen(
                [binary, "-p", f"{folder}/", "-c", "nginx.conf"],
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
                env={**os.environ},
            )
        try:
            wait_for_port(NGINX_PORT, nginx, "nginx", log)
            with httpx.Client(base_url=server.url, timeout=10) as client:
                setup = client.post(
                    "/srm/sessions", json=VOD, headers={"Client-Token": tokens["acme-1"]}
                )
                assert setup.status_code == 200, setup.text
                sid = setup.json()["successResponse"]["sessionId"]
            with httpx.Client(base_url=f"http://127.0.0.1:{NGINX_PORT}", timeout=10) as player:
                served = player.get(
                    "/hls/100001V3D/seg-0.ts", params={"sessionId": sid, "token": tokens["acme-1"]}
                )
                reason = served.headers.get("x-sessionhub-reason")
                assert (served.status_code, served.content) == (200, SEGMENT), reason
                assert player.get("/hls/100001V3D/seg-0.ts").status_code == 401
            # sessionhub has a key: the 200 above means nginx sent the shipped one (the key
            # line is live). The site logs under the prefix, as the file says, without tokens.
            logged = (folder / "streams.log").read_text()
            assert "/hls/100001V3D/seg-0.ts" in logged and tokens["acme-1"] not in logged
        finally:
            stop(nginx)
            shutil.rmtree(outer, ignore_errors=True)
        assert b"[emerg]" not in log.read_bytes() and b"[warn]" not in log.read_bytes()
