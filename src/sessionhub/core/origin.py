"""Where a playback session is served, when a streaming server's listener it is: kept in the
session's params (``icecast.server``, ``icecast.mount``, ``icecast.client``). Its own module
so both the listeners (who write it) and the operator's views (who show it) can read it."""

from __future__ import annotations

SERVER = "icecast.server"
MOUNT = "icecast.mount"
CLIENT = "icecast.client"


def origin_of(params: dict[str, object]) -> dict[str, str] | None:
    """Where a session is served, if a streaming server's listener it is."""
    found = {key: params.get(key) for key in (SERVER, MOUNT, CLIENT)}
    if all(isinstance(value, str) for value in found.values()):
        return {key: str(value) for key, value in found.items()}
    return None
