"""A real nginx (Debian's package) from ``deploy/nginx/sessionhub-hls.conf`` serves HLS segments
only to live SRM sessions: served while live, refused after teardown, after eviction by another
device at the limit and after the lease expired; and across three instances on PostgreSQL +
Redis, where a session set up on one instance is enforced by an nginx pointed at another."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import SystemClock
from sessionhub.stores import store_for_url
from tests.conformance.streaming_servers import running_nginx
from tests.conftest import redis_url_for
from tests.server import Server, free_port, running_server

SEGMENT = b"\x47" + bytes(187)  # one MPEG-TS packet: what a segment starts with
PLAYLIST = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg-0.ts\n#EXT-X-ENDLIST\n"
VOD = {"content": {"contentID": "100001V3D", "contentType": "COD"}}


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streams")
    for content in ("100001V3D", "BTV_CH1_V"):
        folder = root / "hls" / content
        folder.mkdir(parents=True)
        (folder / "index.m3u8").write_bytes(PLAYLIST)
        (folder / "seg-0.ts").write_bytes(SEGMENT)
    for path in [root, *root.rglob("*")]:  # readable by nginx's workers whoever they run as
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


async def tenant(database_url: str) -> dict[str, str]:
    """ACME: 2 streams, the oldest evicted at the limit; SHORT: leases of 1 s."""
    store = store_for_url(database_url)
    await store.open()
    try:
        accounts = AccountService(store, SystemClock())
        await accounts.add_account("ACME", max_sessions=2, policy="evict-oldest")
        await accounts.add_account("SHORT", max_sessions=2, lease_timeout_s=1)
        for content, kind in (("100001V3D", "COD"), ("BTV_CH1_V", "LIVE")):
            await accounts.add_content(content, kind)
        tokens = {}
        for account in ("ACME", "SHORT"):
            await accounts.entitle(account, "100001V3D")
            for n in (1, 2, 3):
                device = f"{account.lower()}-{n}"
                await accounts.add_device(account, device)
                tokens[device] = (await accounts.issue_token(account, device)).token
        return tokens
    finally:
        await store.close()


# The device token of each session set up here: a player sends its own with every segment (the
# check is bound to the device by default), as a cookie here, as a native player would.
TOKEN_OF: dict[str, str] = {}


async def setup(client: httpx.AsyncClient, token: str) -> str:
    answer = await client.post("/srm/sessions", json=VOD, headers={"Client-Token": token})
    assert answer.status_code == 200, answer.text
    sid = str(answer.json()["successResponse"]["sessionId"])
    TOKEN_OF[sid] = token
    return sid


async def fetch(viewer: httpx.AsyncClient, sid: str | None, path: str = "seg-0.ts") -> int:
    """A segment as the session's own player asks for it (``sid`` in the query, its device's
    token in a cookie)."""
    query = {"sessionId": sid} if sid else {}
    token = TOKEN_OF.get(sid or "")
    cookie = {"Cookie": f"token={token}"} if token else {}
    answer = await viewer.get(f"/hls/100001V3D/{path}", params=query, headers=cookie)
    if answer.status_code == 200:
        assert answer.content == (SEGMENT if path.endswith(".ts") else PLAYLIST)
    return answer.status_code


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    with running_server(f"sqlite:///{tmp_path / 'hub.db'}") as server:
        yield server


async def test_segments_are_served_to_live_sessions_only(
    sqlite_server: Server, streams: Path
) -> None:
    tokens = await tenant(sqlite_server.database_url)
    with running_nginx([sqlite_server.url], streams) as nginx:
        async with (
            httpx.AsyncClient(base_url=sqlite_server.url) as srm,
            httpx.AsyncClient(base_url=nginx) as viewer,
        ):
            live = await setup(srm, tokens["acme-1"])
            assert await fetch(viewer, live, "index.m3u8") == 200
            assert await fetch(viewer, live) == 200
            by_cookie = await viewer.get(
                "/hls/100001V3D/seg-0.ts",
                headers={"Cookie": f"sessionId={live}; token={tokens['acme-1']}"},
            )
            assert by_cookie.status_code == 200
            with_token = await viewer.get(
                "/hls/100001V3D/seg-0.ts",
                params={"sessionId": live},
                headers={"Client-Token": tokens["short-1"]},  # another account's device
            )
            assert with_token.status_code == 403
            assert with_token.headers["x-sessionhub-reason"] == "the token is another account's"
            assert await fetch(viewer, None) == 401
            other = await viewer.get("/hls/BTV_CH1_V/seg-0.ts", params={"sessionId": live})
            assert other.status_code == 403

            # torn down: the very next segment is refused
            head = {"Client-Token": tokens["acme-1"]}
            assert (await srm.delete(f"/srm/sessions/{live}", headers=head)).status_code == 200
            refused = await viewer.get("/hls/100001V3D/seg-0.ts", params={"sessionId": live})
            assert refused.status_code == 403
            assert refused.headers["x-sessionhub-reason"] == "session ended: teardown"

            # evicted by another device at the limit
            oldest = await setup(srm, tokens["acme-1"])
            await asyncio.sleep(0.01)
            await setup(srm, tokens["acme-2"])
            assert await fetch(viewer, oldest) == 200
            await setup(srm, tokens["acme-3"])
            evicted = await viewer.get("/hls/100001V3D/seg-0.ts", params={"sessionId": oldest})
            assert evicted.status_code == 403
            assert evicted.headers["x-sessionhub-reason"] == "session ended: evicted"

            # expired: no keep-alive within the lease of 1 s
            lapsing = await setup(srm, tokens["short-1"])
            assert await fetch(viewer, lapsing) == 200
            await asyncio.sleep(1.2)
            expired = await viewer.get("/hls/100001V3D/seg-0.ts", params={"sessionId": lapsing})
            assert expired.status_code == 403
            assert expired.headers["x-sessionhub-reason"] == "session ended: expired"


async def test_cached_answers_refuse_within_the_cache_time(
    sqlite_server: Server, streams: Path
) -> None:
    """With the config's cache lines on, a yes is reused for 2 s (up to 3 s: nginx counts whole
    seconds): a torn-down session is refused within that, never later."""
    tokens = await tenant(sqlite_server.database_url)
    with running_nginx([sqlite_server.url], streams, cache=True) as nginx:
        async with (
            httpx.AsyncClient(base_url=sqlite_server.url) as srm,
            httpx.AsyncClient(base_url=nginx) as viewer,
        ):
            sid = await setup(srm, tokens["acme-1"])
            assert await fetch(viewer, None) == 401
            assert await fetch(viewer, sid) == 200  # now cached
            head = {"Client-Token": tokens["acme-1"]}
            assert (await srm.delete(f"/srm/sessions/{sid}", headers=head)).status_code == 200
            ended = time.monotonic()
            served_from_cache = 0
            while await fetch(viewer, sid) == 200:
                served_from_cache += 1
                # nginx keeps time in whole seconds: 2 s of validity last up to 3 s
                assert time.monotonic() - ended < 3.2, "a cached yes outlived the cache time"
                await asyncio.sleep(0.1)
            assert served_from_cache > 0  # the cache is on: the yes was reused after teardown
            assert await fetch(viewer, sid) == 403


async def test_a_cached_yes_is_never_handed_to_another_request(
    sqlite_server: Server, streams: Path
) -> None:
    """The cache key is the original request's query, cookies, token and content: a request
    naming no session, another session or other content is asked about, not served the yes
    that a live session's request left in the cache (inside the auth sub-request $uri and
    $args are the sub-request's own, so a key of those was the same for everyone)."""
    tokens = await tenant(sqlite_server.database_url)
    with running_nginx([sqlite_server.url], streams, cache=True) as nginx:
        async with (
            httpx.AsyncClient(base_url=sqlite_server.url) as srm,
            httpx.AsyncClient(base_url=nginx) as viewer,
        ):
            sid = await setup(srm, tokens["acme-1"])
            for path in ("index.m3u8", "seg-0.ts"):
                assert await fetch(viewer, sid, path) == 200  # cached from now on
                assert await fetch(viewer, None, path) == 401
                assert await fetch(viewer, "not-a-session", path) == 403
            assert (await viewer.get("/hls/BTV_CH1_V/seg-0.ts")).status_code == 401
            cookie = {"Cookie": f"sessionId={sid}; token={tokens['acme-1']}"}
            assert (await viewer.get("/hls/100001V3D/seg-0.ts", headers=cookie)).status_code == 200
            for other in (f"sessionId={sid}", "sessionId=forged", "session=x", ""):
                answer = await viewer.get("/hls/100001V3D/seg-0.ts", headers={"Cookie": other})
                assert answer.status_code in (401, 403), other
            # a query that names the session in a way only sessionhub decodes
            encoded = await viewer.get(
                f"/hls/100001V3D/seg-0.ts?%73essionId={sid}&token={tokens['acme-1']}"
            )
            assert encoded.status_code == 200
            assert await fetch(viewer, None) == 401


async def test_a_shared_link_serves_nobody_but_its_own_device(
    sqlite_server: Server, streams: Path
) -> None:
    """A one-stream account's link (a live session id in the URL) shared with fifty viewers:
    none of them is served, nor a second device of the same account with its own token; the
    device that set the session up is. With the cache on, the owner's yes is not shared."""
    tokens = await tenant(sqlite_server.database_url)
    for cache in (False, True):
        with running_nginx([sqlite_server.url], streams, cache=cache) as nginx:
            async with (
                httpx.AsyncClient(base_url=sqlite_server.url) as srm,
                httpx.AsyncClient(base_url=nginx) as owner,
            ):
                sid = await setup(srm, tokens["acme-1"])
                link = f"/hls/100001V3D/seg-0.ts?sessionId={sid}"
                assert await fetch(owner, sid) == 200
                viewers = [httpx.AsyncClient(base_url=nginx) for _ in range(50)]
                try:
                    answers = await asyncio.gather(*(v.get(link) for v in viewers))
                finally:
                    for viewer in viewers:
                        await viewer.aclose()
                assert [a.status_code for a in answers] == [401] * 50
                assert (
                    answers[0]
                    .headers["x-sessionhub-reason"]
                    .startswith("the session is bound to its device")
                )
                sibling = await owner.get(link, headers={"Client-Token": tokens["acme-2"]})
                assert sibling.status_code == 403
                assert sibling.headers["x-sessionhub-reason"] == "the token is another device's"
                assert await fetch(owner, sid) == 200
                head = {"Client-Token": tokens["acme-1"]}
                assert (await srm.delete(f"/srm/sessions/{sid}", headers=head)).is_success


async def test_the_access_log_holds_no_session_id_or_token(
    sqlite_server: Server, streams: Path, tmp_path: Path
) -> None:
    tokens = await tenant(sqlite_server.database_url)
    log = tmp_path / "streams.log"
    with running_nginx([sqlite_server.url], streams, access_log=log) as nginx:
        async with (
            httpx.AsyncClient(base_url=sqlite_server.url) as srm,
            httpx.AsyncClient(base_url=nginx) as viewer,
        ):
            sid = await setup(srm, tokens["acme-1"])
            token = tokens["acme-1"]
            query = {"sessionId": sid, "token": token}
            answer = await viewer.get("/hls/100001V3D/seg-0.ts", params=query)
            assert answer.status_code == 200
    written = log.read_text()
    assert 'GET /hls/100001V3D/seg-0.ts HTTP/1.1" 200' in written
    assert sid not in written and token not in written


@contextlib.contextmanager
def three_instances(url: str, **env: str) -> Iterator[list[Server]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(running_server(url, **env)) for _ in range(3)]


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from redis_url_for(request)


@pytest.mark.slow
async def test_an_nginx_on_one_instance_enforces_sessions_of_the_others(
    postgres_schema: str, streams: Path, redis_url: str
) -> None:
    tokens = await tenant(postgres_schema)
    with contextlib.ExitStack() as stack:
        a, b, c = stack.enter_context(
            three_instances(postgres_schema, SESSIONHUB_REDIS_URL=redis_url)
        )
        nginx = stack.enter_context(running_nginx([c.url], streams))
        async with (
            httpx.AsyncClient(base_url=a.url) as on_a,
            httpx.AsyncClient(base_url=b.url) as on_b,
            httpx.AsyncClient(base_url=nginx) as viewer,
        ):
            first = await setup(on_a, tokens["acme-1"])
            assert await fetch(viewer, first) == 200
            await asyncio.sleep(0.01)
            second = await setup(on_b, tokens["acme-2"])
            await setup(on_a, tokens["acme-3"])  # evicts the first, decided on A
            await refused_within(viewer, first, CROSS_INSTANCE_S)
            assert await fetch(viewer, second) == 200
            head = {"Client-Token": tokens["acme-2"]}
            assert (await on_b.delete(f"/srm/sessions/{second}", headers=head)).is_success
            await refused_within(viewer, second, CROSS_INSTANCE_S)


# C may reuse a live lease it read for SESSIONHUB_STREAMING_CACHE_MS (1 s) after another
# instance ended it; a little more for the test's own round trips.
CROSS_INSTANCE_S = 1.5


async def refused_within(viewer: httpx.AsyncClient, sid: str, seconds: float) -> None:
    began = time.monotonic()
    while await fetch(viewer, sid) == 200:
        assert time.monotonic() - began < seconds, f"still served after {seconds} s"
        await asyncio.sleep(0.05)


async def test_with_sessionhub_unreachable_nothing_is_served(streams: Path) -> None:
    """Fail closed: nginx cannot ask, so the viewer gets an error, never the segment."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    with running_nginx([nowhere], streams) as nginx:
        async with httpx.AsyncClient(base_url=nginx) as viewer:
            answer = await viewer.get("/hls/100001V3D/seg-0.ts", params={"sessionId": "any"})
            assert answer.status_code >= 500 and answer.content != SEGMENT


async def test_with_a_streaming_key_only_the_configured_nginx_is_answered(
    tmp_path: Path, streams: Path
) -> None:
    """sessionhub with SESSIONHUB_STREAMING_KEY: the shipped config with its key line on is
    answered; the same nginx without it is refused (403), whatever the session."""
    key = "nginx-streaming-key-0123456789"
    with running_server(f"sqlite:///{tmp_path / 'hub.db'}", SESSIONHUB_STREAMING_KEY=key) as server:
        tokens = await tenant(server.database_url)
        async with httpx.AsyncClient(base_url=server.url) as srm:
            sid = await setup(srm, tokens["acme-1"])
        with running_nginx([server.url], streams, key=key) as nginx:
            async with httpx.AsyncClient(base_url=nginx) as viewer:
                assert await fetch(viewer, sid) == 200
        with running_nginx([server.url], streams) as keyless:
            async with httpx.AsyncClient(base_url=keyless) as viewer:
                assert await fetch(viewer, sid) == 403
