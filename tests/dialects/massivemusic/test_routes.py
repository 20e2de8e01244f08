"""MassiveMusic play logging through the real ASGI app, every request signed by oauthlib's
real OAuth 1.0 client (PROTOCOLS.md §5, seed 004)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY, Client

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock

BASE = "http://sessionhub.test"
PREVIEW = "/1.2/user/preview/log?country=GB"


@pytest.fixture
async def consumer(app: SessionHub, clock: ManualClock) -> str:
    clock.set(time.time_ns() // 1_000_000)  # oauthlib signs with the real time
    await app.consumers.add("partner-key", "partner-secret", ["GB", "US", "DE"])
    return "partner-key"


def played(minutes_ago: float = 1) -> str:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "3Z"  # 7 fractional digits, as the seed


def log(n: int = 0, **changes: Any) -> dict[str, Any]:
    entry = {
        "userId": f"user-{n % 3}",
        "country": "GB",
        "trackId": 1000 + n,
        "playMode": "online",
        "dateTimePlayed": played(n + 1),
        "totalTimePlayed": 30,
        "userAgent": "iPhone 15/app 4.2",
    }
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


async def signed(
    client: httpx.AsyncClient,
    path: str,
    body: Any,
    *,
    key: str = "partner-key",
    secret: str = "partner-secret",
    form: bool = False,
    in_query: bool = False,
    **client_options: Any,
) -> httpx.Response:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    data = urlencode(body) if form else json.dumps(body)
    oauth = Client(
        key,
        client_secret=secret,
        signature_type=SIGNATURE_TYPE_QUERY if in_query else "AUTH_HEADER",
        **client_options,
    )
    uri, headers, _ = oauth.sign(
        BASE + path,
        http_method="POST",
        body=data if form else None,
        headers={"Content-Type": content_type},
    )
    return await client.post(uri, content=data, headers=headers)


async def stored_logs(app: SessionHub) -> list[tuple[Any, ...]]:
    return [
        (
            log.user_id,
            log.country,
            log.track_id,
            log.play_type,
            log.play_mode,
            log.user_agent,
            log.kind,
        )
        for log in await app.store.list_play_logs()
    ]


async def test_preview_batch_is_stored_and_answers_empty_object(
    app: SessionHub, client: httpx.AsyncClient, consumer: str
) -> None:
    response = await signed(client, PREVIEW, {"logs": [log(i) for i in range(3)]})

    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["x-ratelimit-limit"] == "5"
    assert response.headers["x-ratelimit-remaining"] == "4"
    assert int(response.headers["x-ratelimit-reset"]) >= int(time.time())
    assert [row[:4] for row in (await stored_logs(app))] == [
        ("user-0", "GB", 1000, "view"),
        ("user-1", "GB", 1001, "view"),
        ("user-2", "GB", 1002, "view"),
    ]


async def test_signature_in_the_query_string_and_a_single_log_as_form_fields(
    app: SessionHub, client: httpx.AsyncClient, consumer: str
) -> None:
    assert (await signed(client, PREVIEW, {"logs": [log(1)]}, in_query=True)).status_code == 200
    form = {**log(2, trackId=77, playType="creation"), "totalTimePlayed": "0"}
    response = await signed(client, "/1.2/user/preview/log?country=US", form, form=True)
    assert response.status_code == 200, response.text
    assert (await stored_logs(app))[-1][2:4] == (77, "creation")


async def test_user_agent_is_truncated_never_rejected(
    app: SessionHub, client: httpx.AsyncClient, consumer: str
) -> None:
    response = await signed(client, PREVIEW, {"logs": [log(0, userAgent="x" * 1000)]})
    assert response.status_code == 200
    assert len((await stored_logs(app))[0][5]) == 256


async def test_every_bad_entry_is_listed_and_nothing_is_stored(
    app: SessionHub, client: httpx.AsyncClient, consumer: str
) -> None:
    batch = [
        log(0),
        log(1, userId=None),
        log(2, country="XX"),
        log(3, playMode="radio"),
        log(4, dateTimePlayed=played(60 * 24 * 62)),
        log(5, dateTimePlayed=played(-60)),
        log(6, trackId="abc"),
        log(7, totalTimePlayed=-5),
        log(8, dateTimePlayed="yesterday"),
        log(9),
    ]
    response = await signed(client, PREVIEW, {"logs": batch})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (1008, "One or more logs contain an error")
    assert [(e["index"], e["code"]) for e in error["errors"]] == [
        (1, 1001),
        (2, 1002),
        (3, 1006),
        (4, 1002),
        (5, 1002),
        (6, 1002),
        (7, 1003),
        (8, 1002),
    ]
    assert "too much in the past" in error["errors"][3]["message"]
    assert "future" in error["errors"][4]["message"]
    assert (await stored_logs(app)) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [({"logs": []}, 1003), ({"logs": [log(i) for i in range(501)]}, 1003), ({}, 1001), ([], 1002)],
)
async def test_batch_size_and_shape(
    client: httpx.AsyncClient, consumer: str, body: Any, code: int
) -> None:
    response = await signed(client, PREVIEW, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_country_parameter_rules(client: httpx.AsyncClient, consumer: str) -> None:
    body = {"logs": [log()]}
    missing = await signed(client, "/1.2/user/preview/log", body)
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, 1001)
    invalid = await signed(client, "/1.2/user/preview/log?country=UK", body)
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, 1002)
    denied = await signed(client, "/1.2/user/preview/log?country=FR", body)
    assert denied.status_code == 401
    assert denied.text.startswith("OAuth authentication error: Access to resource denied")


async def test_oauth_failures_answer_plain_text_401(
    client: httpx.AsyncClient, consumer: str
) -> None:
    body = {"logs": [log()]}
    cases = [
        await signed(client, PREVIEW, body, secret="wrong-secret"),
        await signed(client, PREVIEW, body, key="unknown-key"),
        await signed(client, PREVIEW, body, timestamp=str(int(time.time()) - 3600)),
        await signed(client, PREVIEW, body, signature_method="PLAINTEXT"),
        await client.post(PREVIEW, json=body),
    ]
    for response in cases:
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text.startswith("OAuth authentication error: ")
    assert "signature" in cases[0].text.lower()
    assert "consumer key" in cases[1].text.lower()


async def test_a_replayed_request_is_refused(client: httpx.AsyncClient, consumer: str) -> None:
    data = json.dumps({"logs": [log()]})
    uri, headers, _ = Client("partner-key", client_secret="partner-secret").sign(
        BASE + PREVIEW, http_method="POST", headers={"Content-Type": "application/json"}
    )
    assert (await client.post(uri, content=data, headers=headers)).status_code == 200
    replay = await client.post(uri, content=data, headers=headers)
    assert (replay.status_code, replay.text) == (
        401,
        "OAuth authentication error: Nonce has already been used",
    )


async def test_tampered_form_body_fails_the_signature(
    client: httpx.AsyncClient, consumer: str
) -> None:
    form = urlencode(log(1))
    uri, headers, _ = Client("partner-key", client_secret="partner-secret").sign(
        BASE + PREVIEW,
        http_method="POST",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    tampered = form.replace("trackId=1001", "trackId=9999")
    assert (await client.post(uri, content=tampered, headers=headers)).status_code == 401


async def test_rate_limit_per_key(
    app: SessionHub, client: httpx.AsyncClient, consumer: str, clock: ManualClock
) -> None:
    statuses = [(await signed(client, PREVIEW, {"logs": [log(i)]})).status_code for i in range(5)]
    assert statuses == [200] * 5
    limited = await signed(client, PREVIEW, {"logs": [log(9)]})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.json()["error"]["code"] == 7001
    await app.consumers.add("other-key", "other-secret", ["GB"])
    other = await signed(
        client, PREVIEW, {"logs": [log(9)]}, key="other-key", secret="other-secret"
    )
    assert other.status_code == 200  # the limit is per key
    clock.advance(seconds=1)
    assert (await signed(client, PREVIEW, {"logs": [log(9)]})).status_code == 200


async def test_a_retried_batch_is_stored_once(
    app: SessionHub, client: httpx.AsyncClient, consumer: str
) -> None:
    batch = {"logs": [log(i) for i in range(4)]}
    assert (await signed(client, PREVIEW, batch)).status_code == 200
    assert (await signed(client, PREVIEW, batch)).status_code == 200
    assert len(await stored_logs(app)) == 4
    view = {"logs": [log(0, playType="creation")]}  # another play type is another play
    assert (await signed(client, PREVIEW, view)).status_code == 200
    assert len(await stored_logs(app)) == 5


async def test_subscription_and_catalogue_logs(
    app: SessionHub, client: httpx.AsyncClient, consumer: str
) -> None:
    item = {
        "trackId": 1,
        "releaseId": 2,
        "formatId": 3,
        "playMode": "offline",
        "dateTimePlayed": played(),
        "totalTimePlayed": 200,
        "userAgent": "app",
    }
    ok = await signed(
        client,
        "/1.2/user/subscription/log?country=DE&userId=sub-1",
        {"playLogItem": [item, {**item, "trackId": 4}]},
    )
    assert ok.json() == {"status": "ok", "version": "1.2", "playLogs": {"count": 2}}
    no_user = await signed(client, "/1.2/user/subscription/log?country=DE", {"playLogItem": [item]})
    assert no_user.status_code == 400
    assert no_user.json() == {
        "status": "error",
        "version": "1.2",
        "error": {"code": 1001, "message": "Required parameter userId is missing"},
    }
    radio = {
        "endReason": "naturalEnd",
        "userId": "r-1",
        "userAgent": "radio",
        "totalTimePlayed": "180",
        "dateTimePlayed": played(),
        "formatId": "17",
        "releaseId": "5",
        "trackId": "42",
    }
    response = await signed(client, "/1.2/catalogue/log?country=GB", {"playLogItem": [radio]})
    assert response.json()["playLogs"]["count"] == 1
    bad = await signed(
        client, "/1.2/catalogue/log?country=GB", {"playLogItem": [{**radio, "trackId": "x"}]}
    )
    error = bad.json()
    assert (bad.status_code, error["status"], error["error"]["code"]) == (400, "error", 1008)
    assert [row[6] for row in (await stored_logs(app))] == [
        "subscription",
        "subscription",
        "catalogue",
    ]
    # Each kind's own members: the subscription's user from the query, no end reason; the
    # catalogue log's user and end reason from the entry, no play mode.
    assert [
        (log.user_id, log.country, log.play_mode, log.end_reason, log.release_id, log.format_id)
        for log in await app.store.list_play_logs()
    ] == [
        ("sub-1", "DE", "offline", None, 2, 3),
        ("sub-1", "DE", "offline", None, 2, 3),
        ("r-1", "GB", None, "naturalEnd", 5, 17),
    ]


async def test_royalty_report_from_the_admin_api(
    client: httpx.AsyncClient, consumer: str, admin_headers: dict[str, str]
) -> None:
    batch = [
        log(0, trackId=1),
        log(1, trackId=1, country="DE", totalTimePlayed=10),
        log(2, trackId=2),
    ]
    await signed(client, PREVIEW, {"logs": batch})
    today = dt.datetime.now(dt.UTC).date()
    since = (today - dt.timedelta(days=1)).isoformat()  # safe across midnight UTC
    base = f"/admin/api/reports/plays?from={since}&to={today.isoformat()}"
    path = f"{base}&by=track,country"

    as_csv = await client.get(f"{path}&format=csv", headers=admin_headers)
    assert as_csv.headers["content-type"] == "text/csv"
    assert as_csv.text.splitlines() == [
        "track,country,plays,seconds",
        "1,DE,1,10",
        "1,GB,1,30",
        "2,GB,1,30",
    ]
    as_json = await client.get(f"{path}&format=json", headers=admin_headers)
    assert as_json.json()[0] == {"track": 1, "country": "DE", "plays": 1, "seconds": 10}
    as_tsv = await client.get(f"{path}&format=tsv", headers=admin_headers)
    assert as_tsv.text.splitlines()[1] == "1\tDE\t1\t10"
    for bad in ("&by=genre", "&by=track&format=xml"):
        assert (await client.get(base + bad, headers=admin_headers)).status_code == 400
    assert (
        await client.get(f"/admin/api/reports/plays?from=x&to={since}", headers=admin_headers)
    ).status_code == 400


async def test_a_nul_is_found_wherever_it_hides_and_its_look_alike_text_is_stored(
    app: SessionHub, client: httpx.AsyncClient, consumer: str
) -> None:
    # The batch is screened for a NUL by its body's text: a NUL past the user agent's cut
    # (stored without it) is still refused as before, and text that only reads "\u0000"
    # (an escaped backslash) is no NUL.
    late_nul = log(1, userAgent="a" * 300 + "\x00")
    refused = await signed(client, PREVIEW, {"logs": [log(0), late_nul]})
    assert refused.status_code == 400
    assert [(e["index"], e["code"]) for e in refused.json()["error"]["errors"]] == [(1, 1002)]

    look_alike = log(2, userId="back\\u0000slash")
    stored = await signed(client, PREVIEW, {"logs": [look_alike]})
    assert stored.status_code == 200, stored.text
    assert [row[0] for row in await stored_logs(app)] == ["back\\u0000slash"]


async def test_a_nul_character_is_a_listed_error_on_every_backend(
    app: SessionHub, client: httpx.AsyncClient, consumer: str
) -> None:
    # PostgreSQL text cannot hold NUL: before this rule it answered 500 there and 200 on SQLite.
    batch = [log(0), log(1, userId="a\x00b"), log(2, userAgent="ua\x00"), log(3)]
    response = await signed(client, PREVIEW, {"logs": batch})

    assert response.status_code == 400
    errors = response.json()["error"]["errors"]
    assert [(e["index"], e["code"]) for e in errors] == [(1, 1002), (2, 1002)]
    assert "NUL" in errors[0]["message"]
    assert (await stored_logs(app)) == []
