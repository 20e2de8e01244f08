"""The operations of sessionhub's own API: the operator API, health and this description."""

from __future__ import annotations

from typing import Any

from sessionhub.admin import accounts as admin_accounts
from sessionhub.admin import routes as admin_routes
from sessionhub.core import views
from sessionhub.core.accounts import IssuedToken
from sessionhub.core.records import Content, Device
from sessionhub.core.sessions import SessionDetail
from sessionhub.openapi.shapes import ADMIN, HEALTH, STREAMING, Operation, Status
from sessionhub.streaming.schemas import IcecastAuthForm


def admin_operations() -> list[Operation]:
    """The operator API, and the service's own health and description."""
    account = "/admin/api/accounts/{account_id}"
    page = (
        ("api", False, str),
        ("state", False, str),
        ("account", False, str),
        ("tenant", False, str),
        ("visitor", False, str),
        ("content", False, str),
        ("before", False, str),
        ("limit", False, int),
    )
    report = (("from", True, str), ("to", True, str), ("by", False, str), ("format", False, str))
    return [
        Operation(
            "GET",
            "/admin/api/sessions",
            "Sessions of every API, newest first",
            ADMIN,
            answer=admin_routes.SessionPage,
            query=page,
        ),
        Operation(
            "GET",
            "/admin/api/sessions/{session_id}",
            "One session with its timeline and QoE",
            ADMIN,
            answer=SessionDetail,
        ),
        Operation(
            "DELETE",
            "/admin/api/sessions/{session_id}",
            "End a session (operator teardown)",
            ADMIN,
            answer=admin_routes.Ended,
        ),
        Operation(
            "GET",
            "/admin/api/visitors",
            "Find a visitor by one identity",
            ADMIN,
            answer=views.VisitorDetail,
            query=(("kind", True, str), ("value", True, str), ("tenant", False, str)),
        ),
        Operation(
            "GET",
            "/admin/api/visitors/{visitor_id}",
            "One visitor with their sessions across APIs",
            ADMIN,
            answer=views.VisitorDetail,
        ),
        Operation(
            "GET",
            "/admin/api/reports/plays",
            "Royalty report of play logs (JSON, CSV or TSV)",
            ADMIN,
            answer=list[dict[str, Any]],
            query=report,
        ),
        Operation(
            "GET",
            "/admin/api/accounts",
            "Accounts (of one tenant with ?tenant=)",
            ADMIN,
            query=(("tenant", False, str),),
            answer=admin_accounts.AccountList,
        ),
        Operation(
            "POST",
            "/admin/api/accounts",
            "Add an account",
            ADMIN,
            body=admin_accounts.NewAccount,
            status=201,
            answer=views.AccountView,
        ),
        Operation(
            "GET",
            account,
            "An account with devices, entitlements and live sessions",
            ADMIN,
            answer=views.AccountDetail,
        ),
        Operation(
            "PATCH",
            account,
            "Change an account",
            ADMIN,
            body=admin_accounts.AccountChange,
            answer=views.AccountView,
        ),
        Operation(
            "POST",
            f"{account}/devices",
            "Register a device",
            ADMIN,
            body=admin_accounts.NewDevice,
            status=201,
            answer=Device,
        ),
        Operation(
            "PATCH",
            f"{account}/devices/{{device_id}}",
            "Enable or disable a device",
            ADMIN,
            body=admin_accounts.DeviceChange,
            answer=Device,
        ),
        Operation(
            "POST",
            f"{account}/entitlements",
            "Entitle the account to a title",
            ADMIN,
            body=admin_accounts.NewEntitlement,
            status=201,
            answer=admin_accounts.Entitlement,
        ),
        Operation(
            "DELETE",
            f"{account}/entitlements/{{content_id}}",
            "Revoke an entitlement",
            ADMIN,
            status=204,
        ),
        Operation(
            "POST",
            f"{account}/tokens",
            "Issue a Client-Token for a device",
            ADMIN,
            body=admin_accounts.NewDevice,
            status=201,
            answer=IssuedToken,
        ),
        Operation(
            "DELETE",
            f"{account}/tokens",
            "Revoke the account's tokens (or one device's)",
            ADMIN,
            answer=admin_accounts.Revoked,
            query=(("device_id", False, str),),
        ),
        Operation(
            "GET",
            f"{account}/sessions",
            "The account's sessions",
            ADMIN,
            answer=admin_accounts.SessionList,
            query=(("state", False, str),),
        ),
        Operation(
            "GET",
            "/admin/api/content",
            "The catalogue",
            ADMIN,
            answer=admin_accounts.ContentList,
        ),
        Operation(
            "POST",
            "/admin/api/content",
            "Add a title",
            ADMIN,
            body=admin_accounts.NewContent,
            status=201,
            answer=Content,
        ),
        Operation(
            "GET",
            "/streaming/nginx/auth",
            "nginx auth_request: may this playlist or segment be served? (200, else 401/403)",
            STREAMING,
            headers=(("X-Original-URI", True), ("X-Sessionhub-Key", False)),
        ),
        Operation(
            "POST",
            "/streaming/icecast/auth",
            "Icecast URL authentication: listener_add (admitted with icecast-auth-user: 1)"
            " and listener_remove",
            STREAMING,
            form=IcecastAuthForm,
            query=(("key", False, str),),
        ),
        Operation(
            "GET",
            "/admin/api/audit",
            "The audit log, newest first: who ended which session, who was given or lost a"
            " dashboard login",
            ADMIN,
            query=(("limit", False, int),),
            answer=admin_routes.AuditLog,
        ),
        Operation(
            "GET",
            "/metrics",
            "Prometheus metrics (the admin or the viewer token)",
            ADMIN,
            answer=str,
            answer_media_type="text/plain; version=0.0.4; charset=utf-8",
        ),
        Operation("GET", "/healthz", "The process answers", HEALTH, answer=Status),
        Operation("GET", "/readyz", "Every store answers and takes writes", HEALTH, answer=Status),
        Operation("GET", "/openapi.json", "This document", HEALTH, answer=dict[str, Any]),
    ]
