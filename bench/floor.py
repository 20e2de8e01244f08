"""The floor: a raw ASGI app that reads the body and decodes it with the same msgspec decoder
sessionhub uses, then answers as sessionhub would, doing no other work. Benchmarks report
sessionhub's throughput as a ratio to this, measured in the same run on the same server stack.
"""

from __future__ import annotations

from typing import Any

import msgspec

from sessionhub.dialects.adobe.schemas import event_decoder
from sessionhub.dialects.massivemusic.schemas import DECODERS as PLAYLOG_DECODERS

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
        if scope["path"].startswith("/1.2/"):
            _preview_decoder.decode(body)
            status, headers = 200, _OK_EMPTY
        elif scope["path"].endswith("sessions"):
            event_decoder.decode(body)
            status, headers = 201, _CREATED
        else:
            event_decoder.decode(body)
            status, headers = 204, _NO_CONTENT
    except msgspec.DecodeError:
        status, headers = 400, _NO_CONTENT
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}" if status == 200 else b""})
