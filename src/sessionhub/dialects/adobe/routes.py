"""Adobe Media Collection API routes: parse, one core call, render (PROTOCOLS.md §1)."""

from __future__ import annotations

from typing import Any

import msgspec

from sessionhub.core.errors import InvalidInputError, NotFoundError, UnsupportedMediaTypeError
from sessionhub.core.media import MediaService, MediaStart, Received
from sessionhub.dialects.adobe import schemas
from sessionhub.dialects.adobe.errors import render_error
from sessionhub.tenants import TenantHosts
from sessionhub.web import Mount, Request, Response, decode_json, route

PREFIX = "/api/v1"
# As Adobe's page shows them; Access-Control-Allow-Origin comes from SESSIONHUB_CORS_ORIGINS.
CORS_HEADERS = [
    (b"access-control-allow-methods", b"OPTIONS,POST,PUT"),
    (b"access-control-allow-headers", b"Content-Type"),
    (b"access-control-expose-headers", b"Location"),
]
_NO_CONTENT = Response(204, media_type=None)
_PREFLIGHT = Response(200, media_type=None)
_OCTET_STREAM = b"application/octet-stream"
_JSON_TYPES = ("application/json", "text/plain")


def mount(media: MediaService, tenants: TenantHosts) -> Mount:
    """Adobe's API carries no credential: each request writes into the tenant of the host it
    was sent to (``TenantHosts``)."""

    async def start_session(request: Request) -> Response:
        require_json(request)
        tenant = tenants.tenant_for(request)
        if request.body.lstrip()[:1] == b"[":
            # Legacy form of a downloaded session (PROTOCOLS.md §1.8): still served, but it
            # demands media.downloaded=true on its sessionStart.
            start, rest = parse_batch(request.body, legacy=True)
            session_id = await media.import_downloaded(start, rest, tenant)
        else:
            session_id = await media.start(parse_start(request.body), tenant)
        return created(session_id)

    async def post_event(request: Request) -> Response:
        require_json(request)
        tenant = tenants.tenant_for(request)
        await media.record(request.params["sid"], parse_event(request.body), tenant)
        return _NO_CONTENT

    async def post_downloaded(request: Request) -> Response:
        require_json(request)
        start, rest = parse_batch(request.body, legacy=False)
        return created(await media.import_downloaded(start, rest, tenants.tenant_for(request)))

    async def get_schema(request: Request) -> Response:
        schema = schemas.JSON_SCHEMAS.get(request.params["eventType"])
        if schema is None:
            raise NotFoundError(f"Unknown eventType {request.params['eventType']!r}")
        return Response(200, schema)

    async def preflight(request: Request) -> Response:
        return _PREFLIGHT

    routes = [
        route("POST", "/api/v1/sessions", start_session),
        route("POST", "/api/v1/sessions/{sid}/events", post_event),
        route("POST", "/api/v1/downloaded", post_downloaded),
        route("GET", "/api/v1/schemas/{eventType}", get_schema),
    ]
    routes += [route("OPTIONS", r.pattern.pattern[1:-1], preflight) for r in routes]
    return Mount(PREFIX, routes, render_error, extra_headers=CORS_HEADERS, name="adobe")


def created(session_id: str) -> Response:
    location = f"{PREFIX}/sessions/{session_id}".encode()
    return Response(201, headers=[(b"location", location)], media_type=_OCTET_STREAM)


def require_json(request: Request) -> None:
    """Adobe requires ``Content-Type: application/json``; a missing header is taken as JSON,
    and so is ``text/plain``: ``navigator.sendBeacon(url, JSON.stringify(event))``, the way web
    players report ``sessionEnd`` as the page unloads, can send nothing else without a
    preflight. The body is still decoded and validated as JSON."""
    content_type = request.header(b"content-type")
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"Content-Type must be application/json, not {content_type!r}"
        )


def parse_start(body: bytes) -> MediaStart:
    event = decode(schemas.event_decoder, body)
    if not isinstance(event, schemas.SessionStart):
        raise InvalidInputError(
            f"eventType must be sessionStart on /api/v1/sessions, not {schemas.event_type(event)}"
        )
    if event.params.downloaded is True:
        raise InvalidInputError(
            "media.downloaded=true is only for downloaded sessions: POST them to /api/v1/downloaded"
        )
    return media_start(event, body)


def parse_event(body: bytes) -> Received:
    event = decode(schemas.event_decoder, body)
    if isinstance(event, schemas.SessionStart):
        raise InvalidInputError("sessionStart goes to /api/v1/sessions, not to a session")
    return Received(schemas.to_media_event(event), body)


def parse_batch(body: bytes, *, legacy: bool) -> tuple[MediaStart, list[Received]]:
    """A downloaded session: a JSON array whose first element is sessionStart."""
    events = decode(schemas.batch_decoder, body)
    if not events:
        raise InvalidInputError("A downloaded session needs at least its sessionStart event")
    first = events[0]
    if not isinstance(first, schemas.SessionStart):
        raise InvalidInputError("The first event of a downloaded session must be sessionStart")
    if legacy and first.params.downloaded is not True:
        raise InvalidInputError(
            "An array posted to /api/v1/sessions needs media.downloaded=true on its sessionStart"
        )
    rest = []
    for index, event in enumerate(events[1:], start=1):
        if isinstance(event, schemas.SessionStart):
            raise InvalidInputError(f"Event {index}: only the first event may be sessionStart")
        rest.append(Received(schemas.to_media_event(event), schemas.encode(event)))
    return media_start(first, schemas.encode(first)), rest


def media_start(event: schemas.SessionStart, body: bytes) -> MediaStart:
    params = event.params
    metadata = event.customMetadata
    return MediaStart(
        event=schemas.to_media_event(event),
        live_content=params.content_type.lower() in schemas.LIVE_CONTENT_TYPES,
        length=params.length,
        params=schemas.session_params(event),
        custom_metadata={} if isinstance(metadata, msgspec.UnsetType) else dict(metadata),
        body=body,
        identities=schemas.identities(params),
    )


def decode(decoder: msgspec.json.Decoder[Any], body: bytes) -> Any:
    try:
        return decode_json(decoder, body)
    except msgspec.DecodeError as error:  # ValidationError is a DecodeError too
        prefix = "Invalid request" if isinstance(error, msgspec.ValidationError) else "Invalid JSON"
        raise InvalidInputError(f"{prefix}: {error}") from None
