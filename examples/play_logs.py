"""Log plays to sessionhub's MassiveMusic API the way a 7digital partner's client does: a batch
signed with OAuth 1.0a (HMAC-SHA1) by oauthlib, plays dated a few minutes ago.

    .venv/bin/python examples/play_logs.py preview|subscription|catalogue [BASE_URL]

Prints the HTTP status and the answer. Key and secret: partner-key / partner-secret (the
README's walk-through adds them).
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import httpx
from oauthlib.oauth1 import Client

KEY, SECRET = "partner-key", "partner-secret"


def played(minutes_ago: int) -> str:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def batch(kind: str) -> tuple[str, dict[str, object]]:
    """The path and body of one batch of three plays of this kind."""
    if kind == "preview":
        logs = [
            {
                "userId": "u-1",
                "country": "GB",
                "trackId": 12345 + n,
                "playMode": "online",
                "dateTimePlayed": played(5 + n),
                "totalTimePlayed": 30,
                "userAgent": "iPhone 15/app 4.2",
            }
            for n in range(3)
        ]
        return "/1.2/user/preview/log?country=GB", {"logs": logs}
    common = [
        {
            "trackId": 12345 + n,
            "releaseId": 100,
            "formatId": 26,
            "dateTimePlayed": played(5 + n),
            "totalTimePlayed": 180,
            "userAgent": "web/1.0",
        }
        for n in range(3)
    ]
    if kind == "subscription":
        items = [{**item, "playMode": "online"} for item in common]
        return "/1.2/user/subscription/log?country=GB&userId=u-1", {"playLogItem": items}
    items = [{**item, "userId": "u-2", "endReason": "trackEnded"} for item in common]
    return "/1.2/catalogue/log?country=GB", {"playLogItem": items}


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "preview"
    base = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8080"
    path, body = batch(kind)
    uri, headers, _ = Client(KEY, client_secret=SECRET).sign(
        base + path, http_method="POST", headers={"Content-Type": "application/json"}
    )
    response = httpx.post(uri, content=json.dumps(body), headers=headers)
    print(response.status_code, response.text)


if __name__ == "__main__":
    main()
