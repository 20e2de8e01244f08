"""Write a partner's play-log file, as partners send instead of requests, to standard output.

    .venv/bin/python examples/partner_logs.py > partner-logs.jsonl

JSON lines: one preview log per line, with the members of a ``logs`` entry of
``/1.2/user/preview/log`` (``userId``, ``country``, ``trackId``, ``playMode``,
``dateTimePlayed``, ``totalTimePlayed``, ``userAgent``, optional ``playType``). The plays are
dated within the last hour, so the file is always inside the accepted 61-day window.
(``sessionhub playlogs import`` also reads CSV with those columns.)
"""

from __future__ import annotations

import datetime as dt
import json

now = dt.datetime.now(dt.UTC)
for n in range(5):
    played = (now - dt.timedelta(minutes=10 * (n + 1))).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(
        json.dumps(
            {
                "userId": f"u-{n % 2}",
                "country": "GB" if n % 2 else "US",
                "trackId": 777 + n,
                "playMode": "offline",
                "dateTimePlayed": played,
                "totalTimePlayed": 45,
                "userAgent": "partner-batch/1.0",
            }
        )
    )
