"""The operations of the five vendor APIs, each in its vendor's shapes."""

from __future__ import annotations

import dataclasses
from typing import Any

from sessionhub.dialects.adobe import schemas as adobe
from sessionhub.dialects.genesys import schemas as genesys
from sessionhub.dialects.massivemusic import schemas as massivemusic
from sessionhub.dialects.nagra import schemas as nagra
from sessionhub.dialects.nuance import schemas as nuance
from sessionhub.openapi.shapes import (
    ADOBE,
    GENESYS,
    NAGRA,
    NUANCE,
    NUANCE_TOKEN,
    PREVIEW,
    SIGN_ON,
    WRAPPED,
    OAuthToken,
    Operation,
    TokenRequest,
)


def vendor_operations() -> list[Operation]:
    """Every path of the five vendor APIs, each with a CORS preflight."""
    event = adobe.AnyEvent
    not_start = tuple(cls for tag, cls in adobe.EVENT_TYPES.items() if tag != "sessionStart")
    ops = [
        Operation(
            "POST",
            "/api/v1/sessions",
            "Start a media session (201, the id in Location)",
            ADOBE,
            body=adobe.SessionStart,
            status=201,
            answer_media_type="application/octet-stream",
        ),
        Operation(
            "POST",
            "/api/v1/sessions/{sid}/events",
            "Report a playback event (204)",
            ADOBE,
            body=_union(not_start),
            status=204,
        ),
        Operation(
            "POST",
            "/api/v1/downloaded",
            "Report a whole downloaded session, sessionStart first, all or nothing",
            ADOBE,
            body=list[event],  # type: ignore[valid-type]
            status=201,
            answer_media_type="application/octet-stream",
        ),
        Operation(
            "GET",
            "/api/v1/schemas/{eventType}",
            "The JSON Schema an event type is validated with",
            ADOBE,
            answer=dict[str, Any],
        ),
    ]
    for prefix in ("/srm", "/srm/v1"):
        ops += [
            Operation(
                "POST",
                f"{prefix}/sessions",
                "Set up a playback session (SRM); DENIED answers are HTTP 200",
                NAGRA,
                body=nagra.SetupRequest,
                answer=(nagra.SuccessResponse, nagra.ErrorResponse),
                headers=(("Client-Token", True),),
            ),
            Operation(
                "PUT",
                f"{prefix}/sessions/{{session_id}}",
                "Keep a playback session alive",
                NAGRA,
                headers=(("Client-Token", True),),
            ),
            Operation(
                "DELETE",
                f"{prefix}/sessions/{{session_id}}",
                "Tear a playback session down",
                NAGRA,
                headers=(("Client-Token", True),),
            ),
        ]
    ops.append(
        Operation(
            "POST",
            "/ias/v3/token/actions/signOnByUserNamePassword",
            "A device signs on with its account's credentials and gets a Client-Token",
            SIGN_ON,
            body=nagra.SignOnRequest,
            answer=(nagra.SignOnResponse, nagra.ErrorResponse),
        )
    )
    genesys_headers = (("gkc_customerId", False), ("gkc_agentId", False))
    tenant = (("tenantId", False, genesys.VisitId),)
    for prefix in ("/sessions", "/gks-server/v1/sessions"):
        ops += [
            Operation(
                "PUT",
                f"{prefix}/new",
                "Create a session, optionally with customer, agent and visit",
                GENESYS,
                body=genesys.SessionBody,
                body_required=False,
                answer=genesys.SessionInfo,
                query=tenant,
                headers=genesys_headers,
            ),
            Operation(
                "GET",
                f"{prefix}/{{session_id}}",
                "Read a session",
                GENESYS,
                answer=genesys.SessionInfo,
                query=tenant,
            ),
            Operation(
                "POST",
                f"{prefix}/{{session_id}}",
                "Associate customer, agent or visit with a session (created if new)",
                GENESYS,
                body=genesys.SessionBody,
                body_required=False,
                answer=genesys.SessionInfo,
                query=tenant,
                headers=genesys_headers,
            ),
        ]
    ops.append(
        Operation(
            "POST",
            "/oauth-server/oauth/token",
            "OAuth 2.0 client credentials grant",
            NUANCE_TOKEN,
            form=TokenRequest,
            answer=OAuthToken,
        )
    )
    ops += [
        Operation(
            "POST",
            f"/tagserver/v1/dataCollection/{name}",
            f"Nuance Data Collection: {name}",
            NUANCE,
            body=shape,
            answer=nuance.SessionIds,
        )
        for name, shape in nuance.ENDPOINTS.items()
    ]
    country = ("country", True, str)
    ops += [
        Operation(
            "POST",
            "/1.2/user/preview/log",
            "Log preview plays (OAuth 1.0a signed), all or nothing",
            PREVIEW,
            body=massivemusic.PreviewBatch,
            form=massivemusic.PreviewLog,
            answer=dict[str, Any],
            query=(country,),
            extra_statuses={401: "oauth"},
        ),
        Operation(
            "POST",
            "/1.2/user/subscription/log",
            "Log a subscriber's plays (OAuth 1.0a signed), all or nothing",
            WRAPPED,
            body=massivemusic.SubscriptionBatch,
            answer=massivemusic.StatusOk,
            query=(country, ("userId", True, str)),
            extra_statuses={401: "oauth"},
        ),
        Operation(
            "POST",
            "/1.2/catalogue/log",
            "Log catalogue plays (OAuth 1.0a signed), all or nothing",
            WRAPPED,
            body=massivemusic.CatalogueBatch,
            answer=massivemusic.StatusOk,
            query=(country,),
            extra_statuses={401: "oauth"},
        ),
    ]
    # A browser's preflight, on every path of every vendor API (sessionhub.cors).
    paths = {op.path: op.dialect for op in ops}
    ops += [
        # A preflight carries no credentials, whatever the path asks of the request after it.
        Operation("OPTIONS", path, "CORS preflight", dataclasses.replace(dialect, security=()))
        for path, dialect in paths.items()
    ]
    return ops


def _union(types: tuple[Any, ...]) -> Any:
    union = types[0]
    for kind in types[1:]:
        union = union | kind
    return union
