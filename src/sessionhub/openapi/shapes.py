"""What the operation tables are made of: the shapes sessionhub answers that no dialect module
holds, and the description of one operation and of one API's conventions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from sessionhub.admin import routes as admin_routes
from sessionhub.dialects.adobe import errors as adobe_errors
from sessionhub.dialects.genesys import schemas as genesys
from sessionhub.dialects.massivemusic import schemas as massivemusic
from sessionhub.dialects.nagra import schemas as nagra
from sessionhub.dialects.nuance import schemas as nuance

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class OAuthToken(msgspec.Struct):
    """RFC 6749 §5.1, as oauthlib writes it."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str


class OAuthError(msgspec.Struct, omit_defaults=True):
    """RFC 6749 §5.2."""

    error: str
    error_description: str | None = None


class TokenRequest(msgspec.Struct, omit_defaults=True):
    """RFC 6749 §4.4.2, with the client's credentials in the form (§2.3.1) or in HTTP Basic."""

    grant_type: str
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None


class Status(msgspec.Struct):
    status: str


@dataclass(frozen=True)
class Dialect:
    """What every operation of one API shares: its tag, error body and security."""

    tag: str
    error: Any
    error_statuses: tuple[int, ...]
    security: tuple[str, ...] = ()
    error_media_type: str = JSON


ADOBE = Dialect("adobe", adobe_errors.ApiError, (400, 404, 405, 410, 413, 415, 503))
NAGRA = Dialect("nagra", nagra.ErrorResponse, (400, 401, 404, 405, 410, 413, 503), ("srm",))
SIGN_ON = Dialect("nagra", nagra.ErrorResponse, (400, 401, 405, 413, 429, 503))
GENESYS = Dialect("genesys", genesys.ErrorBody, (400, 404, 405, 413, 503))
NUANCE = Dialect("nuance", nuance.ErrorBody, (400, 401, 403, 404, 405, 413, 503), ("bearer",))
# Client credentials in HTTP Basic, or in the form (then no security scheme applies).
NUANCE_TOKEN = Dialect("nuance", OAuthError, (400, 401, 405, 413, 429, 503), ("basic", ""))
PREVIEW = Dialect("massivemusic", massivemusic.PreviewError, (400, 405, 413, 429, 503), ("oauth1",))
WRAPPED = Dialect("massivemusic", massivemusic.StatusError, (400, 405, 413, 429, 503), ("oauth1",))
ADMIN = Dialect(
    "admin", admin_routes.ErrorEnvelope, (400, 401, 403, 404, 405, 409, 413, 503), ("admin",)
)
HEALTH = Dialect("health", admin_routes.ErrorEnvelope, (503,))
# Streaming servers read statuses and headers; the reason is plain text (and a header).
STREAMING = Dialect("streaming", str, (400, 401, 403, 404, 429, 503), (), "text/plain")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    dialect: Dialect
    body: Any = None  # a type msgspec can describe; None: no body
    form: Any = None  # the same request as form fields, where the API takes them too
    body_required: bool = True
    status: int = 200
    answer: Any = None  # None: an empty body; a tuple of types: one of them
    answer_media_type: str = JSON
    query: tuple[tuple[str, bool, Any], ...] = ()  # (name, required, schema)
    headers: tuple[tuple[str, bool], ...] = ()  # (name, required)
    extra_statuses: dict[int, Any] = field(default_factory=dict)
