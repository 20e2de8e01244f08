"""The storage contracts the core needs. Backends in ``sessionhub.stores`` implement them."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from sessionhub.core.admission import AdmissionDecision, LiveSession
from sessionhub.core.records import (
    Account,
    AdmissionPolicy,
    ApiClient,
    AuditEntry,
    BearerToken,
    ClientToken,
    Consumer,
    Content,
    DashboardVisit,
    Device,
    EventRecord,
    Identity,
    LeaseCheck,
    LeaseStatus,
    Operator,
    PlayLog,
    ReportRow,
    RequestCheck,
    SessionRecord,
    SessionStateName,
    T,
    Updater,
    Visitor,
)

Decide = Callable[[list[LiveSession]], AdmissionDecision]


# Told the ids of playback sessions a call to this process ended (a teardown, an eviction or
# replacement at admission, an operator), so that whatever still serves them stops: segment
# checks forget the lease they remembered, an Icecast listener is disconnected.
EndHook = Callable[[list[str]], Awaitable[None]]


class SessionStore(abc.ABC):
    """Durable sessions and their timelines.

    Every awaitable that writes returns only after the write is durable: a caller may answer
    success to a client as soon as it returns.
    """

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations. Must be called before anything else."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush pending writes and disconnect. Calling it twice is a no-op."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the backend answers a trivial query."""

    @abc.abstractmethod
    async def create_session(self, record: SessionRecord, events: Sequence[EventRecord]) -> None:
        """Insert a new session with its first events, all or nothing.

        The id must be new; the store raises ``ValueError`` if it is not (ids are random, so
        this means a bug, not a client error).
        """

    @abc.abstractmethod
    async def update_session(self, session_id: str, updater: Updater[T]) -> T:
        """Load a session's live state, let ``updater`` decide, persist its decision: atomically.

        ``updater`` gets ``None`` for an unknown id. It is core code: quick, pure, and it may be
        called again with the same input if the store retries (so it must not have side
        effects). No other update of the same session runs between the load and the save, in
        this process or any other sharing the backend. Exceptions from ``updater`` propagate and
        nothing is written.
        """

    @abc.abstractmethod
    async def admit(self, record: SessionRecord, decide: Decide, now_ms: int) -> AdmissionDecision:
        """Admission in one atomic step; the one place where a rule runs inside the store.

        Loads the live sessions of ``record.account_id`` (active, lease not lapsed at
        ``now_ms``), calls ``decide`` with them, ends the sessions the decision names (at
        ``now_ms``, with the reason it gives) and inserts ``record`` if it admits. No other
        admission or update for the account runs in between, in any process sharing the
        backend, so the limit holds under any race. Returns the decision.
        """

    @abc.abstractmethod
    async def get_session(self, session_id: str) -> SessionRecord | None:
        """The whole session, or None if the id is unknown."""

    @abc.abstractmethod
    async def list_sessions(
        self,
        *,
        api: str | None = None,
        state: SessionStateName | None = None,
        now_ms: int | None = None,
        limit: int = 100,
        before_id: str | None = None,
        account_id: str | None = None,
        tenant: str | None = None,
        visitor_id: str | None = None,
        content_id: str | None = None,
    ) -> list[SessionRecord]:
        """Sessions newest first, filtered by api, state, account, tenant, visitor and content
        (all in the query: a filter never looks at just the newest rows).

        With ``now_ms`` given, ``state`` is judged as of that instant: a session whose lease
        lapsed counts as ended even if the sweeper has not written it down yet.
        ``before_id`` pages: only sessions whose id sorts before it.
        """

    @abc.abstractmethod
    async def list_events(self, session_id: str) -> list[EventRecord]:
        """The session's stored events in client-timestamp order (arrival order for ties)."""

    @abc.abstractmethod
    async def lapsed_session_ids(self, now_ms: int, limit: int = 500) -> list[str]:
        """Ids of active sessions whose lease ran out at or before ``now_ms``, oldest first."""

    @abc.abstractmethod
    async def end_sessions(self, ends: Sequence[tuple[str, int, str]]) -> int:
        """End each still-active session of ``(id, at_ms, reason)`` in one set-based write, as
        ``sessionhub.core.leases.ending`` would: one whose lease lapsed before ``at_ms`` ends
        at its expiry for its expiry reason. Ended and unknown ids are left alone, so writing
        the same ends again changes nothing. Returns how many rows this call ended."""

    @abc.abstractmethod
    async def end_lapsed(self, now_ms: int, limit: int) -> int:
        """Write down, in one statement, up to ``limit`` active sessions whose lease ran out
        at or before ``now_ms``: each ends at its expiry, for its expiry reason. Returns how many
        this call ended. Each row is ended once however many processes sweep at the same time;
        one renewed meanwhile is left alone."""


class AccountStore(abc.ABC):
    """Accounts, devices, content, entitlements and client tokens.

    ``add_*`` raise ``AlreadyExistsError`` for an existing key; ``save_*`` replace an existing
    row and raise ``NotFoundError`` if there is none.
    """

    @abc.abstractmethod
    async def add_account(self, account: Account) -> None: ...

    @abc.abstractmethod
    async def save_account(self, account: Account) -> None: ...

    @abc.abstractmethod
    async def get_account(self, account_id: str) -> Account | None: ...

    @abc.abstractmethod
    async def list_accounts(self) -> list[Account]: ...

    @abc.abstractmethod
    async def add_device(self, device: Device) -> None: ...

    @abc.abstractmethod
    async def save_device(self, device: Device) -> None: ...

    @abc.abstractmethod
    async def get_device(self, account_id: str, device_id: str) -> Device | None: ...

    @abc.abstractmethod
    async def list_devices(self, account_id: str) -> list[Device]: ...

    @abc.abstractmethod
    async def add_content(self, content: Content) -> None: ...

    @abc.abstractmethod
    async def get_content(self, content_id: str) -> Content | None: ...

    @abc.abstractmethod
    async def list_content(self) -> list[Content]: ...

    @abc.abstractmethod
    async def remove_content(self, content_id: str) -> None:
        """Remove a title and every entitlement to it, atomically; ``NotFoundError`` if unknown.
        Sessions that played it keep its id."""

    @abc.abstractmethod
    async def list_tokens(self, account_id: str, device_id: str | None = None) -> list[ClientToken]:
        """The account's tokens (or one device's), oldest first, revoked ones included."""

    @abc.abstractmethod
    async def add_entitlement(self, account_id: str, content_id: str) -> None:
        """Entitle the account to the content; entitling twice is a no-op."""

    @abc.abstractmethod
    async def remove_entitlement(self, account_id: str, content_id: str) -> None:
        """If there is no such entitlement, this is a no-op."""

    @abc.abstractmethod
    async def is_entitled(self, account_id: str, content_id: str) -> bool: ...

    @abc.abstractmethod
    async def list_entitlements(self, account_id: str) -> list[str]: ...

    @abc.abstractmethod
    async def get_entitlement(
        self, account_id: str, content_id: str
    ) -> tuple[Content | None, bool]:
        """The content (None if unknown) and whether the account is entitled to it, in one read
        (every SRM setup needs both)."""

    @abc.abstractmethod
    async def add_token(self, token: ClientToken) -> None: ...

    @abc.abstractmethod
    async def get_token(self, token_hash: str) -> ClientToken | None: ...

    @abc.abstractmethod
    async def get_credentials(
        self, token_hash: str
    ) -> tuple[ClientToken, Account | None, Device | None] | None:
        """The token with its account and device, in one read (every SRM call needs all three)."""

    @abc.abstractmethod
    async def revoke_token(self, token_hash: str) -> bool:
        """Returns whether a live (not yet revoked) token was revoked."""

    @abc.abstractmethod
    async def revoke_tokens(self, account_id: str, device_id: str | None) -> int:
        """Revoke the account's tokens, or one device's; returns how many were live."""


class VisitorStore(abc.ABC):
    """Visitor profiles and the identities that find them.

    Linking happens with session writes (``SessionRecord.identities``, ``Change.identities``):
    identities seen together belong to one visitor; if they point at several, the store merges
    them into the oldest, moving identities and sessions, with the profile given by
    ``sessionhub.core.visitors.merge``. A merged visitor's id keeps finding the survivor.
    """

    @abc.abstractmethod
    async def get_visitor(self, visitor_id: str) -> Visitor | None: ...

    @abc.abstractmethod
    async def find_visitor(self, identity: Identity, tenant: str) -> str | None:
        """The visitor an identity names within ``tenant`` (None: nobody there)."""

    @abc.abstractmethod
    async def visitor_sessions(self, visitor_id: str) -> list[SessionRecord]:
        """Every session of the visitor, of any API, oldest first."""


class ClientStore(abc.ABC):
    """OAuth 2.0 clients (client credentials) and the bearer tokens issued to them."""

    @abc.abstractmethod
    async def add_client(self, client: ApiClient) -> None:
        """Raises ``AlreadyExistsError`` for an existing client id."""

    @abc.abstractmethod
    async def get_client(self, client_id: str) -> ApiClient | None: ...

    @abc.abstractmethod
    async def list_clients(self) -> list[ApiClient]:
        """Every client, by id."""

    @abc.abstractmethod
    async def set_client_enabled(self, client_id: str, enabled: bool) -> None:
        """Raises ``NotFoundError`` for an unknown client. A disabled client gets no token."""

    @abc.abstractmethod
    async def add_bearer(self, token: BearerToken) -> None: ...

    @abc.abstractmethod
    async def get_bearer(self, token_hash: str) -> BearerToken | None: ...


class PlayLogStore(abc.ABC):
    @abc.abstractmethod
    async def add_play_logs(self, logs: Sequence[PlayLog]) -> int:
        """Insert a batch in one transaction, all or nothing; returns how many were new.

        A log equal to a stored one in consumer, kind, user, track, time played and play type
        is a duplicate and is skipped.
        """

    @abc.abstractmethod
    def play_report(self, from_ms: int, to_ms: int, by: list[str]) -> AsyncIterator[ReportRow]:
        """Plays and total seconds per group of ``by`` (track, country, day, user, consumer,
        kind) for ``from_ms <= played_at < to_ms``, ordered by the groups; streamed in chunks,
        never all in memory."""

    @abc.abstractmethod
    async def list_play_logs(self, limit: int = 1000) -> list[PlayLog]:
        """The most recently stored logs, oldest of them first."""

    @abc.abstractmethod
    async def play_report_size(self, from_ms: int, to_ms: int, by: list[str]) -> int:
        """How many rows ``play_report`` yields for the same arguments."""


class ConsumerStore(abc.ABC):
    """OAuth 1.0a consumers."""

    @abc.abstractmethod
    async def add_consumer(self, consumer: Consumer) -> None:
        """Raises ``AlreadyExistsError`` for an existing key."""

    @abc.abstractmethod
    async def get_consumer(self, key: str) -> Consumer | None: ...

    @abc.abstractmethod
    async def list_consumers(self) -> list[Consumer]:
        """Every consumer, by key."""

    @abc.abstractmethod
    async def set_consumer_enabled(self, key: str, enabled: bool) -> None:
        """Raises ``NotFoundError`` for an unknown key. A disabled key's requests are refused."""


class RequestGate(abc.ABC):
    """Per-request hot state of OAuth 1.0a callers: used nonces and rate-limit buckets.

    The SQL stores keep it in their database; with Redis configured it lives there instead.
    """

    @abc.abstractmethod
    async def check_request(
        self,
        key: str,
        nonce: str,
        timestamp: str,
        now_ms: int,
        forget_before_ms: int,
        rate_per_s: int,
    ) -> RequestCheck:
        """In one atomic step: record the nonce (a replay if ``(key, nonce, timestamp)`` was
        seen), and unless replayed take one request from the key's token bucket (``rate_per_s``
        requests, refilled at ``rate_per_s`` per second; ``sessionhub.core.consumers.take`` is
        the rule). Nonces seen before ``forget_before_ms`` may be forgotten."""


class LeaseStore(abc.ABC):
    """Who keeps the leases of playback sessions and decides their admission.

    The database does (``sessionhub.core.leases.DatabaseLeases``), or Redis with the database
    keeping the records (``sessionhub.stores.redis_leases.RedisLeases``). ``account_id`` names
    the caller's account; a session of another account is ``unknown`` to it. ``None`` is an
    operator, who may end any session of any API.
    """

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the keeper answers."""

    @abc.abstractmethod
    async def admit(
        self, record: SessionRecord, limit: int, policy: AdmissionPolicy, now_ms: int
    ) -> AdmissionDecision:
        """``sessionhub.core.admission.decide`` over the live sessions of ``record.account_id``,
        in one atomic step: the sessions it names are ended (at ``now_ms``) and ``record`` is
        stored if admitted, durably, before this returns."""

    @abc.abstractmethod
    async def renew(self, session_id: str, account_id: str, now_ms: int) -> LeaseStatus:
        """Restart the lease of a live session; a lapsed one is ended (``expired``) instead."""

    @abc.abstractmethod
    async def end(
        self, session_id: str, account_id: str | None, now_ms: int, reason: str
    ) -> LeaseStatus:
        """End a live session now for ``reason``, durably; an ended one is left as it is."""

    @abc.abstractmethod
    async def check(self, session_id: str, now_ms: int) -> LeaseCheck:
        """Whether the playback session's lease is live at ``now_ms``, read without changing
        anything (a lapsed lease reads as ``ended``/``expired`` before any sweep)."""

    @abc.abstractmethod
    async def sweep(self, now_ms: int) -> int:
        """Write down every lease lapsed by ``now_ms`` as ended at its expiry; returns how many
        this call ended. Many processes may sweep at once: each lease is ended by one."""

    @abc.abstractmethod
    async def current(self, records: list[SessionRecord], now_ms: int) -> list[SessionRecord]:
        """The records with their live state as the keeper knows it (rows may lag a keeper
        that is not the database)."""


class StatsStore(abc.ABC):
    """Counts over every session, for the operator's view (metrics, ``sessionhub top``)."""

    @abc.abstractmethod
    async def count_active(self, now_ms: int) -> dict[str, int]:
        """Sessions active at ``now_ms`` by API (a lapsed lease not yet written down excluded)."""

    @abc.abstractmethod
    async def count_started(self, since_ms: int) -> dict[str, int]:
        """Sessions started at or after ``since_ms`` by API."""

    @abc.abstractmethod
    async def add_activity(self, counts: Sequence[tuple[int, str, int]]) -> None:
        """Add (minute, name, count) to the per-minute activity every instance shares."""

    @abc.abstractmethod
    async def activity_since(self, minute: int) -> list[tuple[int, str, int]]:
        """Every (minute, name, count) from ``minute`` on, oldest first."""


class AttemptCounter(abc.ABC):
    """Sign-in attempts per key (an account, a client id, an address) and fixed window, shared
    by every process that uses the same backend (``FailureThrottle``)."""

    @abc.abstractmethod
    async def count_attempts(self, keys: Sequence[str], window_no: int) -> list[int]:
        """Add one attempt to each key in window ``window_no`` and return each key's attempts
        there, this one included. Atomic per key: concurrent callers each get a different
        count. Forgets the windows before ``window_no - 1``."""

    @abc.abstractmethod
    async def take_back_attempt(self, keys: Sequence[str], window_no: int) -> None:
        """Remove one attempt from each key in window ``window_no`` (a check that succeeded).
        A key with none there is left alone."""


class GuardStore(AttemptCounter):
    """What guards sign-ins in the database: attempts (``AttemptCounter``) and signed-in
    dashboard visits."""

    @abc.abstractmethod
    async def add_visit(self, visit: DashboardVisit) -> None:
        """Keep a new dashboard visit."""

    @abc.abstractmethod
    async def get_visit(self, id_hash: str, now_ms: int) -> DashboardVisit | None:
        """The visit, None when unknown, ended or expired at ``now_ms``."""

    @abc.abstractmethod
    async def end_visit(self, id_hash: str) -> None:
        """Forget a visit (logging out); an unknown one is a no-op."""

    @abc.abstractmethod
    async def add_operator(self, operator: Operator) -> None:
        """Keep a new operator; ``AlreadyExistsError`` if the name is taken (revoked too)."""

    @abc.abstractmethod
    async def operator_by_token(self, token_hash: str) -> Operator | None:
        """The unrevoked operator whose token hashes to ``token_hash``, or None."""

    @abc.abstractmethod
    async def list_operators(self) -> list[Operator]:
        """Every operator, revoked ones too, by name."""

    @abc.abstractmethod
    async def revoke_operator(self, name: str, at_ms: int) -> None:
        """Revoke an operator and end every visit they have open, in one step;
        ``NotFoundError`` if there is no such operator not revoked yet."""

    @abc.abstractmethod
    async def add_audit(self, entry: AuditEntry) -> None:
        """Write one line of the audit log."""

    @abc.abstractmethod
    async def list_audit(self, limit: int) -> list[AuditEntry]:
        """The newest ``limit`` lines of the audit log, newest first."""


class Store(
    SessionStore,
    GuardStore,
    AccountStore,
    VisitorStore,
    ClientStore,
    PlayLogStore,
    ConsumerStore,
    StatsStore,
):
    """A backend implements every contract the core defines."""
