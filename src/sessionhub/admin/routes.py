"""Operator API: read every session, whatever API started it. Guarded by a bearer token."""

from __future__ import annotations

from typing import Protocol, get_args

import msgspec

from sessionhub import reports
from sessionhub.admin.accounts import account_routes
from sessionhub.admin.auth import check_bearer
from sessionhub.core.accounts import AccountService
from sessionhub.core.errors import (
    InvalidInputError,
    SessionhubError,
)
from sessionhub.core.operators import ADMIN_TOKEN_ACTOR, MAX_AUDIT_PAGE, OperatorService
from sessionhub.core.playlogs import PlayLogService
from sessionhub.core.records import DEFAULT_TENANT, AuditEntry, SessionStateName, Visitor
from sessionhub.core.sessions import SessionService, SessionView
from sessionhub.core.views import VisitorDetail
from sessionhub.core.visitors import VisitorService
from sessionhub.tenants import tenant_in_query
from sessionhub.web import Mount, Request, Response, route
from sessionhub.web_errors import error_headers, status_for

PREFIX = "/admin/api"  # the dashboard (sessionhub.dashboard) serves the rest of /admin
MAX_PAGE = 1000
_STATES = get_args(SessionStateName)
_encode = msgspec.json.Encoder().encode


class ErrorBody(msgspec.Struct):
    status: int
    message: str


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


class Ended(msgspec.Struct):
    ended: bool


class AuditLog(msgspec.Struct):
    entries: list[AuditEntry]


class SessionPage(msgspec.Struct):
    sessions: list[SessionView]
    next_before: str | None


def render_error(error: SessionhubError) -> Response:
    status = status_for(error)
    headers = error_headers(error)
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="sessionhub-admin"'))
    return Response(status, _encode(ErrorEnvelope(ErrorBody(status, error.message))), headers)


class Services(Protocol):
    """What the admin API reads and changes: the app's core services."""

    sessions: SessionService
    accounts: AccountService
    visitors: VisitorService
    playlogs: PlayLogService
    operators: OperatorService


def mount(services: Services, admin_token: str | None) -> Mount:
    sessions = services.sessions

    def authorize(request: Request) -> None:
        check_bearer(request, [admin_token])

    async def list_sessions(request: Request) -> Response:
        authorize(request)
        query = request.query
        state = query.get("state")
        if state is not None and state not in _STATES:
            raise InvalidInputError(f"state must be one of {', '.join(_STATES)}")
        limit = _int(query.get("limit", "100"), "limit", 1, MAX_PAGE)
        page = await sessions.list(
            api=query.get("api"),
            state=state,  # type: ignore[arg-type]
            limit=limit,
            before_id=query.get("before"),
            account_id=query.get("account"),
            tenant=tenant_in_query(query),
            visitor_id=query.get("visitor"),
            content_id=query.get("content"),
        )
        next_before = page[-1].id if len(page) == limit else None
        return Response(200, _encode(SessionPage(page, next_before)))

    async def get_session(request: Request) -> Response:
        authorize(request)
        return Response(200, _encode(await sessions.get(request.params["session_id"])))

    async def end_session(request: Request) -> Response:
        authorize(request)
        ended = await sessions.end(request.params["session_id"], actor=ADMIN_TOKEN_ACTOR)
        return Response(200, _encode(Ended(ended)))

    async def visitor_detail(visitor: Visitor) -> Response:
        found = await sessions.of_visitor(visitor.id)
        detail = VisitorDetail.of(visitor, found)
        return Response(200, _encode(detail))

    async def get_visitor(request: Request) -> Response:
        authorize(request)
        return await visitor_detail(await services.visitors.get(request.params["visitor_id"]))

    async def find_visitor(request: Request) -> Response:
        authorize(request)
        kind, value = request.query.get("kind", ""), request.query.get("value", "")
        if not kind or not value:
            raise InvalidInputError("give ?kind=...&value=..., e.g. kind=customer&value=CRM-42")
        tenant = tenant_in_query(request.query) or DEFAULT_TENANT
        return await visitor_detail(await services.visitors.find(kind, value, tenant))

    async def audit(request: Request) -> Response:
        authorize(request)
        limit = _int(request.query.get("limit", "100"), "limit", 1, MAX_AUDIT_PAGE)
        return Response(200, _encode(AuditLog(await services.operators.audit(limit))))

    async def play_report(request: Request) -> Response:
        authorize(request)
        return await reports.respond(services.playlogs, request.query)

    routes = [
        route("GET", "/admin/api/reports/plays", play_report),
        route("GET", "/admin/api/audit", audit),
        route("GET", "/admin/api/visitors", find_visitor),
        route("GET", "/admin/api/visitors/{visitor_id}", get_visitor),
        route("GET", "/admin/api/sessions", list_sessions),
        route("GET", "/admin/api/sessions/{session_id}", get_session),
        route("DELETE", "/admin/api/sessions/{session_id}", end_session),
        *account_routes(services.accounts, sessions, authorize),
    ]
    return Mount(PREFIX, routes, render_error, cors=False, name="admin")


def _int(value: str, name: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise InvalidInputError(f"{name} must be a whole number from {low} to {high}")
    return int(value)
