"""Operator API for playback authorization: accounts, devices, content, entitlements, tokens."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

from sessionhub.core.accounts import MAX_LEASE_TIMEOUT_S, MAX_SESSIONS_LIMIT, AccountService
from sessionhub.core.errors import InvalidInputError
from sessionhub.core.records import DEFAULT_TENANT, TENANT_PATTERN, AdmissionPolicy, Content
from sessionhub.core.sessions import SessionService, SessionView
from sessionhub.core.views import AccountDetail, AccountView
from sessionhub.tenants import tenant_in_query
from sessionhub.web import NulFree, Request, Response, Route, decode_json, route

S = TypeVar("S")
SessionLimit = Annotated[int, Meta(ge=0, le=MAX_SESSIONS_LIMIT)]
LeaseTimeout = Annotated[int, Meta(ge=0, le=MAX_LEASE_TIMEOUT_S)]
_encode = msgspec.json.Encoder().encode


class AccountList(msgspec.Struct):
    accounts: list[AccountView]


class ContentList(msgspec.Struct):
    content: list[Content]


class SessionList(msgspec.Struct):
    sessions: list[SessionView]


class Entitlement(msgspec.Struct):
    account_id: str
    content_id: str


class Revoked(msgspec.Struct):
    revoked: int


class NewAccount(msgspec.Struct, forbid_unknown_fields=True):
    id: NulFree
    max_sessions: SessionLimit = 3
    policy: AdmissionPolicy = "deny"
    lease_timeout_s: LeaseTimeout | None = None
    password: NulFree | None = None
    tenant: Annotated[str, Meta(pattern=TENANT_PATTERN)] = DEFAULT_TENANT


class AccountChange(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool | None = None
    max_sessions: SessionLimit | None = None
    policy: AdmissionPolicy | None = None
    lease_timeout_s: LeaseTimeout | None = None
    password: NulFree | None = None


class NewDevice(msgspec.Struct, forbid_unknown_fields=True):
    device_id: NulFree


class DeviceChange(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool


class NewContent(msgspec.Struct, forbid_unknown_fields=True):
    content_id: NulFree
    content_type: NulFree


class NewEntitlement(msgspec.Struct, forbid_unknown_fields=True):
    content_id: NulFree


def body(request: Request, shape: type[S]) -> S:
    try:
        return decode_json(msgspec.json.Decoder(shape), request.body)
    except msgspec.DecodeError as error:
        raise InvalidInputError(f"Invalid request body: {error}") from None


def ok(value: Any, status: int = 200) -> Response:
    return Response(status, _encode(value))


def account_routes(
    accounts: AccountService, sessions: SessionService, authorize: Any
) -> list[Route]:
    async def list_accounts(request: Request) -> Response:
        authorize(request)
        tenant = tenant_in_query(request.query)
        found = await accounts.list_accounts()
        return ok(AccountList([AccountView.of(a) for a in found if tenant in (None, a.tenant)]))

    async def add_account(request: Request) -> Response:
        authorize(request)
        new = body(request, NewAccount)
        account = await accounts.add_account(
            new.id,
            max_sessions=new.max_sessions,
            policy=new.policy,
            lease_timeout_s=new.lease_timeout_s,
            password=new.password,
            tenant=new.tenant,
        )
        return ok(AccountView.of(account), 201)

    async def show_account(request: Request) -> Response:
        authorize(request)
        account_id = request.params["account_id"]
        account = await accounts.get_account(account_id)
        return ok(
            AccountDetail(
                **msgspec.structs.asdict(AccountView.of(account)),
                devices=await accounts.list_devices(account_id),
                entitlements=await accounts.entitlements(account_id),
                live_sessions=await sessions.list(account_id=account_id, state="active"),
            )
        )

    async def change_account(request: Request) -> Response:
        authorize(request)
        change = body(request, AccountChange)
        account = await accounts.update_account(
            request.params["account_id"], **msgspec.structs.asdict(change)
        )
        return ok(AccountView.of(account))

    async def add_device(request: Request) -> Response:
        authorize(request)
        new = body(request, NewDevice)
        return ok(await accounts.add_device(request.params["account_id"], new.device_id), 201)

    async def change_device(request: Request) -> Response:
        authorize(request)
        change = body(request, DeviceChange)
        device = await accounts.set_device_enabled(
            request.params["account_id"], request.params["device_id"], change.enabled
        )
        return ok(device)

    async def entitle(request: Request) -> Response:
        authorize(request)
        new = body(request, NewEntitlement)
        await accounts.entitle(request.params["account_id"], new.content_id)
        return ok(Entitlement(request.params["account_id"], new.content_id), 201)

    async def unentitle(request: Request) -> Response:
        authorize(request)
        await accounts.revoke_entitlement(
            request.params["account_id"], request.params["content_id"]
        )
        return Response(204, media_type=None)

    async def issue_token(request: Request) -> Response:
        authorize(request)
        new = body(request, NewDevice)
        return ok(await accounts.issue_token(request.params["account_id"], new.device_id), 201)

    async def revoke_tokens(request: Request) -> Response:
        authorize(request)
        device_id = request.query.get("device_id")
        count = await accounts.revoke_tokens(request.params["account_id"], device_id)
        return ok(Revoked(count))

    async def account_sessions(request: Request) -> Response:
        authorize(request)
        account_id = request.params["account_id"]
        await accounts.get_account(account_id)
        state = request.query.get("state", "active")
        if state not in ("active", "ended"):
            raise InvalidInputError("state must be active or ended")
        found = await sessions.list(account_id=account_id, state=state)  # type: ignore[arg-type]
        return ok(SessionList(found))

    async def list_content(request: Request) -> Response:
        authorize(request)
        return ok(ContentList(await accounts.list_content()))

    async def add_content(request: Request) -> Response:
        authorize(request)
        new = body(request, NewContent)
        content: Content = await accounts.add_content(new.content_id, new.content_type)
        return ok(content, 201)

    base = "/admin/api/accounts/{account_id}"
    return [
        route("GET", "/admin/api/accounts", list_accounts),
        route("POST", "/admin/api/accounts", add_account),
        route("GET", base, show_account),
        route("PATCH", base, change_account),
        route("POST", f"{base}/devices", add_device),
        route("PATCH", f"{base}/devices/{{device_id}}", change_device),
        route("POST", f"{base}/entitlements", entitle),
        route("DELETE", f"{base}/entitlements/{{content_id}}", unentitle),
        route("POST", f"{base}/tokens", issue_token),
        route("DELETE", f"{base}/tokens", revoke_tokens),
        route("GET", f"{base}/sessions", account_sessions),
        route("GET", "/admin/api/content", list_content),
        route("POST", "/admin/api/content", add_content),
    ]
