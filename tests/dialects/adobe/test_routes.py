"""The Adobe Media Collection API through the real ASGI app (PROTOCOLS.md §1)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from sessionhub.core.clock import ManualClock
from tests.dialects.adobe.payloads import EVENT_PARAMS, SEED_SESSION_START, event, start

CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "OPTIONS,POST,PUT",
    "access-control-allow-headers": "Content-Type",
    "access-control-expose-headers": "Location",
}


async def new_session(client: httpx.AsyncClient, **params: Any) -> str:
    response = await client.post("/api/v1/sessions", json=start(**params))
    assert response.status_code == 201, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


async def send(client: httpx.AsyncClient, sid: str, body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/sessions/{sid}/events", json=body)


async def detail(client: httpx.AsyncClient, sid: str, headers: dict[str, str]) -> Any:
    response = await client.get(f"/admin/api/sessions/{sid}", headers=headers)
    assert response.status_code == 200
    return response.json()


async def test_session_start_answers_exactly_as_the_seed(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/sessions", json=SEED_SESSION_START)

    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert response.headers["content-type"] == "application/octet-stream"
    location = response.headers["location"]
    assert location.startswith("/api/v1/sessions/")
    sid = location.removeprefix("/api/v1/sessions/")
    assert len(sid) == 64 and all(c in "0123456789abcdef" for c in sid)
    for name, value in CORS.items():
        assert response.headers[name] == value


async def test_session_ids_are_unique_and_time_ordered(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    ids = []
    for _ in range(5):
        ids.append(await new_session(client))
        clock.advance(ms=1)
    assert len(set(ids)) == 5
    assert ids == sorted(ids)


async def test_preflight_has_cors_headers(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/sessions", "/api/v1/sessions/abc/events", "/api/v1/downloaded"):
        response = await client.options(path)
        assert response.status_code == 200
        for name, value in CORS.items():
            assert response.headers[name] == value


@pytest.mark.parametrize("event_type", sorted(EVENT_PARAMS))
async def test_every_event_type_is_accepted(client: httpx.AsyncClient, event_type: str) -> None:
    sid = await new_session(client)
    response = await send(
        client, sid, event(event_type, 1509045325153, 1, **EVENT_PARAMS[event_type])
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"


BAD_EVENTS: list[tuple[str, Any, str]] = [
    ("missing playerTime", {"eventType": "play"}, "playerTime"),
    ("missing ts", {"eventType": "play", "playerTime": {"playhead": 0}}, "ts"),
    ("float ts", event("play", 1.5), "$.playerTime.ts"),
    ("string ts", {"eventType": "play", "playerTime": {"playhead": 0, "ts": "1"}}, "ts"),
    (
        "string playhead",
        {"eventType": "play", "playerTime": {"playhead": "0", "ts": 1}},
        "playhead",
    ),
    (
        "extra in playerTime",
        {"eventType": "play", "playerTime": {"playhead": 0, "ts": 1, "x": 1}},
        "x",
    ),
    ("unknown eventType", event("resume", 1), "resume"),
    ("missing eventType", {"playerTime": {"playhead": 0, "ts": 1}}, "eventType"),
    ("params on ping", event("ping", 1, params={}), "params"),
    ("unknown top-level key", event("play", 1, extra=1), "extra"),
    ("unknown key in params", event("play", 1, params={"media.foo": "x"}), "media.foo"),
    ("unknown key in qoeData", event("play", 1, qoeData={"media.qoe.x": 1}), "media.qoe.x"),
    ("bitrate without qoeData", event("bitrateChange", 1), "qoeData"),
    ("bitrate as string", event("bitrateChange", 1, qoeData={"media.qoe.bitrate": "5"}), "bitrate"),
    ("adStart without id", event("adStart", 1, params={"media.ad.length": 1}), "media.ad.id"),
    ("adBreakStart without params", event("adBreakStart", 1), "params"),
    (
        "chapterStart index as string",
        event(
            "chapterStart",
            1,
            params={
                "media.chapter.index": "1",
                "media.chapter.offset": 0,
                "media.chapter.length": 1,
            },
        ),
        "media.chapter.index",
    ),
    ("stateStart without name", event("stateStart", 1, params={}), "media.state.name"),
    (
        "error source outside enum",
        event("error", 1, params={"media.errorId": "e", "media.errorSource": "nope"}),
        "errorSource",
    ),
    ("metadata value not a string", event("play", 1, customMetadata={"a1": 1}), "customMetadata"),
    (
        "reserved metadata prefix",
        event("play", 1, customMetadata={"media.x": "y"}),
        "customMetadata",
    ),
    ("bad metadata key", event("play", 1, customMetadata={"a b": "y"}), "customMetadata"),
    ("negative playhead", event("play", 1, -1), "playhead"),
    ("playhead past the content", event("play", 1, 60.4), "media.length"),
    ("sessionStart sent as an event", start(), "sessionStart"),
    ("array", [event("play", 1)], "array"),
]


@pytest.mark.parametrize(("case", "body", "mentions"), BAD_EVENTS, ids=[c[0] for c in BAD_EVENTS])
async def test_bad_events_get_400_with_a_message_and_change_nothing(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    case: str,
    body: Any,
    mentions: str,
) -> None:
    sid = await new_session(client)
    before = await detail(client, sid, admin_headers)

    response = await send(client, sid, body)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert mentions in response.json()["message"]
    assert await detail(client, sid, admin_headers) == before


BAD_STARTS: list[tuple[str, Any, str]] = [
    ("missing params", {k: v for k, v in SEED_SESSION_START.items() if k != "params"}, "params"),
    (
        "missing media.id",
        {
            **SEED_SESSION_START,
            "params": {k: v for k, v in SEED_SESSION_START["params"].items() if k != "media.id"},
        },
        "media.id",
    ),
    ("length as string", start(**{"media.length": "60"}), "media.length"),
    ("enableSSL as string", start(**{"analytics.enableSSL": "false"}), "analytics.enableSSL"),
    ("unknown param", start(**{"media.colour": "red"}), "media.colour"),
    ("wrong eventType", event("play", 1), "sessionStart"),
    (
        "live playhead past the day",
        {**start(**{"media.contentType": "Live"}), "playerTime": {"playhead": 86400, "ts": 1}},
        "86400",
    ),
    (
        "VOD playhead at length",
        {**start(**{"media.length": 10}), "playerTime": {"playhead": 10, "ts": 1}},
        "media.length",
    ),
    ("downloaded flag on a live session", start(**{"media.downloaded": True}), "downloaded"),
    ("bad customer ids", start(**{"visitor.customerIDs": {"crm": {"id": 5}}}), "id"),
]


@pytest.mark.parametrize(("case", "body", "mentions"), BAD_STARTS, ids=[c[0] for c in BAD_STARTS])
async def test_bad_session_starts_get_400_and_create_nothing(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    case: str,
    body: Any,
    mentions: str,
) -> None:
    response = await client.post("/api/v1/sessions", json=body)

    assert response.status_code == 400
    assert mentions in response.json()["message"]
    listing = await client.get("/admin/api/sessions", headers=admin_headers)
    assert listing.json()["sessions"] == []


async def test_live_playhead_is_the_second_of_the_day(client: httpx.AsyncClient) -> None:
    sid = await new_session(client, **{"media.contentType": "Live", "media.length": 86400})
    assert (await send(client, sid, event("play", 2, 86399.5))).status_code == 204
    assert (await send(client, sid, event("ping", 3, 86400))).status_code == 400


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    sid = await new_session(client)
    for body in (b"{bad", b"", b"null", b'{"playerTime": '):
        response = await client.post(
            f"/api/v1/sessions/{sid}/events", content=body, headers=headers
        )
        assert response.status_code == 400
        assert response.json()["message"]
    response = await client.post("/api/v1/sessions", content=b"{bad", headers=headers)
    assert response.status_code == 400
    assert "Invalid JSON" in response.json()["message"]


async def test_non_json_content_type_is_415(client: httpx.AsyncClient) -> None:
    body = json.dumps(SEED_SESSION_START)
    for content_type in ("application/x-www-form-urlencoded", "application/xml"):
        response = await client.post(
            "/api/v1/sessions", content=body, headers={"content-type": content_type}
        )
        assert response.status_code == 415
    assert "application/json" in response.json()["message"]
    charset = {"content-type": "application/json; charset=utf-8"}
    assert (await client.post("/api/v1/sessions", content=body, headers=charset)).status_code == 201


async def test_body_over_one_megabyte_is_413(client: httpx.AsyncClient) -> None:
    body = json.dumps({**SEED_SESSION_START, "pad": "x" * 1_048_576})
    response = await client.post(
        "/api/v1/sessions", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "1048576" in response.json()["message"]


async def test_unknown_session_is_404(client: httpx.AsyncClient) -> None:
    response = await send(client, "0" * 64, event("play", 1))
    assert response.status_code == 404
    assert "not found" in response.json()["message"]


async def test_session_end_closes_repeats_are_harmless_and_other_events_get_410(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    sid = await new_session(client)
    assert (await send(client, sid, event("play", 2))).status_code == 204
    assert (await send(client, sid, event("sessionEnd", 3, 1))).status_code == 204

    assert (await send(client, sid, event("sessionEnd", 4, 1))).status_code == 204
    gone = await send(client, sid, event("ping", 5, 1))
    assert gone.status_code == 410
    assert "closed" in gone.json()["message"]
    session = await detail(client, sid, admin_headers)
    assert (session["state"], session["end_reason"]) == ("ended", "ended")
    assert [e["event_type"] for e in session["events"]] == ["sessionStart", "play", "sessionEnd"]


async def test_session_complete_does_not_close(client: httpx.AsyncClient) -> None:
    sid = await new_session(client)
    assert (await send(client, sid, event("sessionComplete", 2, 1))).status_code == 204
    assert (await send(client, sid, event("ping", 3, 1))).status_code == 204


async def test_ten_minutes_without_events_closes_the_session(
    client: httpx.AsyncClient, clock: ManualClock, admin_headers: dict[str, str]
) -> None:
    sid = await new_session(client)
    clock.advance(minutes=9, seconds=59)
    assert (await send(client, sid, event("ping", 2, 1))).status_code == 204
    clock.advance(minutes=10)

    assert (await send(client, sid, event("ping", 3, 2))).status_code == 410
    session = await detail(client, sid, admin_headers)
    assert (session["state"], session["end_reason"]) == ("ended", "idle-timeout")
    assert session["qoe"]["exited_before_start"] is True


async def test_thirty_minutes_with_a_still_playhead_closes_the_session(
    client: httpx.AsyncClient, clock: ManualClock, admin_headers: dict[str, str]
) -> None:
    sid = await new_session(client)
    assert (await send(client, sid, event("play", 2, 5))).status_code == 204
    assert (await send(client, sid, event("pauseStart", 3, 5))).status_code == 204
    for minute in range(1, 31):  # pings keep it from idling, the playhead stays at 5
        clock.advance(minutes=1)
        status = (await send(client, sid, event("ping", 3 + minute * 60_000, 5))).status_code
        assert status == (204 if minute < 30 else 410), minute
    session = await detail(client, sid, admin_headers)
    assert session["end_reason"] == "playhead-stalled"


async def test_exact_duplicates_are_stored_once(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    sid = await new_session(client)
    for _ in range(3):
        assert (await send(client, sid, event("bufferStart", 2, 1))).status_code == 204
    assert (await send(client, sid, event("play", 2, 1))).status_code == 204  # same ts, other type
    assert (await send(client, sid, event("play", 30_000, 1))).status_code == 204
    for _ in range(2):  # a duplicate of an event already folded past the window
        assert (await send(client, sid, event("bufferStart", 2, 1))).status_code == 204

    session = await detail(client, sid, admin_headers)
    assert [e["event_type"] for e in session["events"]] == [
        "sessionStart",
        "bufferStart",
        "play",
        "play",
    ]
    assert session["qoe"]["buffer_count"] == 1


async def test_ads_outside_a_break_count_as_main_content(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    sid = await new_session(client, **{"media.length": 600})
    await send(client, sid, event("play", 1_000, 0))
    await send(client, sid, event("adStart", 11_000, 10, **EVENT_PARAMS["adStart"]))
    await send(client, sid, event("adComplete", 26_000, 25))
    await send(client, sid, event("sessionEnd", 31_000, 30))

    qoe = (await detail(client, sid, admin_headers))["qoe"]
    assert (qoe["ad_count"], qoe["ad_time_s"], qoe["playing_time_s"]) == (0, 0.0, 30.0)


async def test_at_most_ten_distinct_player_states(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    sid = await new_session(client)
    names = [f"state{i}" for i in range(12)] + ["state0"]
    for i, name in enumerate(names):
        body = event("stateStart", 10 + i, 1, params={"media.state.name": name})
        assert (await send(client, sid, body)).status_code == 204
    qoe = (await detail(client, sid, admin_headers))["qoe"]
    assert qoe["player_states"] == [f"state{i}" for i in range(10)]


async def test_bitrate_is_time_weighted_over_main_content(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    sid = await new_session(client, **{"media.length": 600})
    rate = lambda bps: {"qoeData": {"media.qoe.bitrate": bps}}  # noqa: E731
    await send(client, sid, event("play", 1_000, 0, **rate(1_000_000)))
    await send(client, sid, event("bitrateChange", 31_000, 30, **rate(4_000_000)))
    await send(client, sid, event("pauseStart", 41_000, 40))
    await send(client, sid, event("sessionEnd", 100_000, 40))

    qoe = (await detail(client, sid, admin_headers))["qoe"]
    # 30 s at 1 Mbps and 10 s at 4 Mbps; the pause does not count
    assert qoe["average_bitrate_bps"] == 1_750_000
    assert qoe["bitrate_changes"] == 1
    assert qoe["time_to_start_ms"] == 1_000


async def test_downloaded_session_is_all_or_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    batch = [start(ts=1000), event("play", 2000), event("ping", 3000, "bad")]
    response = await client.post("/api/v1/downloaded", json=batch)
    assert response.status_code == 400
    assert "$[2].playerTime.playhead" in response.json()["message"]

    batch = [start(ts=1000), event("play", 2000), event("ping", 3000, 61)]
    response = await client.post("/api/v1/downloaded", json=batch)
    assert response.status_code == 400
    assert response.json()["message"].startswith("Event 2:")

    for bad in ([], [event("play", 1)], [start(), start()]):
        assert (await client.post("/api/v1/downloaded", json=bad)).status_code == 400
    listing = await client.get("/admin/api/sessions", headers=admin_headers)
    assert listing.json()["sessions"] == []


async def test_downloaded_session_without_session_end_is_closed_as_downloaded(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    batch = [start(ts=1000), event("play", 2000), event("ping", 12_000, 10)]
    response = await client.post("/api/v1/downloaded", json=batch)
    assert response.status_code == 201
    sid = response.headers["location"].rsplit("/", 1)[1]
    session = await detail(client, sid, admin_headers)
    assert (session["state"], session["end_reason"]) == ("ended", "downloaded")
    assert session["qoe"]["playing_time_s"] == 10.0


async def test_legacy_downloaded_array_on_sessions_needs_the_flag(
    client: httpx.AsyncClient,
) -> None:
    batch = [start(ts=1000), event("play", 2000), event("sessionEnd", 3000, 1)]
    assert (await client.post("/api/v1/sessions", json=batch)).status_code == 400
    batch[0] = start(ts=1000, **{"media.downloaded": True})
    response = await client.post("/api/v1/sessions", json=batch)
    assert response.status_code == 201
    assert response.headers["location"].startswith("/api/v1/sessions/")


async def test_published_schema_is_the_one_enforced(client: httpx.AsyncClient) -> None:
    for event_type, extra in {**EVENT_PARAMS, "sessionStart": {}}.items():
        response = await client.get(f"/api/v1/schemas/{event_type}")
        assert response.status_code == 200
        schema = response.json()
        body = start() if event_type == "sessionStart" else event(event_type, 5, 1, **extra)
        jsonschema.validate(body, schema)
    ping_schema = (await client.get("/api/v1/schemas/ping")).json()
    for _, body, _ in BAD_EVENTS[:12]:
        if isinstance(body, dict) and body.get("eventType") == "ping":
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(body, ping_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(event("ping", 1, params={}), ping_schema)
    assert (await client.get("/api/v1/schemas/resume")).status_code == 404


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/sessions")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert response.json()["message"]


async def test_a_beacon_sent_as_text_plain_ends_the_session(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """navigator.sendBeacon(url, JSON.stringify(event)) sends text/plain;charset=UTF-8."""
    sid = await new_session(client)
    beacon = {"content-type": "text/plain;charset=UTF-8"}
    end = json.dumps(event("sessionEnd", 1509045330153, 5))
    response = await client.post(f"/api/v1/sessions/{sid}/events", content=end, headers=beacon)
    assert response.status_code == 204
    assert (await detail(client, sid, admin_headers))["state"] == "ended"
    # Still JSON, validated as JSON.
    bad = await client.post(f"/api/v1/sessions/{sid}/events", content="{oops", headers=beacon)
    assert bad.status_code == 400
