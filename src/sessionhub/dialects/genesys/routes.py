"""Genesys KC session management: PUT /sessions/new, GET and POST /sessions/{id}.

Served at the root and under ``/gks-server/v1``, the prefix real deployments use; a
``tenantId`` query parameter is accepted and kept, as the client's word only: the tenant a
session belongs to is the one configured for the host it is called on (``TenantHosts``), so
no request can write into another tenant by naming it.
"""

from __future__ import annotations

import msgspec

from sessionhub.core.engagement import (
    GENESYS,
    Activity,
    EngagementService,
    EngagementState,
    genesys_key,
)
from sessionhub.core.errors import InvalidInputError
from sessionhub.core.visitors import CUSTOMER
from sessionhub.dialects.genesys import schemas
from sessionhub.dialects.genesys.errors import render_error
from sessionhub.tenants import TenantHosts
from sessionhub.web import Mount, Request, Response, decode_json, route

PREFIXES = ("/sessions", "/gks-server/v1/sessions")


def mounts(engagement: EngagementService, tenants: TenantHosts) -> list[Mount]:
    async def new_session(request: Request) -> Response:
        tenant = tenants.tenant_for(request)
        session_id = engagement.new_session_id()
        key = genesys_key(session_id, tenant)
        await engagement.open(GENESYS, key, session_id, activity_of(request), tenant)
        return info_response(session_id, await engagement.info(GENESYS, key))

    async def get_session(request: Request) -> Response:
        key = genesys_key(request.params["session_id"], tenants.tenant_for(request))
        bounded(request.query.get("tenantId"), "tenantId")
        state = await engagement.info(GENESYS, key, ended_is_gone=True)
        return info_response(request.params["session_id"], state)

    async def associate(request: Request) -> Response:
        session_id = request.params["session_id"]
        tenant = tenants.tenant_for(request)
        # KC has no word for an ended session: one an operator ended is "Session not found".
        state = await engagement.upsert(
            GENESYS,
            genesys_key(session_id, tenant),
            session_id,
            activity_of(request),
            ended_is_gone=True,
            tenant=tenant,
        )
        return info_response(session_id, state)

    result = []
    for prefix in PREFIXES:
        routes = [
            route("PUT", f"{prefix}/new", new_session),
            route("GET", f"{prefix}/{{session_id}}", get_session),
            route("POST", f"{prefix}/{{session_id}}", associate),
        ]
        result.append(Mount(prefix, routes, render_error, name="genesys"))
    return result


def activity_of(request: Request) -> Activity:
    """Headers and body of a PUT or POST: what to associate with the session."""
    body = schemas.SessionBody()
    if request.body.strip():
        try:
            body = decode_json(schemas.body_decoder, request.body)
        except msgspec.DecodeError as error:
            raise InvalidInputError(f"Invalid request body: {error}") from None
    info = {
        "customerId": bounded(request.header(b"gkc_customerid"), "gkc_customerId header"),
        "agentId": bounded(request.header(b"gkc_agentid"), "gkc_agentId header"),
        "tenantId": bounded(request.query.get("tenantId"), "tenantId"),
        "visitId": None if isinstance(body.visitId, msgspec.UnsetType) else body.visitId,
        "globalVisitId": (
            None if isinstance(body.globalVisitId, msgspec.UnsetType) else body.globalVisitId
        ),
    }
    kept = {name: value for name, value in info.items() if value}
    identities = [(CUSTOMER, kept["customerId"])] if "customerId" in kept else []
    return Activity(info=kept, identities=identities)


def bounded(value: str | None, name: str) -> str | None:
    """A header or query value that is stored: as long as a body's visitId may be, at most."""
    if value is not None and len(value) > schemas.MAX_VALUE_LENGTH:
        raise InvalidInputError(f"{name} is longer than {schemas.MAX_VALUE_LENGTH} characters")
    return value


def info_response(session_id: str, state: EngagementState) -> Response:
    info = state.info
    answer = schemas.SessionInfo(
        sessionId=session_id,
        customerId=info.get("customerId"),
        agentId=info.get("agentId"),
        visitId=info.get("visitId"),
        globalVisitId=info.get("globalVisitId"),
        tenantId=info.get("tenantId"),
    )
    return Response(200, schemas.encode(answer))
