"""Listeners of a streaming server as playback sessions: an Icecast listener connecting to a mount
is admitted like an SRM setup, under its account's limit and policy, and its session lives as
long as the connection (keep-alive disabled: the server says when it closes).

Who the listener is comes from its credentials: a Client-Token (``?token=`` in the stream URL,
naming account and device) or the account's username and password (HTTP basic auth on the
stream URL; each connection is then a device of its own, unless ``?device=`` names a
registered one). Where the session is served is recorded with it (``origin``): that is how a
disconnection finds it and how an eviction reaches the listener.
"""

from __future__ import annotations

import msgspec

from sessionhub.core.accounts import AccountService, Caller, ContentNotFoundError
from sessionhub.core.clock import Clock
from sessionhub.core.contracts import LeaseStore, SessionStore
from sessionhub.core.end_reasons import DISCONNECTED
from sessionhub.core.errors import NotAuthenticatedError
from sessionhub.core.leases import LISTENER_API
from sessionhub.core.origin import CLIENT, MOUNT, SERVER, origin_of
from sessionhub.core.playback import PlaybackService, Setup

PAGE = 1000  # active playback sessions read per query (an account's; a mount's, paged)


class Listener(msgspec.Struct, frozen=True):
    server: str  # "host:port" as the streaming server names itself
    mount: str  # the mount's path, without the listener's query
    client: str  # the server's id of this connection
    ip: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None
    device_id: str | None = None

    def origin(self) -> dict[str, str]:
        return {SERVER: self.server, MOUNT: self.mount, CLIENT: self.client}


class ListenerService:
    def __init__(
        self,
        accounts: AccountService,
        playback: PlaybackService,
        store: SessionStore,
        leases: LeaseStore,
        clock: Clock,
    ) -> None:
        self._accounts = accounts
        self._playback = playback
        self._store = store
        self._leases = leases
        self._clock = clock

    async def connect(self, listener: Listener, content_id: str | None) -> Setup:
        """Admit the listener to ``content_id`` (None: the mount serves no known content).

        Raises what an SRM setup raises: ``NotAuthenticatedError``, ``AccountDisabledError``,
        ``DeviceDisabledError``, ``ContentNotFoundError``, ``NotEntitledError``,
        ``SessionLimitReachedError``; and ``TooManyRequestsError`` for password guessing.
        """
        caller = await self._caller(listener)
        if content_id is None:
            raise ContentNotFoundError(f"The mount {listener.mount} serves no known content")
        content = await self._accounts.get_content(content_id)
        return await self._playback.setup(
            caller,
            content_id,
            content.content_type,
            origin=listener.origin(),
            keep_alive=False,
        )

    async def disconnect(self, listener: Listener) -> int:
        """End the session of the connection that closed; returns how many ended (0 or 1)."""
        account_id = await self._account_of(listener)
        if account_id is None:
            return 0
        now = self._clock.now_ms()
        live = await self._store.list_sessions(
            api=LISTENER_API, state="active", now_ms=now, account_id=account_id, limit=PAGE
        )
        ended = 0
        for record in live:
            if origin_of(record.params) == listener.origin():
                status = await self._leases.end(record.id, account_id, now, DISCONNECTED)
                ended += status.changed
        return ended

    async def mount_changed(self, server: str, mount: str) -> int:
        """A source started or stopped on ``mount``: no listener of before is still connected
        (a stopped source drops them; a started one means the mount, or the whole server after
        a crash, began anew), so their sessions end. Returns how many ended.

        This is what frees the slots of listeners an Icecast never reported gone because it
        crashed: the ``listener_remove`` never came, but its restart's ``mount_add`` does.
        """
        now = self._clock.now_ms()
        ended = 0
        before: str | None = None
        while True:
            page = await self._store.list_sessions(
                api=LISTENER_API, state="active", now_ms=now, limit=PAGE, before_id=before
            )
            for record in page:
                origin = origin_of(record.params)
                if origin is not None and (origin[SERVER], origin[MOUNT]) == (server, mount):
                    status = await self._leases.end(record.id, None, now, DISCONNECTED)
                    ended += status.changed
            if len(page) < PAGE:
                return ended
            before = page[-1].id

    async def _caller(self, listener: Listener) -> Caller:
        if listener.token:
            return await self._accounts.authenticate(listener.token)
        if not listener.username:
            raise NotAuthenticatedError("No credentials: give ?token= or a username and password")
        account = await self._accounts.check_password(
            listener.username, listener.password or "", address=listener.ip
        )
        if listener.device_id is None:
            # A connection of its own: it never replaces another listener of the account.
            return Caller(account, f"icecast:{listener.server}{listener.mount}#{listener.client}")
        device = await self._accounts.enabled_device(account.id, listener.device_id)
        return Caller(account, device.device_id)

    async def _account_of(self, listener: Listener) -> str | None:
        if listener.token:
            return await self._accounts.token_account(listener.token)
        return listener.username or None
