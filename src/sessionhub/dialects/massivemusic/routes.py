"""MassiveMusic (7digital) logging: preview, subscription and catalogue play logs.

Every call: OAuth 1.0a signature, ``country`` allowed for the key, nonce and rate limit, then an
all-or-nothing batch. Rate-limit headers go on every answer once the request is admitted.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from sessionhub.core.consumers import ConsumerService, SignedRequest, Verified, check_country
from sessionhub.core.errors import SessionhubError
from sessionhub.core.playlogs import (
    INVALID_ENUM,
    INVALID_VALUE,
    OUT_OF_RANGE,
    REQUIRED_MISSING,
    BatchInvalidError,
    LogInputError,
    LogProblem,
    PlayLogService,
    to_ms,
    truncate_user_agent,
)
from sessionhub.core.records import LogKind, PlayLog
from sessionhub.dialects.massivemusic import schemas
from sessionhub.dialects.massivemusic.errors import rate_headers, render, render_error
from sessionhub.web import Mount, Request, Response, decode_json, route

_EMPTY_OK = b"{}"
_PATH = re.compile(r" - at `\$(?:\.\w+\[(\d+)\])?\.?([\w]*)`")


def mount(consumers: ConsumerService, playlogs: PlayLogService) -> Mount:
    async def handle(request: Request, kind: LogKind) -> Response:
        wrapped = kind != "preview"
        try:
            verified = await consumers.verify(signed(request))
            country = check_country(verified.consumer, request.query.get("country"))
            decision = await consumers.admit(verified.consumer, verified.nonce, verified.timestamp)
        except SessionhubError as error:
            return render(error, wrapped=wrapped)
        try:
            logs = parse(request, kind, verified, country, playlogs)
            await playlogs.record(logs)
        except SessionhubError as error:
            response = render(error, wrapped=wrapped)
        else:
            if wrapped:
                answer = schemas.StatusOk("ok", "1.2", schemas.PlayLogCount(len(logs)))
                response = Response(200, schemas.encode(answer))
            else:
                response = Response(200, _EMPTY_OK)
        response.headers += rate_headers(decision)
        return response

    async def preview(request: Request) -> Response:
        return await handle(request, "preview")

    async def subscription(request: Request) -> Response:
        return await handle(request, "subscription")

    async def catalogue(request: Request) -> Response:
        return await handle(request, "catalogue")

    routes = [
        route("POST", "/1.2/user/preview/log", preview),
        route("POST", "/1.2/user/subscription/log", subscription),
        route("POST", "/1.2/catalogue/log", catalogue),
    ]
    # A page reading its rate limit needs these exposed (CORS hides other headers).
    exposed = b"Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
    return Mount(
        "/1.2",
        routes,
        render_error,
        extra_headers=[(b"access-control-expose-headers", exposed)],
        name="massivemusic",
    )


def signed(request: Request) -> SignedRequest:
    """The request as the client signed it: scheme, Host and the raw path and query."""
    scope = request.scope
    host = request.header(b"host") or f"{scope['server'][0]}:{scope['server'][1]}"
    query = scope.get("query_string", b"").decode("latin-1")
    uri = f"{scope['scheme']}://{host}{request.path}" + (f"?{query}" if query else "")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    return SignedRequest(uri, request.method, request.body.decode("utf-8", "replace"), headers)


def parse(
    request: Request, kind: LogKind, verified: Verified, country: str, service: PlayLogService
) -> list[PlayLog]:
    """Decode and check the whole batch; raise ``BatchInvalidError`` listing every bad entry."""
    entries, problems = decode_entries(request, kind)
    user_id = request.query.get("userId")
    if kind == "subscription" and not user_id:
        raise LogInputError(REQUIRED_MISSING, "Required parameter userId is missing")
    logs = to_logs(kind, entries, verified.consumer.key, user_id or "", country, service.now_ms())
    # The whole batch is screened at once; only a batch that fails the screen (or may hold a
    # NUL: JSON can only carry one escaped) is checked log by log, to say which and why.
    if problems or not (nul_free(request, kind) and service.all_pass(logs)):
        for (index, entry), log in zip(entries, logs, strict=True):
            problems += service.check_log(index, log, entry.userAgent)
    if problems:
        raise BatchInvalidError(problems)
    return logs


def to_logs(
    kind: LogKind,
    entries: list[tuple[int, Any]],
    key: str,
    user_id: str,
    country: str,
    now: int,
) -> list[PlayLog]:
    """The decoded entries as stored records, unchecked (one comprehension a kind: no branch
    a log). The user agent is cut to its limit here; ``check`` sees the entry's own."""
    cut = truncate_user_agent
    if kind == "preview":
        return [
            PlayLog(
                key,
                kind,
                e.userId,
                e.country.upper(),
                e.trackId,
                to_ms(e.dateTimePlayed),
                e.totalTimePlayed,
                cut(e.userAgent),
                e.playType,
                e.playMode,
                None,
                None,
                None,
                now,
            )
            for _, e in entries
        ]
    # A subscription's user comes from the query and it has no end reason; a catalogue log
    # has no play mode.
    return [
        PlayLog(
            key,
            kind,
            getattr(e, "userId", user_id),
            country,
            e.trackId,
            to_ms(e.dateTimePlayed),
            e.totalTimePlayed,
            cut(e.userAgent),
            "view",
            getattr(e, "playMode", None),
            e.releaseId,
            e.formatId,
            getattr(e, "endReason", None),
            now,
        )
        for _, e in entries
    ]


def nul_free(request: Request, kind: LogKind) -> bool:
    """Whether no string of a JSON body can hold a NUL: JSON carries one only as the escape
    ``\\u0000`` (a raw one is malformed), so a body without that text has none. A form body
    is not screened (answered no: its one log is checked)."""
    return not is_form(request, kind) and b"\\u0000" not in request.body


def is_form(request: Request, kind: LogKind) -> bool:
    """The seed's page shows one preview log sent as form fields."""
    content_type = (request.header(b"content-type") or "").split(";")[0].strip().lower()
    return kind == "preview" and content_type == "application/x-www-form-urlencoded"


def decode_entries(
    request: Request, kind: LogKind
) -> tuple[list[tuple[int, Any]], list[LogProblem]]:
    """The entries that decode (with their index), and a problem for each that does not."""
    if is_form(request, kind):  # taken as a batch of one
        form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        form = {k: v for k, v in form.items() if not k.startswith("oauth_")}
        try:
            return [(0, msgspec.convert(form, schemas.PreviewLog, strict=False))], []
        except msgspec.ValidationError as error:
            return [], [problem_of(0, str(error))]
    try:
        batch = decode_json(schemas.DECODERS[kind], request.body)
    except msgspec.ValidationError:
        pass  # find every bad entry below
    except msgspec.DecodeError as error:
        raise LogInputError(INVALID_VALUE, f"Request body is not valid JSON: {error}") from None
    else:
        return list(enumerate(batch.logs if kind == "preview" else batch.playLogItem)), []
    return decode_each(request.body, kind)


def decode_each(body: bytes, kind: LogKind) -> tuple[list[tuple[int, Any]], list[LogProblem]]:
    try:
        raw = decode_json(schemas.RAW_DECODERS[kind], body)
    except msgspec.DecodeError as error:
        raise LogInputError(*code_of(str(error))) from None
    items = raw.logs if kind == "preview" else raw.playLogItem
    field = "logs" if kind == "preview" else "playLogItem"
    if not 1 <= len(items) <= schemas.MAX_BATCH:
        raise LogInputError(OUT_OF_RANGE, f"'{field}' must hold 1 to {schemas.MAX_BATCH} entries")
    decoder = schemas.ENTRY_DECODERS[kind]
    entries: list[tuple[int, Any]] = []
    problems: list[LogProblem] = []
    for index, item in enumerate(items):
        try:
            entries.append((index, decode_json(decoder, item)))
        except msgspec.DecodeError as error:
            problems.append(problem_of(index, str(error)))
    return entries, problems


def problem_of(index: int, message: str) -> LogProblem:
    code, text = code_of(message)
    return LogProblem(index, code, text)


def code_of(message: str) -> tuple[int, str]:
    """7digital's code for a msgspec validation message, and the message in its words."""
    match = _PATH.search(message)
    name = match.group(2) if match and match.group(2) else "request"
    if message.startswith("Object missing required field"):
        missing = message.split("`")[1]
        return REQUIRED_MISSING, f"Required parameter {missing} is missing"
    if message.startswith("Invalid enum value"):
        return (
            INVALID_ENUM,
            f"'{name}' must be one of the allowed values ({message.split(' - ', maxsplit=1)[0]})",
        )
    if ">=" in message or "<=" in message or "length" in message:
        return OUT_OF_RANGE, f"'{name}' is out of range ({message.split(' - ', maxsplit=1)[0]})"
    return INVALID_VALUE, f"'{name}' is invalid ({message.split(' - ', maxsplit=1)[0]})"
