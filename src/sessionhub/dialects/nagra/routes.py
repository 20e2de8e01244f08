"""NAGRA OpenTV SRM routes: setup, keep-alive, teardown (with and without /v1), and sign-on."""

from __future__ import annotations

from typing import Any

import msgspec

from sessionhub.core.accounts import AccountService
from sessionhub.core.errors import InvalidInputError
from sessionhub.core.playback import PlaybackService
from sessionhub.dialects.nagra import schemas
from sessionhub.dialects.nagra.errors import render_error
from sessionhub.web import Mount, Request, Response, client_address, decode_json, route

_OK_EMPTY = Response(200, media_type=None)
SIGN_ON_PATH = "/ias/v3/token/actions/signOnByUserNamePassword"


def mounts(accounts: AccountService, playback: PlaybackService) -> list[Mount]:
    async def setup(request: Request) -> Response:
        caller = await accounts.authenticate(request.header(b"client-token"))
        body = decode(schemas.setup_decoder, request)
        created = await playback.setup(caller, body.content.contentID, body.content.contentType)
        timeout = msgspec.UNSET if created.timeout_s is None else created.timeout_s
        success = schemas.SuccessResponse(schemas.SuccessBody(created.session_id, timeout))
        return Response(200, schemas.encode(success))

    async def keep_alive(request: Request) -> Response:
        caller = await accounts.authenticate(request.header(b"client-token"))
        await playback.keep_alive(caller, request.params["session_id"])
        return _OK_EMPTY

    async def teardown(request: Request) -> Response:
        caller = await accounts.authenticate(request.header(b"client-token"))
        await playback.teardown(caller, request.params["session_id"])
        return _OK_EMPTY

    async def sign_on(request: Request) -> Response:
        body = decode(schemas.sign_on_decoder, request)
        issued = await accounts.sign_on(
            body.username, body.password, body.deviceId, address=client_address(request)
        )
        answer = schemas.SignOnResponse(issued.token, "Client-Token", issued.expires_in_s)
        return Response(200, schemas.encode(answer))

    srm_routes = []
    for prefix in ("/srm", "/srm/v1"):
        srm_routes += [
            route("POST", f"{prefix}/sessions", setup),
            route("PUT", f"{prefix}/sessions/{{session_id}}", keep_alive),
            route("DELETE", f"{prefix}/sessions/{{session_id}}", teardown),
        ]
    return [
        Mount("/srm", srm_routes, render_error, name="nagra"),
        Mount("/ias", [route("POST", SIGN_ON_PATH, sign_on)], render_error, name="nagra"),
    ]


def decode(decoder: msgspec.json.Decoder[Any], request: Request) -> Any:
    """The body as JSON whatever ``Content-Type`` says: NAGRA sets no rule for the header,
    and set-top-box clients are known to send it wrong."""
    try:
        return decode_json(decoder, request.body)
    except msgspec.DecodeError as error:
        raise InvalidInputError(str(error)) from None
