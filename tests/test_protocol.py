"""The limits of one connection, against a real ``sessionhub serve`` process (issue: hostile
input, rules 4 and 7): bodies that never fully arrive are never executed; headers are bounded;
a connection that trickles is cut off."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server import Server, running_server

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer e2e-admin-token-1234"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path: Path = tmp_path_factory.mktemp("protocol") / "sessionhub.db"
    with running_server(
        f"sqlite:///{path}",
        SESSIONHUB_REQUEST_TIMEOUT_S="1",
        SESSIONHUB_MAX_HEADER_BYTES="8192",
        SESSIONHUB_MAX_HEADERS="50",
    ) as running:
        yield running


def connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def answer(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def sessions(server: Server) -> list[object]:
    time.sleep(0.3)  # let a request that should not have run have every chance to
    response = httpx.get(f"{server.url}/admin/api/sessions", headers=ADMIN)
    listed: list[object] = response.json()["sessions"]
    return listed


def test_a_body_cut_off_by_a_disconnect_is_never_executed(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"PUT /sessions/new HTTP/1.1\r\nHost: x\r\ngkc_customerId: cut-off\r\n"
            b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
            b'{"visitId": "half-way'
        )
        time.sleep(0.2)
    assert sessions(server) == []
    visitors = httpx.get(
        f"{server.url}/admin/api/visitors?kind=customer&value=cut-off", headers=ADMIN
    )
    assert visitors.status_code == 404


def test_a_body_cut_off_by_a_bad_chunk_is_never_executed(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"PUT /sessions/new HTTP/1.1\r\nHost: x\r\ngkc_customerId: bad-chunk\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            b'5\r\n{"vis\r\nZZZ\r\nnot a chunk\r\n'
        )
        assert answer(sock).startswith(b"HTTP/1.1 400")
    assert sessions(server) == []


def test_too_many_or_too_large_headers_are_431(server: Server) -> None:
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(60))
    large = b"X-Big: " + b"a" * 9000 + b"\r\n"
    long_url = b"/healthz?" + b"q" * 9000
    for request in (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + large + b"\r\n",
        b"GET " + long_url + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ):
        with connect(server) as sock:
            sock.sendall(request)
            assert answer(sock).startswith(b"HTTP/1.1 431 ")
    # Within the limits, the same server answers.
    assert httpx.get(f"{server.url}/healthz", headers={"X-Ok": "a" * 4000}).status_code == 200


def test_a_trickling_or_silent_connection_is_cut_off(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /srm/sessions HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        while time.monotonic() - started < 5:  # one header line at a time, never finishing
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
            time.sleep(0.2)
        received = answer(sock)
    assert received.startswith(b"HTTP/1.1 408 ")
    with connect(server) as sock:  # a connection that never says anything
        assert answer(sock).startswith(b"HTTP/1.1 408 ")
    # A slow body after complete headers is cut off too, and never executed.
    with connect(server) as sock:
        sock.sendall(
            b"PUT /sessions/new HTTP/1.1\r\nHost: x\r\ngkc_customerId: slow-body\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        assert answer(sock).startswith(b"HTTP/1.1 408 ")
    assert sessions(server) == []
