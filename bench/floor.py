"""The floor: a raw ASGI app that reads the body and decodes it with the same msgspec decoder
sessionhub uses, then answers as sessionhub would, doing no other work. Benchmarks report
sessionhub's throughput as a ratio to this, measured in the same run on the same server stack.
"""

from __future__ import annotations

from typing import Any

import msgspec

from sessionhub.dialects.adobe.schemas import event_decoder
from sessionhub.dialects.massivemusic.schemas import DECODERS as PLAYLOG_DECODERS
from sessionhub.dialects.nagra.schemas import setup_decoder
from sessionhub.web import query_value

_SRM_OK = b'{"successResponse":{"sessionId":"cfd48f8a-4c33-4c0e-ba52-6632e8810d3e","timeout":30}}'

_preview_decoder = PLAYLOG_DECODERS["preview"]

_CREATED = [
    (b"content-length", b"0"),
    (b"content-type", b"application/octet-stream"),
    (b"location", b"/api/v1/sessions/" + b"0" * 64),
]
_NO_CONTENT = [(b"content-length", b"0")]
_OK_EMPTY = [(b"content-length", b"2"), (b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    try:
        if scope["path"].startswith("/streaming/"):
            # a streaming server's check: decode what it asks about (the original URI's path,
            # the session id in its query, the device's token), then say yes
            uri = next((v for k, v in scope["headers"] if k == b"x-original-uri"), b"")
            next((v for k, v in scope["headers"] if k == b"client-token"), b"").decode("latin-1")
            _, _, query = uri.decode("latin-1").partition("?")
            query_value(query, "sessionId")
            status, headers, reply = 200, [(b"content-length", b"0")], b""
        elif scope["path"].startswith("/srm/"):
            if scope["method"] == "POST":
                setup_decoder.decode(body)
                status, headers, reply = 200, _json_headers(_SRM_OK), _SRM_OK
            else:
                status, headers, reply = 200, [(b"content-length", b"0")], b""
        elif scope["path"].startswith("/1.2/"):
            _preview_decoder.decode(body)
            status, headers, reply = 200, _OK_EMPTY, b"{}"
        elif scope["path"].endswith("sessions"):
            event_decoder.decode(body)
            status, headers, reply = 201, _CREATED, b""
        else:
            event_decoder.decode(body)
            status, headers, reply = 204, _NO_CONTENT, b""
    except msgspec.DecodeError:
        status, headers, reply = 400, _NO_CONTENT, b""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": reply})


def _json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
