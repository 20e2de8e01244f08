"""/metrics under ``--workers 2`` (PostgreSQL): whichever worker a scrape reaches, it reports
every worker's counts (prometheus-client's multiprocess mode, set up by ``serve``)."""

from __future__ import annotations

import time

import httpx

from tests.observe.metrics_reader import parse, value
from tests.server import running_server

ADMIN = {"Authorization": "Bearer e2e-admin-token-1234"}


def test_every_scrape_sums_both_workers(postgres_schema: str) -> None:
    with running_server(postgres_schema, workers=2) as server:
        fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection each: both workers
        with httpx.Client(base_url=server.url, limits=fresh, timeout=10) as client:
            for _ in range(40):
                assert client.get("/healthz").status_code == 200
            labels = {"dialect": "health", "route": "/healthz", "method": "GET"}
            deadline = time.monotonic() + 10
            while True:  # each worker hands its tallies over within a second
                scraped = parse(client.get("/metrics", headers=ADMIN).text)
                seen = value(scraped, "sessionhub_http_requests_total", status="200", **labels)
                if seen == 40 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert seen == 40
            for _ in range(12):  # over fresh connections too, so scrapes reach both workers
                scraped = parse(client.get("/metrics", headers=ADMIN).text)
                assert (
                    value(scraped, "sessionhub_http_requests_total", status="200", **labels) == 40
                )
