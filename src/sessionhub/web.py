"""The thin HTTP layer every dialect and the admin API share: raw ASGI, a route table, bytes out.

Why not Starlette: DESIGN.md §4 measured Starlette's per-request Request/Response objects at
~60 µs of server CPU against ~25 µs for raw ASGI with the same msgspec decode, and the Adobe
ping path must stay within 2x of that floor. What a handler needs (method, path parameters,
query, headers, a size-checked body) fits in this module, so the hot path pays for nothing else.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, unquote_plus

import msgspec

from sessionhub.core.errors import (
    BodyTooLargeError,
    InvalidInputError,
    MethodNotAllowedError,
    NotFoundError,
    SessionhubError,
)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


class Request:
    """One HTTP request with its whole body already read."""

    __slots__ = ("body", "method", "params", "path", "scope")

    def __init__(self, scope: Scope, body: bytes, params: dict[str, str]) -> None:
        self.scope = scope
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.body = body
        self.params = params

    def header(self, name: bytes) -> str | None:
        """The first value of a header; ``name`` must be lower-case bytes."""
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    def cookie(self, name: str) -> str | None:
        """A cookie's value, the last of that name as ``http.cookies`` had it (None when
        absent).

        Split by hand (RFC 6265 §4.2.1: ``name=value`` pairs separated by ``; ``, a value
        maybe in double quotes) rather than with ``http.cookies``, whose parser costs ~10 µs:
        a streaming server's check may read the session id from a cookie on every segment.
        """
        header = self.header(b"cookie")
        if not header or name not in header:
            return None
        found: str | None = None
        for pair in header.split(";"):
            key, sign, value = pair.strip().partition("=")
            if sign and key == name:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                found = value
        return found

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; the first value wins when one is repeated. A NUL character
        (``%00``) is refused (400) for every route at once: no name or value sessionhub keeps
        can hold one, and PostgreSQL cannot even compare against one."""
        pairs = parse_qsl(self.scope.get("query_string", b"").decode("latin-1"))
        query: dict[str, str] = {}
        for key, value in pairs:
            if "\x00" in key or "\x00" in value:
                raise InvalidInputError("A query parameter holds a NUL character (%00)")
            query.setdefault(key, value)
        return query


def query_value(query: str, name: str) -> str | None:
    """The first value of ``name`` in a raw query string, percent- and plus-decoded (None when
    absent). Written out rather than ``parse_qsl``: a streaming server's check wants one name
    from every segment's URI, and splitting the whole query into a list costs several µs."""
    for pair in query.split("&"):
        key, found, value = pair.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if found and key == name:
            return unquote_plus(value) if "%" in value or "+" in value else value
    return None


def client_address(request: Request) -> str | None:
    """The caller's address as the server saw it (behind a proxy, as uvicorn's
    ``--forwarded-allow-ips`` lets it rewrite it)."""
    client = request.scope.get("client")
    return str(client[0]) if client else None


@dataclass(slots=True)
class Response:
    """A whole body, or with ``stream`` set a body sent chunk by chunk as it is produced."""

    status: int
    body: bytes = b""
    headers: Headers = field(default_factory=list)
    media_type: bytes | None = b"application/json"
    stream: AsyncIterator[bytes] | None = None


Handler = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[SessionhubError], Response]


@dataclass(slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    template: str  # the path as written, ``{name}`` kept: what logs and metrics name it by


@dataclass(slots=True)
class Mount:
    """Routes under one prefix that answer errors in one vendor's shape."""

    prefix: str
    routes: list[Route]
    render_error: ErrorRenderer
    extra_headers: Headers = field(default_factory=list)
    cors: bool = True  # browsers on other origins may call it (sessionhub.cors)
    name: str = ""  # the dialect (or admin, health) in access logs and metrics


def route(method: str, path: str, handler: Handler) -> Route:
    """``path`` may hold ``{name}`` segments; they match one path segment each."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{regex}$"), handler, path)


def routing_path(scope: Scope) -> str:
    """The path routes match, with the client's percent-escapes kept: an id holding an escaped
    "/" (``%2F``, as Nuance session ids may) stays one segment, which the decoded ``path`` would
    split in two. ``Router.resolve`` decodes each parameter once it has matched."""
    raw: bytes | None = scope.get("raw_path")
    if raw is not None and b"%" in raw:
        return raw.partition(b"?")[0].decode("latin-1")
    path: str = scope["path"]
    # without a raw path (some servers), a literal "%" is escaped so decoding gives it back
    return path if raw is not None or "%" not in path else quote(path)


class Router:
    """Find the handler for a request; errors render in the shape of the mount they hit."""

    def __init__(self, mounts: Iterable[Mount]) -> None:
        # Longest prefix first, so /api/v1 wins over /.
        self._mounts = sorted(mounts, key=lambda mount: len(mount.prefix), reverse=True)
        # One regex of every prefix, longest first (an alternation takes the first that
        # matches): a single match per request instead of a startswith per mount.
        self._by_prefix: dict[str, Mount] = {}
        for mount in self._mounts:
            self._by_prefix.setdefault(mount.prefix, mount)
        alternatives = "|".join(re.escape(prefix) for prefix in self._by_prefix)
        self._prefixes = re.compile(alternatives or "(?!)")  # no mounts: nothing matches
        # Per mount and method, the routes to try: a request only tests the patterns of its
        # own method (HEAD is served by GET routes).
        self._by_method: dict[tuple[str, str], list[Route]] = {}
        # A path that a route spells out literally (Genesys' /sessions/new) belongs to the
        # literal routes alone: it is not also a value of another route's {parameter}.
        self._literal: dict[tuple[str, str], list[Route]] = {}
        for mount in self._mounts:
            for candidate in mount.routes:
                self._by_method.setdefault((mount.prefix, candidate.method), []).append(candidate)
                if candidate.method == "GET":
                    self._by_method.setdefault((mount.prefix, "HEAD"), []).append(candidate)
                if candidate.pattern.groups == 0:
                    path = candidate.pattern.pattern[1:-1].replace("\\", "")
                    self._literal.setdefault((mount.prefix, path), []).append(candidate)

    def methods_for(self, mount: Mount, path: str) -> list[str]:
        """The methods the routes of ``mount`` serve at ``path`` (none: no such path)."""
        literal = self._literal.get((mount.prefix, path))
        return [c.method for c in literal or mount.routes if c.pattern.match(path)]

    def mount_for(self, path: str) -> Mount | None:
        """The mount with the longest prefix ``path`` starts with."""
        found = self._prefixes.match(path)
        return None if found is None else self._by_prefix[found.group()]

    def resolve(self, mount: Mount, method: str, path: str) -> tuple[Route, dict[str, str]]:
        literal = self._literal.get((mount.prefix, path))
        candidates = literal if literal is not None else self._by_method.get((mount.prefix, method))
        for candidate in candidates or ():
            if candidate.method != method and not (method == "HEAD" and candidate.method == "GET"):
                continue
            match = candidate.pattern.match(path)
            if match is not None:
                params = match.groupdict()
                if "%" in path:  # an escaped path (routing_path): each value decoded alone
                    params = {name: unquote(value) for name, value in params.items()}
                    nul = any("\x00" in value for value in params.values())
                else:  # the values are parts of the path: one look at the whole
                    nul = "\x00" in path
                if nul:
                    # no id holds a NUL (PostgreSQL cannot even compare one): nothing is there
                    raise NotFoundError(f"Nothing is at {path}")
                return candidate, params
        allowed = self.methods_for(mount, path)
        if allowed:
            raise MethodNotAllowedError(method, allowed)
        raise NotFoundError(f"No route for {method} {path}")


class ClientDisconnectedError(Exception):
    """The body never fully arrived (the client went away, or the server dropped the
    connection on an HTTP parse error): the request must not be executed, and no one is left
    to answer."""


async def read_body(receive: Receive, scope: Scope, limit: int) -> bytes:
    """The whole request body; raises ``BodyTooLargeError`` past ``limit`` bytes and
    ``ClientDisconnectedError`` when the connection ends before the last chunk."""
    for key, value in scope["headers"]:
        if key == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


T = TypeVar("T")

# A text sessionhub keeps or looks up (an id, a name) holds no NUL: PostgreSQL text cannot hold
# one, nor even be compared with one (each that reached a query was a 500 there, found by
# schemathesis), so such fields are declared with this type and refused as bad input on every
# backend alike; ``decode_json`` says so in words.
NUL_FREE_PATTERN = r"^[^\x00]*$"
NulFree = Annotated[str, msgspec.Meta(pattern=NUL_FREE_PATTERN)]
_NUL_FREE_MISMATCH = f"matching regex {NUL_FREE_PATTERN!r}"


def decode_json(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    """``decoder.decode(body)`` where every way the bytes can be bad is a ``msgspec.DecodeError``.

    msgspec raises ``UnicodeDecodeError`` for invalid UTF-8 inside a string and
    ``RecursionError`` for very deep nesting; both are the client's input, never a server fault,
    so callers that map ``DecodeError`` to their vendor's 400 cover them too.
    """
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        message = str(error)
        if _NUL_FREE_MISMATCH not in message:
            raise
        _, at, where = message.partition(" - at ")
        raise msgspec.ValidationError(f"A text holds a NUL character{at}{where}") from None
    except UnicodeDecodeError as error:
        raise msgspec.DecodeError(f"Invalid UTF-8 in a JSON string: {error.reason}") from None
    except RecursionError:
        raise msgspec.DecodeError("JSON is nested too deeply") from None


async def send_response(
    send: Send, response: Response, extra: Headers, receive: Receive | None = None
) -> None:
    """Send ``response``. A streamed body stops once the client has gone, when ``receive`` is
    given (the request body was read whole, so the next message can only be the disconnect):
    an endless stream (server-sent events) ends with its reader."""
    headers: Headers = []
    if response.stream is None:
        headers.append((b"content-length", str(len(response.body)).encode()))
    if response.media_type is not None:
        headers.append((b"content-type", response.media_type))
    headers += response.headers
    headers += extra
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if response.stream is None:
        await send({"type": "http.response.body", "body": response.body})
        return
    gone = asyncio.ensure_future(receive()) if receive is not None else None
    try:
        async for chunk in response.stream:
            if gone is not None and gone.done():
                return
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        if gone is not None:
            gone.cancel()
        aclose = getattr(response.stream, "aclose", None)
        if aclose is not None:
            await aclose()
