"""Nuance Data Collection API: the OAuth 2.0 token endpoint and /tagserver/v1/dataCollection/*."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote

import msgspec
from oauthlib.oauth2 import BackendApplicationServer, RequestValidator

from sessionhub.core.clients import ClientService
from sessionhub.core.engagement import (
    NUANCE,
    Activity,
    AttributeChange,
    EngagementService,
    VariableChange,
    new_nuance_id,
    nuance_key,
)
from sessionhub.core.errors import InvalidInputError, NotFoundError, TooManyRequestsError
from sessionhub.core.records import ApiClient
from sessionhub.core.visitors import NUANCE_CUSTOMER
from sessionhub.dialects.nuance import schemas
from sessionhub.dialects.nuance.errors import render_error
from sessionhub.web import Mount, Request, Response, client_address, decode_json, route
from sessionhub.web_errors import error_headers

TOKEN_PATH = "/oauth-server/oauth/token"
_SCOPES = {
    "sessionAttribute": "session",
    "visitorAttribute": "visitor",
    "engagementAttribute": "engagement",
}
_INFO_FIELDS = (
    "viewID",
    "applicationID",
    "applicationVersion",
    "deviceType",
    "OS",
    "browser",
    "browserType",
    "browserVersion",
    "businessUnitID",
    "agentGroupID",
)


class _ClientCredentials(RequestValidator):
    """oauthlib's hooks, answered from a client looked up before oauthlib runs.

    oauthlib validates the grant (grant type, duplicate parameters, client authentication) and
    writes the RFC 6749 response and errors; its hooks are synchronous, so the store lookup
    happens first, asynchronously, and the hooks only read its result.
    """

    def __init__(self, client: ApiClient | None) -> None:
        super().__init__()
        self.client = client
        self.token: dict[str, Any] | None = None

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if self.client is None:
            return False
        request.client = self.client
        request.client_id = self.client.client_id
        return True

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return grant_type == "client_credentials"

    def get_default_scopes(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        return ["dataCollection"]

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return True  # Nuance publishes no scope names: any requested scope is granted

    def save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> None:
        self.token = dict(token)


def mounts(engagement: EngagementService, clients: ClientService, token_ttl_s: int) -> list[Mount]:
    async def issue_token(request: Request) -> Response:
        client_id, secret = client_credentials(request)
        try:
            client = (
                await clients.check_client(client_id, secret, address=client_address(request))
                if client_id
                else None
            )
        except TooManyRequestsError as error:
            return throttled(error)
        validator = _ClientCredentials(client)
        server = BackendApplicationServer(validator, token_expires_in=token_ttl_s)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
        out_headers, body, status = server.create_token_response(
            TOKEN_PATH, "POST", request.body.decode("utf-8", "replace"), headers
        )
        if status == 200 and client is not None and validator.token is not None:
            await clients.record(client, validator.token["access_token"], token_ttl_s)
        if status == 401 and uses_basic(request):
            # RFC 6749 §5.2: the challenge names the scheme the client authenticated with
            # (oauthlib always says Bearer).
            out_headers["WWW-Authenticate"] = 'Basic realm="oauth-server"'
        extra = [
            (name.lower().encode(), value.encode())
            for name, value in out_headers.items()
            if name.lower() != "content-type"
        ]
        return Response(status, body.encode(), headers=extra)

    async def collect(request: Request) -> Response:
        endpoint = request.params["endpoint"]
        decoder = schemas.DECODERS.get(endpoint)
        if decoder is None:
            raise NotFoundError(f"No dataCollection endpoint {endpoint!r}")
        token = await clients.authenticate(request.header(b"authorization"))
        try:
            body = decode_json(decoder, request.body)
        except msgspec.DecodeError as error:
            raise InvalidInputError(f"Invalid request: {error}") from None
        clients.check_site(token, body.siteID)
        tc_customer_id = one_of(body.tcCustomerID, body.tcCustomerId, "tcCustomerID")
        session_id = one_of(body.sessionID, body.sessionId, "sessionID")
        if endpoint == "exposed" and tc_customer_id is None:
            raise InvalidInputError("exposed requires tcCustomerID")
        tc_customer_id = tc_customer_id or new_nuance_id()
        session_id = session_id or new_nuance_id()
        activity = Activity(
            info=info_of(body, tc_customer_id),
            identities=[(NUANCE_CUSTOMER, tc_customer_id)],
            attributes=attribute_changes(body),
            variables=variable_changes(body),
            event_type=endpoint,
            event_body=request.body,
        )
        await engagement.upsert(
            NUANCE,
            nuance_key(body.siteID, session_id),  # a site is one tenant's (add_client)
            session_id,
            activity,
            tenant=await clients.tenant_of(token),
        )
        return Response(200, schemas.encode(schemas.SessionIds(tc_customer_id, session_id)))

    return [
        Mount(
            "/oauth-server",
            [route("POST", TOKEN_PATH, issue_token)],
            render_error,
            name="nuance",
        ),
        Mount(
            "/tagserver",
            [route("POST", "/tagserver/v1/dataCollection/{endpoint}", collect)],
            render_error,
            name="nuance",
        ),
    ]


def throttled(error: TooManyRequestsError) -> Response:
    """RFC 6749 has no error for a throttled client; this is its error shape with 429 and the
    one code meaning "not now" (``temporarily_unavailable``, RFC 6749 §4.1.2.1)."""
    body = {"error": "temporarily_unavailable", "error_description": error.message}
    return Response(429, msgspec.json.encode(body), headers=error_headers(error))


def uses_basic(request: Request) -> bool:
    return (request.header(b"authorization") or "").partition(" ")[0].lower() == "basic"


def client_credentials(request: Request) -> tuple[str | None, str]:
    """HTTP Basic client authentication (RFC 6749 §2.3.1), or the credentials in the form."""
    authorization = request.header(b"authorization") or ""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, ""
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
    return form.get("client_id"), form.get("client_secret", "")


def one_of(upper: Any, camel: Any, name: str) -> str | None:
    """``tcCustomerID`` or ``tcCustomerId`` (likewise sessionID): either, or both if equal."""
    values = {v for v in (upper, camel) if not isinstance(v, msgspec.UnsetType)}
    if len(values) > 1:
        raise InvalidInputError(f"{name} and its camel-case twin disagree")
    return values.pop() if values else None


def info_of(body: Any, tc_customer_id: str) -> dict[str, str]:
    info = {"siteID": str(body.siteID), "tcCustomerId": tc_customer_id}
    for name in _INFO_FIELDS:
        value = getattr(body, name, msgspec.UNSET)
        if not isinstance(value, msgspec.UnsetType):
            info[name] = str(value)
    if not isinstance(body.engagementID, msgspec.UnsetType):
        info["engagementID"] = str(body.engagementID)
    return info


def attribute_changes(body: Any) -> list[AttributeChange]:
    engagement_id = (
        None if isinstance(body.engagementID, msgspec.UnsetType) else str(body.engagementID)
    )
    return [
        AttributeChange(
            scope=_SCOPES[attribute.attributeType],  # type: ignore[arg-type]
            name=attribute.name,
            values=as_list(attribute.value),
            action=attribute.action,
            external=attribute.externalCustomerID == "yes",
            engagement_id=engagement_id,
        )
        for attribute in body.attributes
    ]


def variable_changes(body: Any) -> list[VariableChange]:
    changes = []
    for variable in body.customVariables:
        persistence = variable.persistence
        changes.append(
            VariableChange(
                name=variable.name,
                values=as_list(variable.value),
                action=variable.action,
                volatile=persistence == "volatile",
                hours=persistence if isinstance(persistence, int) else None,
            )
        )
    return changes


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
