"""Adobe's own description of its API, turned against sessionhub: schemathesis generates the
requests Adobe's swagger allows (positive mode, every operation) and sends them to a real server.
Each must be accepted, or refused by one of the stricter rules docs/compatibility.md lists,
recognised here by name.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from tests.fuzzing import SCALE, SUMMARY
from tests.server import Server

SWAGGER = Path(__file__).parent / "data" / "adobe-media-collection.swagger.json"
# The deliberate refusals of requests Adobe's description allows, by the words of the answer.
# Each has a row in docs/compatibility.md.
STRICTER_RULES = {
    # Adobe's event schemas (served by its /schemas endpoint) say additionalProperties: false;
    # its swagger does not.
    "unknown members": re.compile(r"Object contains unknown field"),
    # Adobe's pages and event schemas require params (and these members) where its swagger
    # makes nothing required.
    "required params": re.compile(r"missing required field `[^`]+`( - at `\$\.params`)?$"),
    "ts is epoch milliseconds": re.compile(
        r"`int` (>= 0|<= 253402300799999) - at `\$\.playerTime\.ts`"
    ),
    "QoE values are not negative": re.compile(r">= 0 - at `\$\.qoeData\."),
    "media.length is not negative": re.compile(r">= 0 - at `\$\.params\.media\.length`"),
    "playhead within media.length": re.compile(r"playhead .* must be >= 0 and < media\.length"),
    "custom metadata keys and values": re.compile(r"\$\.customMetadata"),
    "media.downloaded only on /downloaded": re.compile(r"media\.downloaded=true is only for"),
    "unknown session": re.compile(r"^Session .* not found$"),
    "closed session": re.compile(r"^Session .* is closed"),
    "sessionStart only on /sessions": re.compile(r"sessionStart goes to /api/v1/sessions"),
    "only sessionStart on /sessions": re.compile(r"eventType must be sessionStart"),
    "ads only inside an ad break": re.compile(r"ad break|adBreakStart"),
    "at most 10 player states": re.compile(r"player states"),
    "unknown eventType": re.compile(r"Unknown eventType"),
}
SEEN: Counter[str] = Counter()


@pytest.fixture(scope="module")
def adobe_schema(server: Server) -> Any:
    schema = schemathesis.openapi.from_path(str(SWAGGER))
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    schema.config.update(base_url=f"{server.url}/api/v1")
    return schema


schema = schemathesis.pytest.from_fixture("adobe_schema")


def live_session(api: str) -> str:
    start = {
        "playerTime": {"playhead": 0, "ts": 1_700_000_000_000},
        "eventType": "sessionStart",
        "params": {
            "analytics.trackingServer": "t",
            "analytics.reportSuite": "r",
            "visitor.marketingCloudOrgId": "o",
            "media.id": "m",
            "media.length": 1e9,
            "media.contentType": "VOD",
            "media.playerName": "p",
            "media.channel": "c",
        },
    }
    response = httpx.post(f"{api}/sessions", json=start)
    return response.headers["location"].rsplit("/", 1)[1]


def rule_for(message: str) -> str | None:
    for name, pattern in STRICTER_RULES.items():
        if pattern.search(message):
            return name
    return None


@schema.parametrize()
@settings(
    max_examples=40 * SCALE,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_request_adobe_allows_is_accepted_or_refused_by_a_named_rule(case: Any) -> None:
    if "sid" in (case.path_parameters or {}):
        # Events go to a live session, so they reach the timeline rules, not just the lookup.
        case.path_parameters["sid"] = live_session(case.operation.base_url)
    response = case.call()
    assert response.status_code < 500, response.text
    if response.status_code < 300:
        SEEN["accepted"] += 1
        return
    message = response.json()["message"]
    rule = rule_for(message)
    assert rule is not None, (response.status_code, message, case.body)
    SEEN[rule] += 1


def test_the_run_reached_acceptance(adobe_schema: Any) -> None:
    """Generated requests that Adobe allows were accepted, not only refused by rules."""
    assert SEEN["accepted"] > 0, SEEN
    refused = ", ".join(
        f"{rule} {count}" for rule, count in SEEN.most_common() if rule != "accepted"
    )
    SUMMARY.append(
        f"Adobe's swagger (positive): {sum(SEEN.values())} requests, {SEEN['accepted']} accepted;"
        f" refused by rule: {refused}"
    )
