"""PostgreSQL backend (asyncpg): every durable record, shared by any number of instances.

Atomicity comes from PostgreSQL itself: a batch of session updates is written only where each
row is still the version it was planned on, and what another writer moved meanwhile is planned
again under the row lock (``SELECT ... FOR UPDATE``; see ``postgres_checked``); an admission
holds a transaction-scoped advisory lock on its account, so no two admissions for one account
interleave on any instance. Writes are group-committed: those waiting when a batch is written
share the next one, one fsync for all. Every write commits before its caller returns.

``?schema=NAME`` in the URL keeps all tables in that schema (created if missing); tests give each
test a schema of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from sessionhub.core.admission import AdmissionDecision, LiveSession
from sessionhub.core.contracts import Decide, Store
from sessionhub.core.errors import StoreUnavailableError
from sessionhub.core.records import (
    EventRecord,
    LiveState,
    SessionRecord,
    SessionStateName,
    T,
    Updater,
)
from sessionhub.observe import metrics
from sessionhub.stores.account_memory import AccountMemory
from sessionhub.stores.guard_queries import GuardQueries
from sessionhub.stores.postgres_accounts import PostgresAccountQueries
from sessionhub.stores.postgres_checked import (
    INSERT_EVENTS,
    READ_LIVES,
    UPDATE_LIVES,
    WRITE_CHECKED,
    columns,
    insert_events,
    plan,
    unnest,
)
from sessionhub.stores.postgres_connection import (
    Connection,
    asyncpg_module,
    migrate,
    reset,
    unavailable,
)
from sessionhub.stores.postgres_playlogs import PostgresPlayLogQueries
from sessionhub.stores.postgres_records_watch import RecordsWatch
from sessionhub.stores.postgres_visitors import (
    EMPTY_PROFILE,
    PostgresVisitorQueries,
    claim_visitors,
    link_visitor,
)
from sessionhub.stores.registry_queries import RegistryQueries
from sessionhub.stores.rows import (
    LIVE_COLUMNS,
    SESSION_COLUMNS,
    event_row,
    list_sessions_sql,
    live_update_args,
    session_from,
    session_row,
)
from sessionhub.stores.stats_queries import StatsQueries

# The types of SESSION_COLUMNS, in order.
_SESSION_TYPES = ["text", "bigint", *["text"] * 9, "bigint", "text", "bigint", "text", "bytea"]


def _insert_sessions_from(first: int) -> str:
    """The new sessions of a batch, parameters ``first`` to ``first + 15`` (``session_row``);
    sweep_at starts at the expiry (see migration 0009 and ``end_lapsed``)."""
    return (
        f"INSERT INTO sessions ({SESSION_COLUMNS}, sweep_at) SELECT u.*, u.expires_at"
        f" FROM {unnest(first, _SESSION_TYPES)} AS u({SESSION_COLUMNS})"
    )


_INSERT_SESSIONS = _insert_sessions_from(1)
# A batch's new sessions in one statement: the visitors and identities their claims create
# ($1-$8, see ``claim_visitors``), the sessions ($9-$24) and their events ($25-$30). The
# foreign keys' checks run at the end of the statement and see the rows of its other parts.
_INSERT_CREATED = (
    "WITH v AS (INSERT INTO visitors (id, created_at, merged_into, profile, tenant)"
    f" SELECT id, created_at, NULL, $4, tenant FROM {unnest(1, ('text', 'bigint', 'text'))}"
    " AS v (id, created_at, tenant)),"
    " i AS (INSERT INTO visitor_identities (tenant, kind, value, visitor_id)"
    f" SELECT * FROM {unnest(5, ('text',) * 4)} ON CONFLICT DO NOTHING),"
    f" s AS ({_insert_sessions_from(9)}) {insert_events(25)}"
)
# SKIP LOCKED: instances sweeping together take different rows instead of queueing behind each
# other; the outer state check skips a row ended meanwhile. (A CTE: the LIMIT of an IN subquery
# is not kept once the planner flattens it.) A due row whose expiry is still ahead was renewed:
# its sweep_at moves up to that expiry (NULL when it has none) and it stays active.
_SWEEP = (
    "WITH due AS (SELECT id FROM sessions WHERE state = 'active' AND sweep_at <= $1"
    " ORDER BY sweep_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
    " UPDATE sessions s SET"
    " state = CASE WHEN s.expires_at <= $1 THEN 'ended' ELSE s.state END,"
    " ended_at = CASE WHEN s.expires_at <= $1 THEN s.expires_at ELSE s.ended_at END,"
    " end_reason = CASE WHEN s.expires_at <= $1 THEN s.expiry_reason ELSE s.end_reason END,"
    " sweep_at = CASE WHEN s.expires_at <= $1 THEN s.sweep_at ELSE s.expires_at END"
    " FROM due WHERE s.id = due.id AND s.state = 'active'"
    " RETURNING s.state, s.api, s.end_reason, s.ended_at"
)


# Fail fast when the server is away: callers answer 503 instead of hanging.
CONNECT_TIMEOUT_S = 5
COMMAND_TIMEOUT_S = 10
MAX_BATCH = 256


class _Create(NamedTuple):
    """A new session waiting for the next batch, like an update (see ``_run_batch``)."""

    record: SessionRecord
    events: Sequence[EventRecord]


_Pending = tuple[str, "Updater[Any] | _Create", "asyncio.Future[Any]"]


def from_url(url: str) -> PostgresStore:
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    schema = options.pop("schema", "public")
    if not schema.replace("_", "").isalnum():
        raise ValueError("?schema= must be letters, digits and '_'")
    dsn = parts._replace(scheme="postgresql", query=urlencode(options)).geturl()
    return PostgresStore(dsn, schema=schema)


class PostgresStore(
    PostgresAccountQueries,
    PostgresVisitorQueries,
    PostgresPlayLogQueries,
    RegistryQueries,
    StatsQueries,
    GuardQueries,
    Store,
):
    def __init__(self, dsn: str, *, schema: str = "public", max_connections: int = 20) -> None:
        self._dsn = dsn
        self.schema = schema
        self._max = max_connections
        self._pool: Any = None  # asyncpg.Pool once open
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._account_memory = AccountMemory()
        self._records_watch = RecordsWatch(dsn, schema, self._account_memory)

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        driver = asyncpg_module()
        try:
            first = await driver.connect(self._dsn, timeout=CONNECT_TIMEOUT_S)
            try:
                await first.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            finally:
                await first.close()
            self._pool = await driver.create_pool(
                self._dsn,
                min_size=1,
                max_size=self._max,
                server_settings={"search_path": self.schema},
                timeout=CONNECT_TIMEOUT_S,
                command_timeout=COMMAND_TIMEOUT_S,
                reset=reset,
            )
        except (OSError, driver.PostgresError, driver.InterfaceError) as error:
            raise StoreUnavailableError(f"cannot reach PostgreSQL: {error}") from error
        async with self._connection() as conn:
            await migrate(conn)

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        await self._records_watch.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.fetchval("SELECT 1")

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; a lost or unreachable server becomes StoreUnavailableError."""
        if self._pool is None:
            raise StoreUnavailableError("the PostgreSQL store is not open")
        driver = asyncpg_module()
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except (
            OSError,
            TimeoutError,
            driver.PostgresConnectionError,
            driver.InterfaceError,
            driver.InternalClientError,  # seen while the server shuts down
            driver.CannotConnectNowError,
        ) as error:
            raise unavailable(error) from error

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self._connection() as conn, conn.transaction():
            yield conn

    # -- sessions ----------------------------------------------------------------------------

    async def create_session(self, record: SessionRecord, events: Sequence[EventRecord]) -> None:
        """Group-committed with concurrent creations and updates (see ``_run_batch``)."""
        await self._in_next_batch(record.id, _Create(record, events))
        metrics.session_started(record.live)

    async def admit(self, record: SessionRecord, decide: Decide, now_ms: int) -> AdmissionDecision:
        async with self._transaction() as conn:
            # One admission per account at a time, across every instance sharing the database.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", record.account_id
            )
            rows = await conn.fetch(
                "SELECT id, device_id, content_id, started_at FROM sessions"
                " WHERE account_id = $1 AND state = 'active'"
                " AND (expires_at IS NULL OR expires_at > $2)",
                record.account_id,
                now_ms,
            )
            decision = decide([LiveSession(*row) for row in rows])
            if decision.end:
                await conn.executemany(
                    "UPDATE sessions SET state = 'ended', ended_at = $1, end_reason = $2,"
                    " expires_at = NULL WHERE id = $3",
                    [(now_ms, reason, session_id) for session_id, reason in decision.end],
                )
            if decision.admit:
                await conn.execute(_INSERT_SESSIONS, *columns([session_row(record)], 16))
                if record.identities:
                    await link_visitor(conn, record.id, record.identities, None, now_ms)
        metrics.admission_written(record.live, decision.admit, decision.end)
        return decision

    async def update_session(self, session_id: str, updater: Updater[T]) -> T:
        """Group-committed: updates waiting when the previous batch commits share one
        transaction (see ``_run_batch``); the answer comes after that commit."""
        watch = metrics.EndWatch(updater)
        result: T = await self._in_next_batch(session_id, watch)
        watch.committed()
        return result

    async def _in_next_batch(self, session_id: str, work: Updater[Any] | _Create) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((session_id, work, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let requests that arrived together join the first batch
        while self._pending:
            batch = self._pending[:MAX_BATCH]
            del self._pending[:MAX_BATCH]
            with metrics.group_commit("postgresql", len(batch)):
                outcomes = await self._run_batch(batch)
            for (_, _, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    async def _run_batch(
        self, batch: list[_Pending], *, alone: bool = False
    ) -> list[tuple[bool, Any]]:
        """New sessions that link no visitor go in one statement (``_insert_plain``); updates
        go the checked way (``postgres_checked``): read, plan, one checked write. What is left
        (new sessions with visitors, what the checked write did not confirm) goes the locked
        way (``_run_locked``), in one transaction. Each commits apart, so a failure of one is
        answered for its own writes only (``_each_alone``)."""
        plain, updates = [], []
        for index, (_, work, _) in enumerate(batch):
            if not isinstance(work, _Create):
                updates.append(index)
            elif not work.record.identities:
                plain.append(index)
        outcomes: dict[int, tuple[bool, Any]] = {}
        for indices, run in ((plain, self._insert_plain), (updates, self._write_checked)):
            if indices:
                outcomes.update(await self._part(batch, indices, run, alone))
        rest = [index for index in range(len(batch)) if index not in outcomes]
        if rest:
            outcomes.update(await self._part(batch, rest, self._run_locked, alone))
        return [outcomes[index] for index in range(len(batch))]

    async def _part(
        self,
        batch: list[_Pending],
        indices: list[int],
        run: Callable[[list[_Pending]], Awaitable[dict[int, tuple[bool, Any]]]],
        alone: bool,
    ) -> dict[int, tuple[bool, Any]]:
        """``run`` on the writes of ``batch`` at ``indices``; their outcomes by index."""
        items = [batch[index] for index in indices]
        try:
            done = await run(items)
        except Exception as error:
            if alone:
                raise
            done = dict(enumerate(await self._each_alone(items, error)))
        return {indices[k]: outcome for k, outcome in done.items()}

    async def _each_alone(self, items: list[_Pending], error: Exception) -> list[tuple[bool, Any]]:
        """The outcomes of writes whose shared statement failed with ``error``."""
        if isinstance(error, StoreUnavailableError):
            return [(False, error)] * len(items)
        # A SQL error (a rare deadlock in a merge) or a bug: each alone instead.
        return [await self._run_alone(item) for item in items]

    async def _write_checked(self, items: list[_Pending]) -> dict[int, tuple[bool, Any]]:
        """The outcomes (by position in ``items``) of the writes the checked statement
        confirmed; the others are left to the locked way."""
        async with self._connection() as conn:
            rows = await conn.fetch(READ_LIVES, sorted({sid for sid, _, _ in items}))
            planned = plan([(sid, work) for sid, work, _ in items], rows)
            confirmed: set[str] = set()
            if planned.sessions:
                written = await conn.fetch(WRITE_CHECKED, *planned.args)
                confirmed = {row[0] for row in written}
        metrics.write_conflicts("postgresql", len(planned.sessions) - len(confirmed))
        return {
            k: (True, planned.outcomes[k])
            for k, (session_id, _, _) in enumerate(items)
            if session_id in confirmed and k in planned.outcomes
        }

    async def _insert_plain(self, items: list[_Pending]) -> dict[int, tuple[bool, Any]]:
        """New sessions that link no visitor: one statement (``_INSERT_CREATED``), no
        transaction around it."""
        async with self._connection() as conn:
            await self._insert_sessions(conn, [w for _, w, _ in items if isinstance(w, _Create)])
        return dict.fromkeys(range(len(items)), (True, None))

    async def _run_locked(self, batch: list[_Pending]) -> dict[int, tuple[bool, Any]]:
        """One transaction for the batch: insert the new sessions; lock the updated rows in id
        order (so batches of different instances never deadlock on each other), run the
        updaters in arrival order against those rows, then write events and states with one
        statement each. An id both created and updated in one batch cannot happen: a client
        learns a new id only once its creation has committed."""
        async with self._transaction() as conn:
            creates = [work for _, work, _ in batch if isinstance(work, _Create)]
            if creates:
                await self._insert_sessions(conn, creates)
            ids = sorted({sid for sid, work, _ in batch if not isinstance(work, _Create)})
            rows = []  # a batch of new sessions only locks nothing: one round trip fewer
            if ids:
                rows = await conn.fetch(
                    f"SELECT id, {LIVE_COLUMNS} FROM sessions WHERE id = ANY($1::text[])"
                    " ORDER BY id FOR UPDATE",
                    ids,
                )
            lives: dict[str, LiveState | None] = {row[0]: LiveState(*row[1:]) for row in rows}
            changed: dict[str, LiveState] = {}
            events: list[tuple[Any, ...]] = []
            outcomes: list[tuple[bool, Any]] = []
            for session_id, updater, _ in batch:
                if isinstance(updater, _Create):
                    outcomes.append((True, None))
                    continue
                try:
                    change = updater(lives.get(session_id))
                except Exception as error:  # a rule the updater enforced: only this one fails
                    outcomes.append((False, error))
                    continue
                if change.live is not None:
                    lives[session_id] = changed[session_id] = change.live
                events.extend(event_row(event) for event in change.events)
                if change.identities or change.visitor_change is not None:
                    await link_visitor(
                        conn, session_id, change.identities, change.visitor_change, change.at_ms
                    )
                outcomes.append((True, change.result))
            if events:
                await conn.execute(INSERT_EVENTS, *columns(events, 6))
            if changed:
                updates = [live_update_args(live, sid) for sid, live in changed.items()]
                await conn.execute(UPDATE_LIVES, *columns(updates, 7))
            return dict(enumerate(outcomes))

    async def _insert_sessions(self, conn: Connection, creates: list[_Create]) -> None:
        """The batch's new sessions, with the visitors their identities claim
        (``claim_visitors``) and their events, in one statement; then the links left to
        ``link_visitor`` (merges)."""
        records = [c.record for c in creates]
        new = [(r.id, r.tenant, r.identities, r.started_at) for r in records if _links_anew(r)]
        claims = await claim_visitors(conn, new)
        rows = [session_row(r) for r in records]
        rows = [(*row[:7], claims.visitor_of.get(row[0], row[7]), *row[8:]) for row in rows]
        events = [event_row(event) for c in creates for event in c.events]
        await conn.execute(
            _INSERT_CREATED,
            *columns(claims.new_visitors, 3),
            EMPTY_PROFILE,
            *columns(claims.identities, 4),
            *columns(rows, 16),
            *columns(events, 6),
        )
        for session_id, _, identities, at_ms in claims.alone:
            await link_visitor(conn, session_id, identities, None, at_ms)
        for record in records:
            if record.identities and record.visitor_id is not None:  # it may merge
                await link_visitor(conn, record.id, record.identities, None, record.started_at)

    async def _run_alone(self, item: _Pending) -> tuple[bool, Any]:
        try:
            return (await self._run_batch([item], alone=True))[0]
        except StoreUnavailableError as error:
            return (False, error)
        except asyncpg_module().UniqueViolationError:
            return (False, ValueError(f"session {item[0]} exists already"))
        except Exception as error:
            return (False, unavailable(error))

    async def get_session(self, session_id: str) -> SessionRecord | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1", session_id
            )
        return None if row is None else session_from(row)

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
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        equal = {"account_id": account_id, "tenant": tenant, "api": api}
        equal |= {"visitor_id": visitor_id, "content_id": content_id}
        sql = list_sessions_sql(
            arg, state=state, now_ms=now_ms, before_id=before_id, limit=limit, equal=equal
        )
        async with self._connection() as conn:
            rows = await conn.fetch(sql, *args)
        return [session_from(row) for row in rows]

    async def list_sessions_where(
        self, where: str, args: tuple[Any, ...], order: str
    ) -> list[SessionRecord]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY {order}", *args
            )
        return [session_from(row) for row in rows]

    async def list_events(self, session_id: str) -> list[EventRecord]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT session_id, ts, event_type, playhead, received_at, body FROM events"
                " WHERE session_id = $1 ORDER BY ts, id",
                session_id,
            )
        return [EventRecord(*row) for row in rows]

    async def end_sessions(self, ends: Sequence[tuple[str, int, str]]) -> int:
        if not ends:
            return 0
        async with self._connection() as conn:
            written = await conn.fetch(
                "UPDATE sessions s SET state = 'ended',"
                " ended_at = CASE WHEN s.expires_at <= e.at THEN s.expires_at ELSE e.at END,"
                " end_reason ="
                " CASE WHEN s.expires_at <= e.at THEN s.expiry_reason ELSE e.reason END,"
                " expiry_reason = CASE WHEN s.expires_at <= e.at THEN s.expiry_reason END,"
                " expires_at = CASE WHEN s.expires_at <= e.at THEN s.expires_at END"
                " FROM unnest($1::text[], $2::bigint[], $3::text[]) AS e(id, at, reason)"
                " WHERE s.id = e.id AND s.state = 'active'"
                " RETURNING s.api, s.end_reason, s.ended_at",
                [sid for sid, _, _ in ends],
                [at for _, at, _ in ends],
                [reason for _, _, reason in ends],
            )
        metrics.ends_written(written)
        return len(written)

    async def end_lapsed(self, now_ms: int, limit: int) -> int:
        """End up to ``limit`` lapsed sessions. The sweep index holds sweep_at, a lower bound
        of each active session's expiry (see ``postgres_checked``): a session found due there
        but renewed since gets its sweep_at raised to its expiry instead of being ended, and
        the next chunk is read until ``limit`` are ended or nothing is due."""
        ended = 0
        while ended < limit:
            chunk = limit - ended
            async with self._connection() as conn:
                rows = await conn.fetch(_SWEEP, now_ms, chunk)
            written = [row[1:] for row in rows if row[0] == "ended"]
            metrics.ends_written(written)
            ended += len(written)
            if len(rows) < chunk:
                break
        return ended

    async def lapsed_session_ids(self, now_ms: int, limit: int = 500) -> list[str]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT id FROM sessions WHERE state = 'active' AND sweep_at <= $1"
                " AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2",
                now_ms,
                limit,
            )
        return [row[0] for row in rows]


def _links_anew(record: SessionRecord) -> bool:
    """A new session whose visitor ``claim_visitors`` can find: it names identities and was
    not created with a visitor already (that one may merge: ``link_visitor``)."""
    return bool(record.identities) and record.visitor_id is None
