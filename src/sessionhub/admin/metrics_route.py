"""``GET /metrics``: Prometheus' text format, read with the admin or the viewer token."""

from __future__ import annotations

from sessionhub.admin.auth import check_bearer
from sessionhub.admin.routes import render_error
from sessionhub.core.clock import Clock
from sessionhub.core.contracts import StatsStore
from sessionhub.core.overview import SESSION_APIS
from sessionhub.observe import metrics
from sessionhub.web import Mount, Request, Response, route


def mount(
    store: StatsStore,
    clock: Clock,
    tokens: list[str | None],
    recorder: metrics.HttpRecorder | None = None,
) -> Mount:
    async def scrape(request: Request) -> Response:
        check_bearer(request, tokens)
        if recorder is not None:  # this process's requests so far (other workers: each second)
            recorder.flush()
        active = await store.count_active(clock.now_ms())  # global: every instance's sessions
        family = metrics.active_sessions_family(active, SESSION_APIS)
        body = metrics.exposition([metrics.Snapshot([family])])
        return Response(200, body, media_type=metrics.CONTENT_TYPE)

    routes = [route("GET", "/metrics", scrape)]
    return Mount("/metrics", routes, render_error, cors=False, name="metrics")
