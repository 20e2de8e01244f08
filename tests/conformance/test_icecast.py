"""A real Icecast2 (Debian's package) from ``deploy/icecast/icecast.xml`` admits listeners through
sessionhub: N listeners of an account get the stream, the N+1th is refused (policy deny) or the
oldest is disconnected for it (evict-oldest), and a listener that leaves frees its slot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import SystemClock
from sessionhub.stores import store_for_url
from tests.conformance.conftest import ADMIN
from tests.conformance.streaming_servers import (
    ICECAST_SOURCE_PASSWORD,
    icecast_admin_url,
    running_icecast,
)
from tests.server import Server, free_port, running_server

FRAME = b"\xff\xfb\x90\x64" + bytes(413)  # an MPEG-1 Layer III frame header and silence


class Source:
    """A source client feeding /radio over HTTP PUT (Icecast 2.4's source protocol)."""

    def __init__(self, port: int) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        credentials = base64.b64encode(f"source:{ICECAST_SOURCE_PASSWORD}".encode()).decode()
        self._sock.sendall(
            (
                "PUT /radio HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Basic {credentials}\r\nContent-Type: audio/mpeg\r\n"
                "Ice-Public: 0\r\nExpect: 100-continue\r\n\r\n"
            ).encode()
        )
        answer = self._sock.recv(1024)
        assert answer.startswith((b"HTTP/1.1 100", b"HTTP/1.0 200", b"HTTP/1.1 200")), answer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        with contextlib.suppress(OSError):
            while not self._stop.is_set():
                self._sock.sendall(FRAME * 8)
                time.sleep(0.02)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


class Ear:
    """One listener: connects, reads the answer, and keeps reading until told or cut off."""

    def __init__(self, port: int, path: str, user: str | None = None, pw: str = "") -> None:
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: sessionhub-test\r\n"
        if user is not None:
            head += f"Authorization: Basic {base64.b64encode(f'{user}:{pw}'.encode()).decode()}\r\n"
        self._sock.sendall((head + "\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = self._sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        self.status = int(answer.split(b" ", 2)[1]) if answer else 0
        self.cut = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._drain, daemon=True).start()
        else:  # refused: Icecast closes it; so do we
            self._sock.close()

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while self._sock.recv(65536):
                pass
        self.cut.set()
        self._sock.close()

    def leave(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


async def tenant(database_url: str) -> dict[str, str]:
    store = store_for_url(database_url)
    await store.open()
    try:
        accounts = AccountService(store, SystemClock())
        await accounts.add_content("radio", "LIVE")
        tokens = {}
        for account, policy in (("DENY", "deny"), ("EVICT", "evict-oldest")):
            await accounts.add_account(
                account, max_sessions=2, policy=policy, password="listen-pass"
            )
            await accounts.entitle(account, "radio")
            for n in (1, 2, 3):
                await accounts.add_device(account, f"{account}-{n}")
                tokens[f"{account}-{n}"] = (
                    await accounts.issue_token(account, f"{account}-{n}")
                ).token
        return tokens
    finally:
        await store.close()


STREAMING_KEY = "icecast-streaming-key-0123456789"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Server, int]]:
    """sessionhub told the Icecast admin URL and a streaming key, then the Icecast pointed at
    it with the key on its URLs (as the shipped config says to), with a source."""
    icecast_port = free_port()
    with (
        running_server(
            f"sqlite:///{tmp_path / 'hub.db'}",
            SESSIONHUB_ICECAST_ADMIN_URLS=icecast_admin_url(icecast_port),
            SESSIONHUB_STREAMING_KEY=STREAMING_KEY,
            SESSIONHUB_STREAMING_ICECAST="true",
        ) as server,
        running_icecast(server.url, icecast_port, key=STREAMING_KEY),
    ):
        source = Source(icecast_port)
        try:
            wait_for(lambda: mounted(icecast_port), "the /radio mount")
            yield server, icecast_port
        finally:
            source.close()


def mounted(port: int) -> bool:
    status = httpx.get(f"http://127.0.0.1:{port}/status-json.xsl", timeout=5).text
    return '"listenurl"' in status and "/radio" in status


def wait_for(check: Callable[[], bool], what: str, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.05)


def live(server: Server, account: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{server.url}/admin/api/accounts/{account}/sessions", headers=ADMIN)
    sessions: list[dict[str, object]] = answer.json()["sessions"]
    return sessions


def ear(port: int, tokens: dict[str, str], device: str) -> Ear:
    return Ear(port, f"/radio?token={quote(tokens[device])}")


def test_the_listener_beyond_the_limit_is_refused_until_one_leaves(
    stack: tuple[Server, int],
) -> None:
    server, port = stack
    tokens = asyncio.run(tenant(server.database_url))
    first, second = ear(port, tokens, "DENY-1"), ear(port, tokens, "DENY-2")
    assert (first.status, second.status) == (200, 200)
    assert len(live(server, "DENY")) == 2
    third = ear(port, tokens, "DENY-3")
    assert third.status in (401, 403)  # Icecast's refusal; sessionhub said why
    assert len(live(server, "DENY")) == 2
    first.leave()
    wait_for(lambda: len(live(server, "DENY")) == 1, "the slot freed on disconnect")
    again = ear(port, tokens, "DENY-3")
    assert again.status == 200
    ended = httpx.get(
        f"{server.url}/admin/api/accounts/DENY/sessions?state=ended", headers=ADMIN
    ).json()["sessions"]
    assert [s["end_reason"] for s in ended] == ["disconnected"]
    second.leave()
    again.leave()


def test_evict_oldest_and_an_operator_disconnect_listeners(stack: tuple[Server, int]) -> None:
    server, port = stack
    tokens = asyncio.run(tenant(server.database_url))
    oldest = ear(port, tokens, "EVICT-1")
    time.sleep(0.01)
    newer = ear(port, tokens, "EVICT-2")
    assert (oldest.status, newer.status) == (200, 200)
    newest = ear(port, tokens, "EVICT-3")
    assert newest.status == 200
    assert oldest.cut.wait(10), "the evicted listener is still connected"
    assert not newer.cut.is_set() and not newest.cut.is_set()
    devices = sorted(str(s["device_id"]) for s in live(server, "EVICT"))
    assert devices == ["EVICT-2", "EVICT-3"]
    # an operator ending a listener's session (admin API, dashboard) disconnects it too
    [session] = [s for s in live(server, "EVICT") if s["device_id"] == "EVICT-2"]
    ended = httpx.delete(f"{server.url}/admin/api/sessions/{session['id']}", headers=ADMIN)
    assert ended.status_code == 200, ended.text
    assert newer.cut.wait(10), "the listener whose session an operator ended is connected"
    assert not newest.cut.is_set()
    newest.leave()


def test_listeners_sign_in_with_the_accounts_password(stack: tuple[Server, int]) -> None:
    server, port = stack
    asyncio.run(tenant(server.database_url))
    good = Ear(port, "/radio", "DENY", "listen-pass")
    assert good.status == 200
    assert Ear(port, "/radio", "DENY", "wrong").status in (401, 403)
    assert Ear(port, "/radio").status in (401, 403)  # no credentials at all
    assert len(live(server, "DENY")) == 1
    good.leave()
    wait_for(lambda: not live(server, "DENY"), "the session ended on disconnect")


def test_an_icecast_back_from_a_crash_frees_its_listeners_slots(tmp_path: Path) -> None:
    """Killed, an Icecast never sends listener_remove; back up, its source's mount_add ends
    the sessions of the listeners it lost, and the account can listen again."""
    port = free_port()
    admin = icecast_admin_url(port)
    with running_server(
        f"sqlite:///{tmp_path / 'hub.db'}",
        SESSIONHUB_ICECAST_ADMIN_URLS=admin,
        SESSIONHUB_STREAMING_KEY=STREAMING_KEY,
        SESSIONHUB_STREAMING_ICECAST="true",
    ) as server:
        tokens = asyncio.run(tenant(server.database_url))
        with running_icecast(server.url, port, STREAMING_KEY) as icecast:
            source = Source(port)
            wait_for(lambda: mounted(port), "the /radio mount")
            ears = [ear(port, tokens, "DENY-1"), ear(port, tokens, "DENY-2")]
            assert [e.status for e in ears] == [200, 200]
            icecast.process.kill()  # no listener_remove for anyone
            assert all(e.cut.wait(10) for e in ears)
            source.close()
        assert len(live(server, "DENY")) == 2  # nobody told sessionhub
        with running_icecast(server.url, port, STREAMING_KEY):
            source = Source(port)
            try:
                wait_for(lambda: not live(server, "DENY"), "the lost listeners' sessions ended")
                wait_for(lambda: mounted(port), "the /radio mount")
                back = ear(port, tokens, "DENY-3")
                assert back.status == 200
                back.leave()
            finally:
                source.close()


def test_icecast_starts_without_warnings_and_logs_no_key(tmp_path: Path) -> None:
    """The shipped config as it is: no warning at start-up (a comment inside <authentication>
    was read as an unknown option), and the streaming key, sent as basic authentication's
    password, in none of Icecast's logs, through a whole listener's visit and a restart."""
    port = free_port()
    with running_server(
        f"sqlite:///{tmp_path / 'hub.db'}",
        SESSIONHUB_ICECAST_ADMIN_URLS=icecast_admin_url(port),
        SESSIONHUB_STREAMING_KEY=STREAMING_KEY,
        SESSIONHUB_STREAMING_ICECAST="true",
    ) as server:
        tokens = asyncio.run(tenant(server.database_url))
        with running_icecast(server.url, port, STREAMING_KEY) as icecast:
            source = Source(port)
            try:
                wait_for(lambda: mounted(port), "the /radio mount")
                listener = ear(port, tokens, "DENY-1")
                assert listener.status == 200
                listener.leave()
                wait_for(lambda: not live(server, "DENY"), "the session ended on disconnect")
            finally:
                source.close()
            time.sleep(0.5)  # mount_remove
            console = (icecast.logs / "console.log").read_text()
            errors = (icecast.logs / "error.log").read_text()
            access = (icecast.logs / "access.log").read_text()
    started = errors.split("server started", 1)[0]
    assert "WARN" not in console + started, console + started
    assert "/radio" in access
    assert STREAMING_KEY not in console + errors + access
