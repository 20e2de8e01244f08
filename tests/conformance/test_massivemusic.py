"""MassiveMusic play logging from the clients partners really use: node-oauth (the signer of
7digital's own ``7digital-api`` package, at the version it pins and the current one),
requests-oauthlib and authlib. Each logs plays and finds them in the royalty report."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from typing import Any

import httpx
import pytest
from authlib.integrations.requests_client import OAuth1Session as AuthlibOAuth1Session
from requests_oauthlib import OAuth1Session

from tests.conformance.conftest import ADMIN, NODE_DIR, cli
from tests.server import Server

KEY, SECRET = "partner-key", "partner-secret-1"


@pytest.fixture(scope="module")
def consumer(server: Server) -> str:
    cli(server, "consumers", "add", KEY, "--secret", SECRET, "--countries", "GB,US")
    return KEY


def run_node(node: str, server: Server, package: str, secret: str, mode: str, track: int) -> Any:
    """node-oauth logs one play as an application using it would; its answer as JSON."""
    done = subprocess.run(
        [
            node,
            str(NODE_DIR / "massivemusic.js"),
            package,
            server.url,
            KEY,
            secret,
            mode,
            str(track),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def played() -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).isoformat().replace("+00:00", "Z")


def entry(track: int, agent: str) -> dict[str, Any]:
    return {
        "userId": "python-user",
        "country": "GB",
        "trackId": track,
        "playMode": "online",
        "dateTimePlayed": played(),
        "totalTimePlayed": 30,
        "userAgent": agent,
    }


def reported_tracks(server: Server) -> set[int]:
    today = dt.datetime.now(dt.UTC).date()
    report = httpx.get(
        f"{server.url}/admin/api/reports/plays",
        params={"from": str(today - dt.timedelta(days=1)), "to": str(today), "format": "json"},
        headers=ADMIN,
    )
    assert report.status_code == 200, report.text
    return {int(row["track"]) for row in report.json()}


NODE_CASES = [
    (package, mode) for package in ("oauth-0.9.14", "oauth") for mode in ("form", "json", "query")
]


@pytest.mark.parametrize(("package", "mode"), NODE_CASES)
def test_node_oauth_logs_and_the_report_shows_it(
    node: str, server: Server, consumer: str, package: str, mode: str
) -> None:
    track = 10_000 + NODE_CASES.index((package, mode))
    answer = run_node(node, server, package, SECRET, mode, track)
    assert answer["status"] == 200, answer
    assert json.loads(answer["body"]) == {}
    assert track in reported_tracks(server)


def test_requests_oauthlib_logs_a_batch(server: Server, consumer: str) -> None:
    session = OAuth1Session(KEY, client_secret=SECRET)
    batch = {"logs": [entry(20_001, "requests-oauthlib"), entry(20_002, "requests-oauthlib")]}
    response = session.post(f"{server.url}/1.2/user/preview/log?country=GB", json=batch)
    assert response.status_code == 200, response.text
    form = {k: str(v) for k, v in entry(20_003, "requests-oauthlib form").items()}
    response = session.post(f"{server.url}/1.2/user/preview/log?country=GB", data=form)
    assert response.status_code == 200, response.text
    assert {20_001, 20_002, 20_003} <= reported_tracks(server)


def test_authlib_logs_a_batch_signed_in_the_header_and_in_the_query(
    server: Server, consumer: str
) -> None:
    for n, placement in enumerate(("HEADER", "QUERY")):
        session = AuthlibOAuth1Session(KEY, SECRET, signature_type=placement)
        batch = {"logs": [entry(30_000 + n, f"authlib {placement}")]}
        response = session.post(
            f"{server.url}/1.2/user/preview/log?country=GB",
            data=json.dumps(batch),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
    assert {30_000, 30_001} <= reported_tracks(server)


def test_a_wrong_secret_is_still_refused_by_every_base_string(
    node: str, server: Server, consumer: str
) -> None:
    answer = run_node(node, server, "oauth", "wrong-secret", "form", 40_000)
    assert answer["status"] == 401
    assert answer["body"] == "OAuth authentication error: Invalid signature"
