"""Adobe's "Timeline 1 - View to end of content", replayed through HTTP, QoE checked by hand.

Source: Adobe media-analytics docs, use-cases/timelines/view-to-end-of-content (actions 1-26):
VOD of 60.3 s, a pre-roll break with two ads (15 s + 7 s), a 3 s buffer, a mid-roll ad of 8 s,
a 10 s pause, content watched to the end. The expected figures below are worked out from the
action table, not read back from the code.
"""

from __future__ import annotations

import random
from typing import Any

import httpx

from sessionhub.core.clock import ManualClock
from tests.dialects.adobe.payloads import event, start

T0 = 1_700_000_000_000


def ad(ad_id: str, name: str, length: int, position: int, pod: str) -> dict[str, Any]:
    return {
        "params": {
            "media.ad.podFriendlyName": pod,
            "media.ad.name": name,
            "media.ad.id": ad_id,
            "media.ad.length": length,
            "media.ad.podPosition": position,
            "media.ad.playerName": "Sample Player",
            "media.ad.advertiser": "Ad Guys",
            "media.ad.campaignId": "1",
            "media.ad.creativeId": "42",
            "media.ad.siteId": "XYZ",
            "media.ad.creativeURL": "https://example.com",
            "media.ad.placementId": "sample_placement",
        }
    }


def ad_break(index: int, second: int, pod: str) -> dict[str, Any]:
    return {
        "params": {
            "media.ad.podFriendlyName": pod,
            "media.ad.podIndex": index,
            "media.ad.podSecond": second,
        }
    }


# (action timeline second, playhead, eventType, extra body members), in the page's order.
TIMELINE_1: list[tuple[int, float, str, dict[str, Any]]] = [
    (0, 0, "adBreakStart", ad_break(0, 0, "ad_pod1")),
    (0, 0, "adStart", ad("001", "Ad 1", 15, 1, "ad_pod1")),
    (1, 0, "ping", {}),
    (2, 0, "ping", {}),
    (3, 0, "ping", {}),
    (15, 0, "adComplete", {}),
    (15, 0, "adStart", ad("002", "Ad 2", 7, 1, "ad_pod1")),
    (20, 0, "ping", {}),
    (22, 0, "adComplete", {}),
    (22, 0, "adBreakComplete", {}),
    (22, 0, "play", {}),
    (30, 8, "ping", {}),
    (33, 11, "bufferStart", {}),
    (36, 11, "play", {}),
    (40, 15, "ping", {}),
    (46, 21, "adBreakStart", ad_break(1, 21, "ad_pod2")),
    (46, 21, "adStart", ad("003", "Ad 3", 8, 2, "ad_pod2")),
    (50, 21, "ping", {}),
    (54, 21, "adComplete", {}),
    (54, 21, "adBreakComplete", {}),
    (60, 27, "ping", {}),
    (64, 31, "pauseStart", {}),
    (70, 31, "ping", {}),
    (74, 31, "play", {}),
    (80, 37, "ping", {}),
    (88, 45, "sessionComplete", {}),
]

EXPECTED_QOE = {
    "time_to_start_ms": 22_000,  # sessionStart at 0 s, first main-content play at 22 s
    "playing_time_s": 45.0,  # 22-33, 36-46, 54-64, 74-88: 11 + 10 + 10 + 14
    "ad_count": 3,
    "ad_time_s": 30.0,  # 15 + 7 + 8
    "buffer_count": 1,
    "buffer_time_s": 3.0,  # 33-36
    "pause_time_s": 10.0,  # 64-74
    "average_bitrate_bps": None,  # no bitrate was ever reported
    "bitrate_changes": 0,
    "error_count": 0,
    "completed": True,
    "exited_before_start": False,
    "player_states": [],
}


async def replay(
    client: httpx.AsyncClient,
    clock: ManualClock,
    actions: list[tuple[int, float, str, dict[str, Any]]],
) -> str:
    clock.set(T0)
    response = await client.post(
        "/api/v1/sessions", json=start(ts=T0, **{"media.length": 60.3333333333333})
    )
    assert response.status_code == 201
    session_id = response.headers["location"].rsplit("/", 1)[1]
    for second, playhead, event_type, extra in actions:
        clock.set(max(clock.now_ms(), T0 + second * 1000))
        body = event(event_type, T0 + second * 1000, playhead, **extra)
        response = await client.post(f"/api/v1/sessions/{session_id}/events", json=body)
        assert response.status_code == 204, (event_type, response.text)
    return session_id


async def test_timeline_1_qoe_field_by_field(
    client: httpx.AsyncClient, clock: ManualClock, admin_headers: dict[str, str]
) -> None:
    session_id = await replay(client, clock, TIMELINE_1)

    detail = (await client.get(f"/admin/api/sessions/{session_id}", headers=admin_headers)).json()

    assert detail["state"] == "active"  # sessionComplete does not close the session
    for name, expected in EXPECTED_QOE.items():
        assert detail["qoe"][name] == expected, name
    assert [e["event_type"] for e in detail["events"]] == [
        "sessionStart",
        *(action[2] for action in TIMELINE_1),
    ]


async def test_timeline_1_out_of_order_within_the_window_gives_the_same_qoe(
    client: httpx.AsyncClient, clock: ManualClock, admin_headers: dict[str, str]
) -> None:
    # Swap neighbours whose timestamps differ by at most 4 s: inside the 5 s reorder window.
    shuffled = list(TIMELINE_1)
    rng = random.Random(7)
    for _ in range(40):
        i = rng.randrange(len(shuffled) - 1)
        a, b = shuffled[i], shuffled[i + 1]
        if a[0] != b[0] and abs(a[0] - b[0]) <= 4:
            shuffled[i], shuffled[i + 1] = b, a
    assert shuffled != TIMELINE_1

    session_id = await replay(client, clock, shuffled)

    detail = (await client.get(f"/admin/api/sessions/{session_id}", headers=admin_headers)).json()
    for name, expected in EXPECTED_QOE.items():
        assert detail["qoe"][name] == expected, name


async def test_timeline_1_as_a_downloaded_session(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    batch = [start(ts=T0, **{"media.length": 60.3333333333333})]
    batch += [event(t, T0 + s * 1000, ph, **extra) for s, ph, t, extra in TIMELINE_1]
    batch.append(event("sessionEnd", T0 + 89_000, 45))

    response = await client.post("/api/v1/downloaded", json=batch)

    assert response.status_code == 201
    session_id = response.headers["location"].rsplit("/", 1)[1]
    detail = (await client.get(f"/admin/api/sessions/{session_id}", headers=admin_headers)).json()
    assert detail["state"] == "ended"
    assert detail["end_reason"] == "ended"
    assert (detail["started_at"], detail["ended_at"]) == (T0, T0 + 89_000)
    for name, expected in EXPECTED_QOE.items():
        assert detail["qoe"][name] == expected, name
