"""Soak: a steady request rate over all five APIs with dashboards open, latency minute by minute.

    .venv/bin/python bench/soak.py [--minutes 10 --rate 300 --feeds 80]

One sessionhub (embedded SQLite, one worker, its defaults) on loopback. Every request is made
beforehand (``bench/soak.lua`` sends them; a Python load generator could not keep 300 req/s
steady next to the server on two cores): Adobe pings (on 500 live sessions) and session
starts, SRM keep-alives (on 500 live sessions), Genesys new sessions and associations, Nuance
startSession and customEvent, and MassiveMusic preview play logs (OAuth 1.0a signed, each with
a nonce of its own, 5 logs each), in turn. wrk sends them at a steady rate (``--rate`` / 10
connections, each one request per 100 ms), one run a minute; ``--feeds`` dashboard live feeds
stay open all along, each read to the end of every event. Each minute prints requests, non-2xx
answers, p50 and p99 and p99 against minute 1's; the last line says whether p99 stayed within
1.5x of minute 1. Needs ``wrk``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from oauthlib.oauth1 import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dialects.adobe.payloads import event, start
from tests.server import running_server

from bench.run import srm_sessions, srm_tenant
from sessionhub.core.clients import ClientService
from sessionhub.core.clock import SystemClock
from sessionhub.core.consumers import ConsumerService
from sessionhub.stores import store_for_url

BENCH = Path(__file__).resolve().parent
PAUSE_MS = 100  # each wrk connection sends one request per this
ADMIN = "soak-admin-token-0123456789"
POOL = 500  # live Adobe and SRM sessions the pings and keep-alives go round


async def prepare(database: str) -> None:
    store = store_for_url(database)
    await store.open()
    try:
        await ClientService(store, SystemClock()).add_client("soak-app", "soak-secret", 306)
        await ConsumerService(store, SystemClock()).add("soak-key", "soak-secret", ["GB"])
    finally:
        await store.close()


def line(method: str, path: str, headers: dict[str, str], body: str = "") -> str:
    head = "\x01".join(f"{name}: {value}" for name, value in headers.items())
    return f"{method}\t{path}\t{head}\t{body}"


def requests_file(url: str, database: str, count: int, folder: Path) -> Path:
    """``count`` requests, one per line, the six kinds in turn (see ``bench/soak.lua``)."""
    tokens = asyncio.run(srm_tenant(database, POOL))
    srm = [entry.split() for entry in srm_sessions(url, tokens)]
    with httpx.Client(base_url=url, timeout=30) as client:
        adobe = []
        for _ in range(POOL):
            started = client.post("/api/v1/sessions", json=start())
            adobe.append(started.headers["location"].rsplit("/", 1)[1])
        issued = client.post(
            "/oauth-server/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("soak-app", "soak-secret"),
        )
        bearer = f"Bearer {issued.json()['access_token']}"
    signer = Client("soak-key", client_secret="soak-secret")
    now = int(time.time() * 1000)
    played = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    as_json = {"Content-Type": "application/json"}
    path = folder / "requests.tsv"
    with path.open("w") as out:
        for n in range(count):
            kind = n % 6
            if kind == 0:
                body = json.dumps(
                    event("ping", now + n, playhead=n // 6 % 60)
                )  # within media.length
                out.write(line("POST", f"/api/v1/sessions/{adobe[n % POOL]}/events", as_json, body))
            elif kind == 1:
                out.write(line("POST", "/api/v1/sessions", as_json, json.dumps(start(ts=now + n))))
            elif kind == 2:
                sid, token = srm[n % POOL]
                out.write(line("PUT", f"/srm/sessions/{sid}", {"Client-Token": token}))
            elif kind == 3:
                visit = json.dumps({"visitId": f"v-{n}"})
                headers = {**as_json, "gkc_customerId": f"c{n % 97}"}
                out.write(line("POST", f"/sessions/soak-{n}", headers, visit))
            elif kind == 4:
                endpoint = "startSession" if n % 12 == 4 else "customEvent"
                fields = {"siteID": 306, "sessionID": f"soak-{n // 12}", "engagementID": n}
                if endpoint == "customEvent":
                    fields["eventName"] = "soak"
                body = json.dumps(fields)
                headers = {**as_json, "Authorization": bearer}
                out.write(line("POST", f"/tagserver/v1/dataCollection/{endpoint}", headers, body))
            else:
                logs = [
                    {
                        "userId": f"u{n}-{i}",
                        "country": "GB",
                        "trackId": 1 + (n * 5 + i) % 10_000,
                        "playMode": "online",
                        "dateTimePlayed": played,
                        "totalTimePlayed": 30,
                        "userAgent": "Soak/1.0",
                    }
                    for i in range(5)
                ]
                uri, headers, _ = signer.sign(
                    f"{url}/1.2/user/preview/log?country=GB", http_method="POST", headers=as_json
                )
                out.write(line("POST", uri.removeprefix(url), headers, json.dumps({"logs": logs})))
            out.write("\n")
    return path


def open_feeds(url: str, cookie: str, count: int, stop: threading.Event) -> list[int]:
    """``count`` live feeds read in threads until ``stop``; the list counts their snapshots."""
    received = [0] * count

    def read(index: int) -> None:
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.Client(base_url=url, timeout=30) as viewer,
            viewer.stream("GET", "/admin/live", cookies={"sessionhub_dashboard": cookie}) as feed,
        ):
            for text in feed.iter_lines():
                received[index] += text.startswith("data: ")
                if stop.is_set():
                    return

    for index in range(count):
        threading.Thread(target=read, args=(index,), daemon=True).start()
    return received


def wrk_minute(url: str, requests: Path, first: int, connections: int) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{connections}", "-d60s", "--latency", "--timeout", "10s"]
    command += ["-s", str(BENCH / "soak.lua"), url, "--", str(requests), str(first)]
    command.append(str(PAUSE_MS))
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result_line = next(text for text in output.splitlines() if text.startswith("RESULT "))
    result: dict[str, float] = json.loads(result_line.removeprefix("RESULT "))
    return result


def soak(url: str, database: str, folder: Path, options: argparse.Namespace) -> bool:
    per_minute = options.rate * 60
    requests = requests_file(url, database, per_minute * options.minutes, folder)
    with httpx.Client(base_url=url) as login:
        login.post("/admin/login", data={"token": ADMIN})
        cookie = login.cookies["sessionhub_dashboard"]
    stop = threading.Event()
    received = open_feeds(url, cookie, options.feeds, stop)
    connections = max(1, options.rate * PAUSE_MS // 1000)
    print("minute  requests  non-2xx   p50 ms   p99 ms  p99/minute 1", flush=True)
    p99s = []
    for minute in range(options.minutes):
        result = wrk_minute(url, requests, minute * per_minute, connections)
        p99s.append(result["p99_us"] / 1000)
        print(
            f"{minute + 1:>6}{result['requests']:>10.0f}{result['non2xx'] + result['errors']:>9.0f}"
            f"{result['p50_us'] / 1000:>9.1f}{p99s[-1]:>9.1f}{p99s[-1] / p99s[0]:>14.2f}",
            flush=True,
        )
    stop.set()
    print(f"feeds: {options.feeds}, snapshots each: min {min(received, default=0)}")
    worst = max(p99s)
    print(f"worst p99 {worst:.1f} ms = {worst / p99s[0]:.2f}x minute 1 (aim <= 1.5x)")
    return worst <= 1.5 * p99s[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=int, default=300)
    parser.add_argument("--feeds", type=int, default=80)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        database = f"sqlite:///{folder}/soak.db"
        asyncio.run(prepare(database))
        env = {
            "SESSIONHUB_ADMIN_TOKEN": ADMIN,
            "SESSIONHUB_PLAYLOG_RATE_PER_S": "1000",
            # the play logs are signed before the run starts: their timestamps must stay good
            "SESSIONHUB_OAUTH1_WINDOW_S": str(options.minutes * 60 + 600),
        }
        with (
            (folder / "access.log").open("wb") as log,
            running_server(database, stdout=log, **env) as server,
        ):
            print(f"sessionhub on {server.url}, {options.rate} req/s, {options.feeds} feeds")
            flat = soak(server.url, database, folder, options)
        refused = collections.Counter(
            " ".join(fields[1:4])
            for fields in (text.split() for text in (folder / "access.log").open())
            if len(fields) > 3 and fields[3].isdigit() and int(fields[3]) >= 400
        )
        for what, count in refused.most_common():
            print(f"refused: {what} x{count}")
    sys.exit(0 if flat else 1)


if __name__ == "__main__":
    main()
