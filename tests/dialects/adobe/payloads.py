"""Request bodies from Adobe's own documentation pages, for replay in tests."""

from __future__ import annotations

from typing import Any

# The seed page's sessionStart (sessions-request), with its placeholders filled in.
SEED_SESSION_START: dict[str, Any] = {
    "playerTime": {"playhead": 0, "ts": 1509045324153},
    "eventType": "sessionStart",
    "params": {
        "media.playerName": "sample-html5-api-player",
        "analytics.trackingServer": "example.sc.omtrdc.net",
        "analytics.reportSuite": "example-rsid",
        "analytics.visitorId": "visitor-42",
        "media.contentType": "VOD",
        "media.length": 60.39333333333333,
        "media.id": "MA API Sample Player",
        "visitor.marketingCloudOrgId": "0123456789ABCDEF@AdobeOrg",
        "media.name": "ClickMe",
        "media.channel": "sample-channel",
        "media.sdkVersion": "va-api-0.0.0",
        "analytics.enableSSL": False,
    },
    "customMetadata": {"myCustomData": "value-1", "myCustomData2": "value-2"},
}


def start(ts: int = 0, **params: Any) -> dict[str, Any]:
    body = {**SEED_SESSION_START, "playerTime": {"playhead": 0, "ts": ts}}
    body["params"] = {**SEED_SESSION_START["params"], **params}
    return body


def event(event_type: str, ts: int, playhead: float = 0, **extra: Any) -> dict[str, Any]:
    return {"playerTime": {"playhead": playhead, "ts": ts}, "eventType": event_type, **extra}


# One valid body per event type other than sessionStart (PROTOCOLS.md §1.3).
EVENT_PARAMS: dict[str, dict[str, Any]] = {
    "play": {},
    "ping": {},
    "bufferStart": {},
    "pauseStart": {},
    "bitrateChange": {"qoeData": {"media.qoe.bitrate": 2_000_000}},
    "adBreakStart": {
        "params": {"media.ad.podIndex": 0, "media.ad.podSecond": 0, "media.ad.podFriendlyName": "p"}
    },
    "adStart": {
        "params": {
            "media.ad.id": "001",
            "media.ad.length": 15,
            "media.ad.podPosition": 1,
            "media.ad.playerName": "Sample Player",
        }
    },
    "adComplete": {},
    "adSkip": {},
    "adBreakComplete": {},
    "chapterStart": {
        "params": {"media.chapter.index": 1, "media.chapter.offset": 0, "media.chapter.length": 30}
    },
    "chapterComplete": {},
    "chapterSkip": {},
    "error": {"params": {"media.errorId": "E42", "media.errorSource": "player"}},
    "stateStart": {"params": {"media.state.name": "fullScreen"}},
    "stateEnd": {"params": {"media.state.name": "fullScreen"}},
    "sessionComplete": {},
    "sessionEnd": {},
}
