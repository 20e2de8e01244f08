"""Wire shapes of what streaming servers send (the OpenAPI document is generated from them)."""

from __future__ import annotations

import msgspec


class IcecastAuthForm(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """The form Icecast 2.4's URL authentication posts: ``listener_add`` / ``listener_remove``
    for a listener, ``mount_add`` / ``mount_remove`` when a source starts or stops. ``mount``
    carries the listener's query string (``/radio?token=...``); ``user``/``pass`` its HTTP
    basic auth."""

    action: str
    server: str = ""
    port: str = ""
    client: str = ""
    mount: str = ""
    user: str = ""
    password: str = msgspec.field(default="", name="pass")
    ip: str = ""
    agent: str = ""
    duration: str = ""  # listener_remove: seconds connected
