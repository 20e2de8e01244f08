"""The premise of ``sessionhub.collector``: the hot routes build no reference cycles, so the
young generation's threshold can sit far above CPython's default without garbage piling up.

Each route runs through the real ASGI app on every configuration, called by a bare ASGI caller
(an HTTP client library would bring cycles of its own), with the collector off; afterwards
``gc.collect()`` must find nothing those requests left behind.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from oauthlib.oauth1 import Client

from sessionhub import collector
from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from tests.dialects.adobe.payloads import event, start
from tests.dialects.massivemusic.test_routes import log

ROUNDS = 40


async def call(
    app: SessionHub, method: str, target: str, body: bytes = b"", headers: Any = ()
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request as uvicorn hands it to the app; (status, headers, body) of the answer."""
    url = urlsplit(target)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": url.path,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"sessionhub.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in dict(headers).items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    messages: list[dict[str, Any]] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        assert not sent, "the app read past the body"
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    head, *rest = messages
    return head["status"], dict(head["headers"]), b"".join(m.get("body", b"") for m in rest)


async def test_hot_routes_leave_no_cyclic_garbage(app: SessionHub, clock: ManualClock) -> None:
    clock.set(time.time_ns() // 1_000_000)  # oauthlib signs with the real time
    accounts = app.accounts
    await accounts.add_account("ACME", max_sessions=2)
    await accounts.add_content("100001V3D", "COD")
    await accounts.entitle("ACME", "100001V3D")
    tokens = []
    for device in ("tv", "stb"):
        await accounts.add_device("ACME", device)
        tokens.append({"Client-Token": (await accounts.issue_token("ACME", device)).token})
    await app.consumers.add("partner-key", "partner-secret", ["GB"])
    app.consumers.rate_per_s = 10_000  # the limit is not under test: 40 batches at once
    signer = Client("partner-key", client_secret="partner-secret")
    srm_body = json.dumps({"content": {"contentID": "100001V3D", "contentType": "COD"}}).encode()

    async def one_round(n: int) -> None:
        status, headers, _ = await call(
            app, "POST", "/api/v1/sessions", json.dumps(start()).encode()
        )
        assert status == 201
        events = headers[b"location"].decode() + "/events"
        for ts in (1, 2):
            ping = event("ping", ts=1_700_000_000_000 + n * 10 + ts, playhead=ts)
            assert (await call(app, "POST", events, json.dumps(ping).encode()))[0] == 204
        status, _, answer = await call(app, "POST", "/srm/sessions", srm_body, tokens[n % 2])
        assert status == 200, answer
        srm = json.loads(answer)["successResponse"]["sessionId"]
        keep_alive = f"/srm/sessions/{srm}"
        assert (await call(app, "PUT", keep_alive, b"", tokens[n % 2]))[0] == 200
        logs = [log(n * 20 + i) for i in range(20)]  # each one new
        uri, headers, _ = signer.sign(
            "http://sessionhub.test/1.2/user/preview/log?country=GB",
            http_method="POST",
            headers={"Content-Type": "application/json"},
        )
        status, _, answer = await call(
            app, "POST", uri, json.dumps({"logs": logs}).encode(), headers
        )
        assert status == 200, answer

    await one_round(0)  # first calls fill caches that live as long as the app
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for n in range(1, ROUNDS + 1):
            await one_round(n)
        left = gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    # 40 rounds are 320 requests: a cycle built per request, or per batch, would show here
    assert left == 0, f"{left} objects in reference cycles after {ROUNDS} rounds"


def test_settle_freezes_start_up_and_raises_the_young_threshold() -> None:
    code = (
        "import gc; from sessionhub import collector; before = gc.get_threshold();"
        " collector.settle(); after = gc.get_threshold();"
        " print(gc.get_freeze_count() > 0, after[0], after[1:] == before[1:])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", str(collector.YOUNG_THRESHOLD), "True"]
