"""What the core stores: sessions, their live part, and timeline events.

A session is split in two. ``SessionRecord`` is everything, written once at creation and read by
operators. ``LiveState`` is the small part that changes on every event or keep-alive; the hot path
loads and saves only that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar

import msgspec

SessionStateName = Literal["active", "ended"]
Identity = tuple[str, str]  # (kind, value), e.g. ("genesys.customerId", "c-42")
AdmissionPolicy = Literal["deny", "evict-oldest"]
T = TypeVar("T")


class LiveState(msgspec.Struct):
    """The mutable part of a session.

    ``expires_at`` is the lease: the session ends by itself at that instant (server clock, ms)
    unless something renews it; ``expiry_reason`` becomes the ``end_reason`` when it does.
    ``data`` is the owning concern's own state (for media sessions, the timeline fold), opaque
    to the store.
    """

    api: str
    state: SessionStateName
    ended_at: int | None
    end_reason: str | None
    expires_at: int | None
    expiry_reason: str | None
    data: bytes

    def lapsed(self, now_ms: int) -> bool:
        """True when the lease has run out but nobody has written the end down yet."""
        return self.state == "active" and self.expires_at is not None and self.expires_at <= now_ms

    def end(self, now_ms: int, reason: str) -> LiveState:
        """The same session, ended now for ``reason``; its lease no longer runs."""
        return msgspec.structs.replace(
            self,
            state="ended",
            ended_at=now_ms,
            end_reason=reason,
            expires_at=None,
            expiry_reason=None,
        )

    def ended_by_expiry(self) -> LiveState:
        """The same session, ended at the instant its lease ran out."""
        return msgspec.structs.replace(
            self, state="ended", ended_at=self.expires_at, end_reason=self.expiry_reason
        )


class LeaseStatus(msgspec.Struct, frozen=True):
    """What a lease keeper found: ``live``; ``ended`` (``reason`` says how; ``changed`` when this
    very call ended it); or ``unknown`` (no such session, or the caller's account does not own
    it)."""

    state: Literal["live", "ended", "unknown"]
    reason: str | None = None
    changed: bool = False


class LeaseCheck(msgspec.Struct, frozen=True):
    """A read of one playback lease, changing nothing (a streaming server's check): ``live``
    with whose it is and what it plays; ``ended`` with ``reason``; or ``unknown``."""

    state: Literal["live", "ended", "unknown"]
    reason: str | None = None
    account_id: str | None = None
    device_id: str | None = None
    content_id: str | None = None
    expires_at: int | None = None  # live: when the lease lapses unless renewed (None: never)


# The tenant of a single-tenant deployment, and of everything written before tenants existed.
DEFAULT_TENANT = "default"
# \Z, not $: "$" would also match before a trailing newline.
TENANT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}\Z"


class SessionRecord(msgspec.Struct):
    """A whole session. ``account_id``/``device_id``/``content_id`` are set by APIs that know
    them (playback authorization), and are what admission counts by."""

    id: str
    started_at: int
    params: dict[str, Any]
    custom_metadata: dict[str, str]
    live: LiveState
    account_id: str | None = None
    device_id: str | None = None
    content_id: str | None = None
    visitor_id: str | None = None
    # Written with the session: the store links the session to the visitor these name (within
    # the session's tenant).
    identities: list[Identity] = msgspec.field(default_factory=list)
    tenant: str = DEFAULT_TENANT


class EventRecord(msgspec.Struct):
    """One event on a session's timeline, as the client sent it.

    ``ts`` is the client's timestamp (ms); ``received_at`` the server's. ``body`` is the event's
    JSON exactly as received, so the timeline shows what the client said.
    """

    session_id: str
    ts: int
    event_type: str
    playhead: float | None
    received_at: int
    body: bytes


class Change(msgspec.Struct, Generic[T]):
    """What an update decided: the new live state (None: unchanged), events to append, a result.

    Events are appended at most once per ``(session_id, ts, event_type)``; an exact duplicate
    is dropped by the store. ``identities`` are linked to the session's visitor (creating or
    merging visitors as needed) and ``visitor_change`` is applied to that visitor's profile,
    in the same atomic step.
    """

    live: LiveState | None
    events: list[EventRecord]
    result: T
    identities: list[Identity] = msgspec.field(default_factory=list)
    visitor_change: Callable[[Any], Any] | None = None
    at_ms: int = 0  # when the change happens: a visitor it creates is created then


Updater = Callable[[LiveState | None], Change[T]]


# -- the records of accounts, API clients, consumers, play logs and visitors -------------------
# Here, not beside their services, so the storage contracts can name them without a circle.


ContentType = Literal["COD", "CU", "TS", "NPVR", "LIVE"]


class Account(msgspec.Struct):
    id: str
    enabled: bool = True
    max_sessions: int = 3
    policy: AdmissionPolicy = "deny"
    lease_timeout_s: int | None = None  # None: the global setting; 0: no keep-alive
    password_hash: str | None = None
    created_at: int = 0
    tenant: str = DEFAULT_TENANT  # its sessions and visitors belong to it


class Device(msgspec.Struct):
    account_id: str
    device_id: str
    enabled: bool = True
    created_at: int = 0


class Content(msgspec.Struct):
    content_id: str
    content_type: ContentType


class ClientToken(msgspec.Struct):
    """A stored token: only its hash is kept, so a leaked database leaks no usable token."""

    token_hash: str
    account_id: str
    device_id: str
    issued_at: int
    expires_at: int
    revoked: bool = False


class ApiClient(msgspec.Struct):
    client_id: str
    secret_hash: str
    site_id: int
    created_at: int
    enabled: bool = True
    tenant: str = DEFAULT_TENANT  # its site's sessions and visitors belong to it


class BearerToken(msgspec.Struct):
    token_hash: str
    client_id: str
    site_id: int
    issued_at: int
    expires_at: int


class Consumer(msgspec.Struct):
    key: str
    secret: str
    countries: list[str]
    created_at: int
    enabled: bool = True

    def __repr__(self) -> str:
        return f"Consumer(key={self.key!r}, secret='********', countries={self.countries!r})"


class RateDecision(msgspec.Struct):
    allowed: bool
    limit: int  # requests per second
    remaining: int  # whole requests available right now
    reset_at_s: int  # Unix time (s) when the bucket is full again
    retry_after_s: int  # when denied: seconds until one request is available


class RequestCheck(msgspec.Struct):
    replayed: bool
    rate: RateDecision | None  # None when replayed: the bucket was not touched


LogKind = Literal["preview", "subscription", "catalogue"]


class PlayLog(msgspec.Struct, array_like=True):
    """One stored play. ``played_at`` is UTC milliseconds; optional members depend on kind."""

    consumer_key: str
    kind: LogKind
    user_id: str
    country: str
    track_id: int
    played_at: int
    total_time_played: int
    user_agent: str
    play_type: str
    play_mode: str | None
    release_id: int | None
    format_id: int | None
    end_reason: str | None
    received_at: int


class ReportRow(msgspec.Struct):
    keys: dict[str, str | int]
    plays: int
    seconds: int


class CustomVariable(msgspec.Struct):
    values: list[str]
    expires_at: int | None = None  # None: kept until changed


class VisitorProfile(msgspec.Struct):
    """What is known of a visitor beyond their identities; stored as one JSON document."""

    attributes: dict[str, list[str]] = msgspec.field(default_factory=dict)
    custom_variables: dict[str, CustomVariable] = msgspec.field(default_factory=dict)


class Visitor(msgspec.Struct):
    id: str
    created_at: int
    identities: list[Identity]
    profile: VisitorProfile
    tenant: str = DEFAULT_TENANT


class DashboardVisit(msgspec.Struct):
    """A signed-in dashboard visit as the server keeps it; the cookie holds only its id."""

    id_hash: str  # sha256 of the id in the cookie: a copy of the table opens no dashboard
    role: str  # "admin" or "viewer"
    csrf: str
    created_at: int
    expires_at: int
    operator: str | None = None  # the person's name; None for the shared admin/viewer token
    tenant: str | None = None  # a visit limited to one tenant


class Operator(msgspec.Struct):
    """A person with a dashboard login of their own: a role, maybe one tenant, and a token
    kept only as its hash. Revoking ends every visit they have open."""

    name: str
    role: str  # "admin" or "viewer"
    tenant: str | None
    token_hash: str
    created_at: int
    revoked_at: int | None = None


class AuditEntry(msgspec.Struct):
    """Who changed what, when: ``actor`` is an operator's name, ``admin token`` (the shared
    token, over the API or the dashboard) or ``cli:<user>``."""

    at: int
    actor: str
    action: str  # end-session, operator-added, operator-revoked
    target: str
