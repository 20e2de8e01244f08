"""The dashboard's routes under ``/admin``: server-rendered pages (Jinja2), a live feed of the
overview (server-sent events) and the static files, cache-busted by content hash."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode

import jinja2
import msgspec

from sessionhub import reports
from sessionhub.core.accounts import AccountService
from sessionhub.core.consumers import ConsumerService
from sessionhub.core.errors import InvalidInputError, NotFoundError, SessionhubError
from sessionhub.core.leases import PLAYBACK_APIS
from sessionhub.core.operators import OperatorService
from sessionhub.core.overview import SESSION_APIS, OverviewService
from sessionhub.core.playlogs import PlayLogService
from sessionhub.core.records import DEFAULT_TENANT
from sessionhub.core.sessions import SessionService
from sessionhub.core.views import VisitorDetail
from sessionhub.core.visitors import IDENTITY_KINDS, VisitorService
from sessionhub.dashboard.auth import DashboardAuth, Visit
from sessionhub.dashboard.charts import charts
from sessionhub.dashboard.live import LiveSnapshots
from sessionhub.tenants import tenant_in_query
from sessionhub.web import Mount, Request, Response, client_address, route
from sessionhub.web_errors import error_headers, status_for

PREFIX = "/admin"
LIVE_EVERY_S = 2.0
HTML = b"text/html; charset=utf-8"
PAGE = 200  # sessions a list page shows; "Older" pages on from the last
_STATIC = resources.files("sessionhub.dashboard").joinpath("static")
_TYPES = {".js": b"text/javascript", ".css": b"text/css", ".svg": b"image/svg+xml"}
_encode = msgspec.json.Encoder().encode
# What may not stand raw inside <script type="application/json">: `</script>` (or `<!--`) ends
# or bends the block, `&` starts a character reference in some parsers, and U+2028/U+2029 end a
# line in older JavaScript. JSON allows every character as a \u escape, so the data is the same.
_SCRIPT_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def script_json(value: object) -> str:
    """``value`` as JSON that is safe to put inside a ``<script>`` block of a page."""
    return _encode(value).decode().translate(_SCRIPT_UNSAFE)


class Services(Protocol):
    sessions: SessionService
    accounts: AccountService
    visitors: VisitorService
    playlogs: PlayLogService
    consumers: ConsumerService
    overview: OverviewService
    operators: OperatorService


def _static_files() -> dict[str, tuple[bytes, bytes, str]]:
    """name -> (body, media type, content hash): read once, served from memory."""
    found: dict[str, tuple[bytes, bytes, str]] = {}
    for folder, prefix in ((_STATIC, ""), (_STATIC.joinpath("vendor"), "vendor/")):
        for entry in folder.iterdir():
            suffix = "." + entry.name.rsplit(".", 1)[-1]
            if entry.is_file() and suffix in _TYPES:
                body = entry.read_bytes()
                digest = hashlib.sha256(body).hexdigest()[:12]
                found[prefix + entry.name] = (body, _TYPES[suffix], digest)
    return found


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def mount(services: Services, auth: DashboardAuth, snapshots: LiveSnapshots) -> Mount:
    """The dashboard's routes; ``snapshots`` computes what live feeds send (``live_snapshots``)."""
    files = _static_files()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sessionhub.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["time"] = _time
    # An id as one path segment: ids may hold "/" (Nuance's) or "?", which a plain href would
    # split or cut; the router decodes the segment back (Jinja's own urlencode keeps "/").
    env.filters["segment"] = lambda value: quote(str(value), safe="")
    env.globals["static"] = lambda name: f"{PREFIX}/static/{name}?v={files[name][2]}"
    env.globals["apis"] = SESSION_APIS

    def page(template: str, visit: Visit | None, status: int = 200, **values: Any) -> Response:
        html = env.get_template(template).render(visit=visit, **values)
        headers = [
            (b"cache-control", b"no-store"),
            (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
        ]
        return Response(status, html.encode(), headers, media_type=HTML)

    def redirect(location: str, cookie: bytes | None = None) -> Response:
        headers = [(b"location", location.encode())]
        if cookie is not None:
            headers.append((b"set-cookie", cookie))
        return Response(303, b"", headers, media_type=None)

    Page = Callable[[Request, Visit], Awaitable[Response]]

    def signed_in(handler: Page) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            visit = await auth.visit(request)
            if visit is None:
                return redirect(PREFIX)
            return await handler(request, visit)

        return guarded

    def form(request: Request) -> dict[str, str]:
        return dict(parse_qsl(request.body.decode("utf-8", "replace")))

    async def home(request: Request) -> Response:
        if not await auth.enabled():
            return page("off.html", None, 403)
        visit = await auth.visit(request)
        if visit is not None:
            return redirect(landing(visit))
        return page("login.html", None, message=None)

    async def log_in(request: Request) -> Response:
        if not await auth.enabled():
            return page("off.html", None, 403)
        visit = await auth.log_in(form(request).get("token", ""), client_address(request) or "?")
        if visit is None:  # the form again (200: a page to show, not a challenge to answer)
            return page("login.html", None, message="That token is not right.")
        return redirect(landing(visit), auth.cookie(visit, request))

    async def log_out(request: Request, visit: Visit) -> Response:
        DashboardAuth.check_change(visit, form(request))
        await auth.log_out(visit)
        return redirect(PREFIX, DashboardAuth.cleared())

    def landing(visit: Visit) -> str:
        return f"{PREFIX}/sessions" if visit.tenant is not None else f"{PREFIX}/overview"

    async def overview(request: Request, visit: Visit) -> Response:
        DashboardAuth.check_everything(visit)
        now = await services.overview.overview(60)
        return page("overview.html", visit, data=script_json(charts(now)))

    async def overview_json(request: Request, visit: Visit) -> Response:
        DashboardAuth.check_everything(visit)
        minutes = _int(request.query.get("minutes", "60"), "minutes", 1, 1440)
        return Response(200, _encode(charts(await services.overview.overview(minutes))))

    async def live(request: Request, visit: Visit) -> Response:
        DashboardAuth.check_everything(visit)
        snapshots.check_room(visit.role)  # raises past the bound, before anything is sent

        async def feed() -> AsyncIterator[bytes]:
            # counted once running: a stream never started (its reader gone first) is never
            # closed either
            snapshots.open(visit.role)
            try:
                yield b"retry: 2000\n\n"
                seen = 0
                while await auth.visit(request) is not None:  # a logged-out visit's feed ends
                    seen, snapshot = await snapshots.next(seen)
                    yield b"event: overview\ndata: " + snapshot + b"\n\n"
            finally:
                snapshots.close(visit.role)

        headers = [(b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")]
        return Response(200, headers=headers, media_type=b"text/event-stream", stream=feed())

    async def session_list(request: Request, visit: Visit) -> Response:
        query = request.query
        state = query.get("state") or None
        if state not in (None, "active", "ended"):
            raise InvalidInputError("state must be active or ended")
        found = await services.sessions.list(
            api=query.get("api") or None,
            state=state,  # type: ignore[arg-type]
            account_id=query.get("account") or None,
            tenant=visit.tenant or tenant_in_query(query),
            visitor_id=query.get("visitor") or None,
            content_id=query.get("content") or None,
            before_id=query.get("before") or None,
            limit=PAGE,
        )
        # the next page: the same filters, from after this page's last row
        older = None
        if len(found) == PAGE:
            older = urlencode({**{k: v for k, v in query.items() if v}, "before": found[-1].id})
        return page("sessions.html", visit, sessions=found, query=query, older=older)

    async def session_page(request: Request, visit: Visit) -> Response:
        detail = await services.sessions.get(request.params["session_id"], visit.tenant)
        events = [{"ts": e.ts, "type": e.event_type, "playhead": e.playhead} for e in detail.events]
        return page("session.html", visit, s=detail, events=script_json(events))

    async def end_session(request: Request, visit: Visit) -> Response:
        fields = form(request)
        DashboardAuth.check_change(visit, fields)
        await services.sessions.end(request.params["session_id"], actor=visit.actor)
        back = fields.get("back", "")
        return redirect(back if back.startswith(f"{PREFIX}/") else f"{PREFIX}/sessions")

    async def account_list(request: Request, visit: Visit) -> Response:
        accounts = [
            account
            for account in await services.accounts.list_accounts()
            if visit.tenant in (None, account.tenant)
        ]
        counts: dict[str, int] = {}
        for api in PLAYBACK_APIS:  # players and listeners share their account's limit
            for view in await services.sessions.list(api=api, state="active", limit=1000):
                if view.account_id is not None:
                    counts[view.account_id] = counts.get(view.account_id, 0) + 1
        return page("accounts.html", visit, accounts=accounts, live=counts)

    async def account_page(request: Request, visit: Visit) -> Response:
        account = await services.accounts.get_account(request.params["account_id"])
        if visit.tenant not in (None, account.tenant):
            raise NotFoundError(f"Account {account.id} not found")
        live = await services.sessions.list(account_id=account.id, state="active", limit=1000)
        return page("account.html", visit, account=account, live=live)

    async def visitor_search(request: Request, visit: Visit) -> Response:
        kind, value = request.query.get("kind", ""), request.query.get("value", "")
        tenant = request.query.get("tenant", "")
        shown: dict[str, Any] = {"kind": kind, "value": value, "tenant": tenant}
        shown |= {"kinds": IDENTITY_KINDS, "problem": None}
        if kind and value:
            try:
                chosen = visit.tenant or tenant_in_query(request.query) or DEFAULT_TENANT
                found = await services.visitors.find(kind, value, chosen)
            except NotFoundError:
                return page("visitors.html", visit, 404, missing=True, **shown)
            except InvalidInputError as error:  # an unknown kind: say which ones there are
                return page("visitors.html", visit, 400, **(shown | {"problem": error.message}))
            return redirect(f"{PREFIX}/visitors/{found.id}")
        return page("visitors.html", visit, missing=False, **shown)

    async def visitor_page(request: Request, visit: Visit) -> Response:
        visitor = await services.visitors.get(request.params["visitor_id"], visit.tenant)
        sessions = await services.sessions.of_visitor(visitor.id)
        detail = VisitorDetail.of(visitor, sessions)
        spans = [
            {"id": s.id, "api": s.api, "start": s.started_at, "end": s.ended_at or s.expires_at}
            for s in sessions
        ]
        return page("visitor.html", visit, v=detail, spans=script_json(spans))

    async def audit(request: Request, visit: Visit) -> Response:
        """Who ended what, and who was let in or out: every tenant's, so not for a visit
        limited to one."""
        DashboardAuth.check_everything(visit)
        entries = await services.operators.audit(200)
        people = await services.operators.all()
        return page("audit.html", visit, entries=entries, people=people)

    async def play_logs(request: Request, visit: Visit) -> Response:
        DashboardAuth.check_everything(visit)
        today = dt.datetime.now(dt.UTC).date()
        first = request.query.get("from") or (today - dt.timedelta(days=6)).isoformat()
        last = request.query.get("to") or today.isoformat()
        start, end = reports.parse_day(first), reports.parse_day(last, end=True)
        by_country = [row async for row in services.playlogs.report(start, end, ["country"])]
        by_track = [row async for row in services.playlogs.report(start, end, ["track"])]
        by_consumer = [
            row async for row in services.playlogs.report(start, end, ["consumer", "country"])
        ]
        licensed = {c.key: set(c.countries) for c in await services.consumers.list_consumers()}
        outside = [
            row
            for row in by_consumer
            if str(row.keys["country"]) not in licensed.get(str(row.keys["consumer"]), set())
        ]
        by_country.sort(key=lambda row: -row.plays)
        by_track.sort(key=lambda row: -row.plays)
        download = {"from": first, "to": last, "by": "track,country"}
        return page(
            "playlogs.html",
            visit,
            first=first,
            last=last,
            countries=by_country,
            tracks=by_track[:50],
            outside=outside,
            chart=script_json([[str(r.keys["country"]), r.plays] for r in by_country[:30]]),
            track_chart=script_json([[str(r.keys["track"]), r.plays] for r in by_track[:30]]),
            downloads={
                fmt: f"{PREFIX}/playlogs/report?{urlencode({**download, 'format': fmt})}"
                for fmt in reports.FORMATS
            },
        )

    async def play_log_report(request: Request, visit: Visit) -> Response:
        DashboardAuth.check_everything(visit)
        response = await reports.respond(services.playlogs, request.query)
        name = f"plays-{request.query['from']}-{request.query['to']}.{request.query['format']}"
        response.headers.append((b"content-disposition", f'attachment; filename="{name}"'.encode()))
        return response

    async def static(request: Request) -> Response:
        name = request.params["name"]
        if request.params.get("folder"):
            name = f"{request.params['folder']}/{name}"
        if name not in files:
            raise NotFoundError(f"No static file {name}")
        body, media_type, _ = files[name]
        cache = b"public, max-age=31536000, immutable"  # the URL changes with the content
        return Response(200, body, [(b"cache-control", cache)], media_type=media_type)

    def render_error(error: SessionhubError) -> Response:
        status = status_for(error)
        response = page("error.html", None, status, message=error.message, code=status)
        response.headers += error_headers(error)
        return response

    routes = [
        route("GET", "/admin", home),
        route("POST", "/admin/login", log_in),
        route("POST", "/admin/logout", signed_in(log_out)),
        route("GET", "/admin/overview", signed_in(overview)),
        route("GET", "/admin/overview.json", signed_in(overview_json)),
        route("GET", "/admin/live", signed_in(live)),
        route("GET", "/admin/sessions", signed_in(session_list)),
        route("GET", "/admin/sessions/{session_id}", signed_in(session_page)),
        route("POST", "/admin/sessions/{session_id}/end", signed_in(end_session)),
        route("GET", "/admin/accounts", signed_in(account_list)),
        route("GET", "/admin/accounts/{account_id}", signed_in(account_page)),
        route("GET", "/admin/visitors", signed_in(visitor_search)),
        route("GET", "/admin/visitors/{visitor_id}", signed_in(visitor_page)),
        route("GET", "/admin/playlogs", signed_in(play_logs)),
        route("GET", "/admin/audit", signed_in(audit)),
        route("GET", "/admin/playlogs/report", signed_in(play_log_report)),
        route("GET", "/admin/static/{name}", static),
        route("GET", "/admin/static/{folder}/{name}", static),
    ]
    return Mount(PREFIX, routes, render_error, cors=False, name="dashboard")


def live_snapshots(overview: OverviewService) -> LiveSnapshots:
    """One overview per beat for every live feed of the process."""

    async def compute() -> bytes:
        return _encode(charts(await overview.overview(60)))

    return LiveSnapshots(compute, LIVE_EVERY_S)


def _int(value: str, name: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise InvalidInputError(f"{name} must be a whole number from {low} to {high}")
    return int(value)
