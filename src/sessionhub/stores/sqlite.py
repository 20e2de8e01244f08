"""The embedded store: one SQLite file in WAL mode.

Writes are group-committed: every write waiting when the previous commit finishes goes into one
transaction (at most ``max_batch``), so a burst of requests costs one commit, not one each. The
commit's fsync runs on a dedicated writer thread, never on the event loop, and a caller's future
resolves only after the commit that holds its write (``synchronous=FULL``: durable across power
loss, not just a crash). Reads go through a second connection on their own thread; WAL lets
them run beside the writer. Several processes may share the file: ``BEGIN IMMEDIATE`` makes each
batch take the write lock before it reads, so read-modify-write updates stay atomic across
processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from sessionhub.core.admission import AdmissionDecision
from sessionhub.core.contracts import Decide, Store
from sessionhub.core.errors import StoreUnavailableError
from sessionhub.core.records import (
    EventRecord,
    SessionRecord,
    SessionStateName,
    Updater,
)
from sessionhub.observe import metrics
from sessionhub.stores.account_memory import AccountMemory
from sessionhub.stores.guard_queries import GuardQueries
from sessionhub.stores.registry_queries import RegistryQueries
from sessionhub.stores.rows import (
    SESSION_COLUMNS,
    list_sessions_sql,
    session_from,
)
from sessionhub.stores.sqlite_accounts import SQLiteAccountQueries
from sessionhub.stores.sqlite_batch import (
    Update,
    Write,
    apply_batch,
    begin_waiting,
    failed,
    log,
    probe,
    try_begin,
    unavailable,
)
from sessionhub.stores.sqlite_hot import (
    HOT_SESSIONS,
    IN_FLIGHT,
    Accounts,
    Admit,
    HotBatch,
    HotStates,
    HotWrite,
    NewSession,
    lock_and_check,
    lock_and_load,
)
from sessionhub.stores.sqlite_playlogs import SQLitePlayLogQueries
from sessionhub.stores.sqlite_visitors import SQLiteVisitorQueries
from sessionhub.stores.sqlite_writer import (
    OK,
    REFUSED,
    Sighting,
    WriterProcess,
    check_and_mark,
    connect,
    rollback,
)
from sessionhub.stores.stats_queries import StatsQueries

T = TypeVar("T")
# One session ended at ?1 for ?2, or at its expiry if its lease lapsed before ?1 (as
# core.leases ``ending``). Every SET sees the row as it was; a NULL expiry never lapses.
_END = (
    "UPDATE sessions SET state = 'ended',"
    " ended_at = CASE WHEN expires_at <= ?1 THEN expires_at ELSE ?1 END,"
    " end_reason = CASE WHEN expires_at <= ?1 THEN expiry_reason ELSE ?2 END,"
    " expiry_reason = CASE WHEN expires_at <= ?1 THEN expiry_reason END,"
    " expires_at = CASE WHEN expires_at <= ?1 THEN expires_at END"
    " WHERE id = ?3 AND state = 'active' RETURNING api, end_reason, ended_at"
)
# The lapsed sessions, ended at their expiry, oldest first (the sessions_lapsing index).
_END_LAPSED = (
    "UPDATE sessions SET state = 'ended', ended_at = expires_at, end_reason = expiry_reason"
    " WHERE state = 'active' AND expires_at <= ? AND id IN (SELECT id FROM sessions"
    " WHERE state = 'active' AND expires_at <= ? ORDER BY expires_at LIMIT ?)"
    " RETURNING api, end_reason, ended_at, id"
)


_RETRYING = "SQLite write batch of %d failed (%r); retrying each alone"
SYNCHRONOUS_LEVELS = ("full", "normal")
PROBE_TIMEOUT_S = 3
# Hot writes waiting with nothing in flight, from which they go as two batches (``_take_run``).
SPLIT_FROM = 16


def from_url(url: str) -> SQLiteSessionStore:
    """``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.

    ``?synchronous=normal`` trades power-loss durability for throughput: in WAL mode a commit
    then survives a crash of the process (kill -9) but not of the machine. Default ``full``.
    ``?hot_sessions=N``: live sessions kept in memory (``sqlite_hot``), default 250,000.
    """
    parts = urlsplit(url)
    path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
    if parts.netloc or not path:
        raise ValueError(
            "SQLite URLs look like sqlite:///relative.db or sqlite:////absolute/path.db"
        )
    options = dict(parse_qsl(parts.query))
    synchronous = options.pop("synchronous", "full").lower()
    hot_sessions = options.pop("hot_sessions", str(HOT_SESSIONS))
    if synchronous not in SYNCHRONOUS_LEVELS or options or not hot_sessions.isdigit():
        raise ValueError(
            "SQLite URL options are ?synchronous=full|normal and ?hot_sessions=N (N >= 0)"
        )
    return SQLiteSessionStore(path, synchronous=synchronous, hot_sessions=int(hot_sessions))


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the migrations newer than the file's ``user_version``; returns their names.

    Runs under ``BEGIN IMMEDIATE``, so processes starting together apply each migration once.
    """
    scripts = sorted(
        (entry.name, entry.read_text())
        for entry in resources.files("sessionhub.stores.migrations").joinpath("sqlite").iterdir()
        if entry.name.endswith(".sql")
    )
    applied: list[str] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, (name, script) in enumerate(scripts, start=1):
            if number <= version:
                continue
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            applied.append(name)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied


class SQLiteSessionStore(
    SQLiteAccountQueries,
    SQLiteVisitorQueries,
    SQLitePlayLogQueries,
    RegistryQueries,
    StatsQueries,
    GuardQueries,
    Store,
):
    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "full",
        max_batch: int = 256,
        hot_sessions: int = HOT_SESSIONS,
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self._max_batch = max_batch
        self._hot = HotStates(hot_sessions)
        self._account_memory = AccountMemory()
        # Optimistic hot batches handed on and not yet answered, oldest first.
        self._in_flight: list[asyncio.Task[None]] = []
        self._epoch = 0  # bumped when a batch fails: what was planned before may rest on it
        # The writer process (``sqlite_writer``) and what each of the store's two writing
        # connections knows of the other: whether it has committed since this one last looked.
        self._process = WriterProcess(path, synchronous)
        self._process_started_at = -1.0
        self._thread_seen = Sighting()
        self._thread_committed = True  # the process has not looked yet
        self._process_committed = True
        self._committed_mark: int | None = None  # the count the last landed commit left
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        # Resolved by the next write while the flusher waits for a batch in flight to land.
        self._arrival: asyncio.Future[None] | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._write_conn: sqlite3.Connection | None = None
        self._read_conn: sqlite3.Connection | None = None
        self._look_conn: sqlite3.Connection | None = None  # the loop's own (``_look``)

    def __repr__(self) -> str:
        return f"SQLiteSessionStore({self.path!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        try:
            self._write_conn = await loop.run_in_executor(
                self._writer, connect, self.path, self.synchronous
            )
            await loop.run_in_executor(self._writer, migrate, self._write_conn)
            self._read_conn = await loop.run_in_executor(self._reader, connect, self.path)
            self._look_conn = await loop.run_in_executor(self._reader, connect, self.path)
            self._look_conn.execute("PRAGMA busy_timeout = 0")  # busy: to the thread, no wait
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"cannot open SQLite file {self.path}: {error}") from error

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        await self._process.close()
        self._hot.clear()
        for executor, conn in ((self._writer, self._write_conn), (self._reader, self._read_conn)):
            if executor is not None and conn is not None:
                await asyncio.get_running_loop().run_in_executor(executor, conn.close)
            if executor is not None:
                executor.shutdown(wait=True)
        if self._look_conn is not None:
            self._look_conn.close()
        self._writer = self._reader = None
        self._write_conn = self._read_conn = self._look_conn = None

    async def ping(self) -> None:
        """Both connections answer, and the writer can take the write lock and commit within
        ``PROBE_TIMEOUT_S``: a writer stuck behind a lock is unready, not just slow."""
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())
        try:
            await asyncio.wait_for(self._write(probe), PROBE_TIMEOUT_S)
        except TimeoutError:
            raise StoreUnavailableError("database writer is not answering") from None

    # -- writes ------------------------------------------------------------------------------

    async def create_session(self, record: SessionRecord, events: Sequence[EventRecord]) -> None:
        # A hot write: planned in memory and written with the batch's pings (``sqlite_hot``).
        if not await self._write(NewSession(record, events)):
            raise ValueError(f"session {record.id} exists already")
        metrics.session_started(record.live)

    async def admit(self, record: SessionRecord, decide: Decide, now_ms: int) -> AdmissionDecision:
        # A hot write: decided in memory when it knows the account's live sessions, written with
        # the batch (``sqlite_hot.Admit``); each batch is one transaction under the write lock.
        result: AdmissionDecision = await self._write(Admit(record, decide, now_ms))
        metrics.admission_written(record.live, result.admit, result.end)
        return result

    async def update_session(self, session_id: str, updater: Updater[T]) -> T:
        watch = metrics.EndWatch(updater)
        result: T = await self._write(Update(session_id, watch))
        watch.committed()
        return result

    def _write(self, op: Write) -> asyncio.Future[Any]:
        if self._writer is None:
            raise StoreUnavailableError("the SQLite store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        elif self._arrival is not None and not self._arrival.done():
            self._arrival.set_result(None)
        return future

    async def _flush(self) -> None:
        # One turn of the loop first, so requests that arrived together share the first commit.
        await asyncio.sleep(0)
        while self._pending or self._in_flight:
            if not self._pending:
                # Until the oldest batch lands or a write arrives: a write arriving meanwhile
                # is planned and handed on at once (up to IN_FLIGHT), not after that landing
                # (measured on play logs: 110-118k -> 130-132k logs/s, same machine and run).
                arrival = self._arrival = asyncio.get_running_loop().create_future()
                await asyncio.wait((self._in_flight[0], arrival), return_when=FIRST_COMPLETED)
                self._arrival = None
                continue
            batch = self._take_run()
            ops = [op for op, _ in batch]
            if isinstance(ops[0], HotWrite):
                try:
                    planned = self._plan_optimistic(ops)  # type: ignore[arg-type]
                    if planned is not None:
                        await self._hand_on(batch, planned)
                        await asyncio.sleep(0)  # let requests in before planning the next
                        continue
                except Exception as error:  # a bug: what was planned in memory is untrue
                    log.warning(_RETRYING, len(ops), error)
                    self._epoch += 1
                    self._foreign()
                    await self._drain()
                    _answer(batch, await self._each_alone(ops))
                    continue
            await self._drain()  # the ways below start from what is on disk
            try:
                with metrics.group_commit("sqlite", len(batch)):
                    if isinstance(ops[0], HotWrite):
                        outcomes = await self._run_hot(ops)  # type: ignore[arg-type]
                    else:
                        outcomes = await self._run_batch(ops)
            except BaseException as error:  # the connection itself failed: fail the batch
                outcomes = [(False, unavailable(error))] * len(batch)
            _answer(batch, outcomes)
            # Let the answered requests go out before the next batch holds the loop.
            await asyncio.sleep(0)

    async def _drain(self) -> None:
        while self._in_flight:
            await self._in_flight[0]

    def _plan_optimistic(self, ops: list[HotWrite]) -> HotBatch | None:
        """The batch planned on the states in memory, which become its states at once (the
        next batch plans on them); None when memory lacks a session or is not known good.
        The batch's commit is counted now: the next batch expects the count after it."""
        hot = self._hot
        if hot.mark is None:
            return None
        batch = HotBatch(ops, hot, self._epoch)
        if batch.missing or batch.missing_accounts:
            return None
        batch.plan(hot, {})
        _keep(hot, {}, batch)
        hot.mark += 1
        return batch

    async def _hand_on(
        self, batch: list[tuple[Write, asyncio.Future[Any]]], planned: HotBatch
    ) -> None:
        """Send a planned batch to the writer process (pure rows) or, once nothing else is in
        flight, to the writer thread, and answer it when it lands; at most ``IN_FLIGHT`` in
        flight, written in plan order."""
        if planned.data_only and await self._process_ready():
            while len(self._in_flight) >= IN_FLIGHT:
                await self._in_flight[0]
            written = self._process.send(planned.message(self._thread_committed))
            self._thread_committed = False
        else:
            await self._drain()
            written = asyncio.ensure_future(self._write_on_thread(planned))
        self._in_flight.append(
            asyncio.get_running_loop().create_task(self._land(batch, planned, written))
        )

    async def _process_ready(self) -> bool:
        """Whether the writer process runs, starting it if need be (not more than once a
        second: a process that cannot start leaves its batches to the writer thread)."""
        if self._process.running:
            return True
        now = time.monotonic()
        if now - self._process_started_at < 1:
            return False
        self._process_started_at = now
        try:
            await self._process.start()
        except OSError as error:
            log.warning("SQLite writer process did not start (%r); writing on a thread", error)
            return False
        self._thread_committed = True  # a new process has seen nothing yet
        return True

    async def _write_on_thread(self, planned: HotBatch) -> list[Any]:
        """An optimistic batch the process cannot take (visitor links), on the writer thread
        after every batch before it has landed: [OK, results] or [REFUSED, None]."""
        if planned.epoch != self._epoch:  # a batch it was planned on failed
            return [REFUSED, None]
        loop = asyncio.get_running_loop()
        conn = self._open_write_conn()
        foreign, mark = await loop.run_in_executor(
            self._writer,
            lock_and_check,
            conn,
            self._thread_seen,
            planned.expected_mark,
            self._take_process_committed(),
        )
        if foreign:
            await loop.run_in_executor(self._writer, rollback, conn)
            return [REFUSED, None]
        try:
            results = await loop.run_in_executor(self._writer, planned.write_rows, conn)
        finally:
            self._thread_committed = True
        return [OK, (mark, results)]

    def _take_process_committed(self) -> bool:
        """Whether the writer process has committed since the thread's connection last looked
        (it is looking now)."""
        committed, self._process_committed = self._process_committed, False
        return committed

    async def _land(
        self,
        batch: list[tuple[Write, asyncio.Future[Any]]],
        planned: HotBatch,
        written: asyncio.Future[list[Any]],
    ) -> None:
        """Answer a batch handed on once it is written (or run again write by write)."""
        try:
            began = time.perf_counter()
            outcomes = await self._landed(batch, planned, await _answer_of(written))
            metrics.group_commit_took("sqlite", len(batch), time.perf_counter() - began)
            _answer(batch, outcomes)
        finally:
            # Off the list before the task is done, even if cancelled: awaiting a done task
            # does not yield, so a done task still listed would keep ``_drain`` spinning.
            self._in_flight.remove(asyncio.current_task())  # type: ignore[arg-type]

    async def _landed(
        self, batch: list[tuple[Write, asyncio.Future[Any]]], planned: HotBatch, answer: list[Any]
    ) -> list[tuple[bool, Any]]:
        """Each write's outcome, given what the writer answered for the batch."""
        status, value = answer
        if status != OK:  # it wrote nothing: memory may be untrue, run each from the file
            if status != REFUSED or value is not None:
                log.warning(_RETRYING, len(batch), value)
            if self._epoch == planned.epoch:
                self._epoch += 1
                self._foreign()
            try:
                return await self._each_alone([op for op, _ in batch])
            except BaseException as error:
                return [(False, unavailable(error))] * len(batch)
        outcomes = planned.outcomes
        # value: the count the batch left and its jobs' answers (plain ones from the process)
        self._committed_mark, results = value
        if planned.data_only:
            self._process_committed = True
            jobs = planned.jobs
            results = [op.decode(result) for (_, op), result in zip(jobs, results, strict=True)]
        for (index, _), result in zip(planned.jobs, results, strict=True):
            outcomes[index] = (True, result)
        self._hot.trim()
        return outcomes

    async def _each_alone(self, ops: list[Write]) -> list[tuple[bool, Any]]:
        """After a batch failed: each write alone, in its own transaction, from the file (any
        transaction the batch left open is rolled back first). Memory is dropped: what the
        failed batch planned may be in it."""
        loop = asyncio.get_running_loop()
        conn = self._open_write_conn()
        self._hot.clear()
        await loop.run_in_executor(self._writer, rollback, conn)
        try:
            return await loop.run_in_executor(self._writer, self._run_each_alone, ops, conn)
        finally:
            self._thread_committed = True
            self._committed_mark = None  # unknown: the next look finds a foreign commit

    def _open_write_conn(self) -> sqlite3.Connection:
        if self._write_conn is None:
            raise StoreUnavailableError("the SQLite store is not open")
        return self._write_conn

    def _take_run(self) -> list[tuple[Write, asyncio.Future[Any]]]:
        """The oldest writes of one kind (hot or plain), in arrival order, at most
        ``max_batch``: a plain write may touch any session, so hot writes never pass it."""
        pending = self._pending
        hot = isinstance(pending[0][0], HotWrite)
        end = 1
        limit = min(len(pending), self._max_batch)
        if hot and not self._in_flight and limit >= SPLIT_FROM:
            # Nothing in flight and many waiting: they arrived together and, answered together,
            # would come back together, the loop idle while the writer writes and the other
            # way round. Two halves keep both busy (measured on pings: ~17 % more).
            limit = (limit + 1) // 2
        while end < limit and isinstance(pending[end][0], HotWrite) == hot:
            end += 1
        batch = pending[:end]
        del pending[:end]
        return batch

    async def _run_hot(self, ops: list[HotWrite]) -> list[tuple[bool, Any]]:
        """A batch of hot writes (see ``sqlite_hot``): at most two trips to the writer thread,
        one to take the lock and read what memory lacks, one to write and commit; the updaters
        run here in between, on the states kept in memory."""
        loop = asyncio.get_running_loop()
        conn = self._open_write_conn()
        hot = self._hot
        batch = HotBatch(ops, hot)
        try:
            foreign, mark, loaded, loaded_accounts = await loop.run_in_executor(
                self._writer,
                lock_and_load,
                conn,
                self._thread_seen,
                self._expected_mark(),
                self._take_process_committed(),
                batch,
            )
            if foreign:  # another writer committed meanwhile (or it cannot be known)
                self._foreign()
            outcomes = batch.plan(hot, loaded, loaded_accounts)
            results = await loop.run_in_executor(self._writer, batch.write_rows, conn)
        except Exception as error:
            log.warning(_RETRYING, len(ops), error)
            return await self._each_alone(list(ops))
        finally:
            self._thread_committed = True
        hot.mark = self._committed_mark = mark  # memory now: read or written under this lock
        for sid, live in loaded.items():
            hot.remember(sid, live)
        _keep(hot, loaded_accounts, batch)
        hot.trim()
        for (index, _), value in zip(batch.jobs, results, strict=True):
            outcomes[index] = (True, value)
        return outcomes

    async def _run_batch(self, ops: list[Write]) -> list[tuple[bool, Any]]:
        """All writes in one transaction; if one fails at the SQL level, each alone.

        Only the two waits go to the writer thread: taking the write lock (another process
        may hold it) and COMMIT (the fsync). The statements themselves run here on the loop:
        they hold the GIL wherever they run, and on a thread every statement would hand the GIL
        back and forth with the loop (measured: ~150 µs per update that way). Updates are run
        set-based: one SELECT loads every session the batch touches, the updaters run in
        arrival order against those rows, and one executemany writes each table. A batch is at
        most ``max_batch`` writes, so the loop is never held for long.
        """
        loop = asyncio.get_running_loop()
        conn = self._open_write_conn()
        if not try_begin(conn):  # another process holds the write lock: wait for it off the loop
            await loop.run_in_executor(self._writer, begin_waiting, conn)
        hot = self._hot
        try:
            foreign, mark = check_and_mark(
                conn, self._thread_seen, self._expected_mark(), self._take_process_committed()
            )
            outcomes = apply_batch(ops, conn)
            await loop.run_in_executor(self._writer, conn.execute, "COMMIT")
            self._thread_committed = True
            self._committed_mark = mark
            if foreign:
                self._foreign()
            elif hot.mark is not None:  # else memory is not trusted anyway
                hot.mark = mark
            return outcomes
        except Exception as error:
            # Whatever failed (SQLite, a value it cannot bind, a bug), the transaction must not
            # stay open: BEGIN IMMEDIATE holds the file's write lock, and every later batch of
            # every process would wait on it.
            log.warning(_RETRYING, len(ops), error)
        # Isolate what failed so the others still land.
        return await self._each_alone(ops)

    def _run_each_alone(self, ops: list[Write], conn: sqlite3.Connection) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for op in ops:
            try:
                conn.execute("BEGIN IMMEDIATE")
                check_and_mark(conn, self._thread_seen, None, True)  # counted: memory is empty
                outcome = apply_batch([op], conn)[0]
                conn.execute("COMMIT")
                outcomes.append(outcome)
            except Exception as error:
                rollback(conn)
                outcomes.append((False, failed(error)))
        return outcomes

    # -- reads -------------------------------------------------------------------------------

    async def _foreign_commit_seen(self) -> bool:
        """Whether a writer other than this store has committed since the store last looked,
        for what is remembered of accounts. While the flusher runs, its batches tell (each
        looks under the write lock and forgets at once, ``_foreign``); when it does not, this
        looks the same way on the write connection, without writing."""
        if self._flusher is not None and not self._flusher.done():
            return False
        conn = self._write_conn
        if self._writer is None or conn is None:
            raise StoreUnavailableError("the SQLite store is not open")
        try:
            foreign, mark = await asyncio.get_running_loop().run_in_executor(
                self._writer,
                check_and_mark,
                conn,
                self._thread_seen,
                self._expected_mark(),
                self._take_process_committed(),
                False,
            )
        except sqlite3.Error as error:
            raise unavailable(error) from error
        if foreign:
            self._foreign()
        self._committed_mark = mark
        return foreign

    def _expected_mark(self) -> int | None:
        """The count the store's commits so far lead to, once nothing is in flight."""
        return self._hot.mark if self._hot.mark is not None else self._committed_mark

    def _foreign(self) -> None:
        """A write batch found another writer's commit: nothing in memory can be trusted."""
        self._hot.clear()
        self._records_changed()

    def _reader_executor(self) -> ThreadPoolExecutor:
        if self._reader is None:
            raise StoreUnavailableError("the SQLite store is not open")
        return self._reader

    async def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        if self._reader is None or self._read_conn is None:
            raise StoreUnavailableError("the SQLite store is not open")
        conn = self._read_conn
        try:
            return await asyncio.get_running_loop().run_in_executor(self._reader, query, conn)
        except sqlite3.Error as error:
            raise unavailable(error) from error

    async def _look(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """A read of a row or two by key, made on the event loop itself. Such a read of a page
        SQLite or the OS holds costs a few µs; the hop to the reader thread and back cost more
        than the read (a segment check's lease, a token, an account): measured on the segment
        check, three pairs: p99 6-13 against 24-51 ms, server CPU 48-109 against 87-130 µs a
        check (bench/RESULTS.md, session 17). A reader in WAL mode waits for nobody, except
        while another connection holds the file exclusively or rebuilds the WAL index: this
        connection then answers busy at once (no busy timeout) and the read goes to the
        reader thread, which waits, so the loop never does. Scans and lists stay on the
        thread (``_read``)."""
        conn = self._look_conn
        if conn is None:
            raise StoreUnavailableError("the SQLite store is not open")
        try:
            return query(conn)
        except sqlite3.OperationalError as error:
            code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # the primary code
            if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise unavailable(error) from error
        except sqlite3.Error as error:
            raise unavailable(error) from error
        return await self._read(query)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = await self._look(
            lambda conn: conn.execute(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
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
            return "?"

        equal = {"account_id": account_id, "tenant": tenant, "api": api}
        equal |= {"visitor_id": visitor_id, "content_id": content_id}
        sql = list_sessions_sql(
            arg, state=state, now_ms=now_ms, before_id=before_id, limit=limit, equal=equal
        )
        rows = await self._read(lambda conn: conn.execute(sql, args).fetchall())
        return [session_from(row) for row in rows]

    async def list_sessions_where(
        self, where: str, args: tuple[Any, ...], order: str
    ) -> list[SessionRecord]:
        sql = f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY {order}"
        rows = await self._read(lambda conn: conn.execute(sql, args).fetchall())
        return [session_from(row) for row in rows]

    async def list_events(self, session_id: str) -> list[EventRecord]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT session_id, ts, event_type, playhead, received_at, body FROM events"
                " WHERE session_id = ? ORDER BY ts, id",
                (session_id,),
            ).fetchall()
        )
        return [EventRecord(*row) for row in rows]

    async def end_sessions(self, ends: Sequence[tuple[str, int, str]]) -> int:
        def end(conn: sqlite3.Connection) -> list[Any]:
            self._hot.forget(sid for sid, _, _ in ends)
            # One statement a row (executemany cannot return rows): what it ended, for metrics.
            ended = (conn.execute(_END, (at, reason, sid)).fetchone() for sid, at, reason in ends)
            return [row for row in ended if row is not None]

        written: list[Any] = await self._write(end)
        metrics.ends_written(written)
        return len(written)

    async def end_lapsed(self, now_ms: int, limit: int) -> int:
        # Under the batch's write lock: no other process can end or renew a row meanwhile.
        def end_lapsed(conn: sqlite3.Connection) -> list[Any]:
            rows = conn.execute(_END_LAPSED, (now_ms, now_ms, limit)).fetchall()
            self._hot.forget(row[3] for row in rows)
            return [row[:3] for row in rows]

        written: list[Any] = await self._write(end_lapsed)
        metrics.ends_written(written)
        return len(written)

    async def lapsed_session_ids(self, now_ms: int, limit: int = 500) -> list[str]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT id FROM sessions WHERE state = 'active' AND expires_at <= ?"
                " ORDER BY expires_at LIMIT ?",
                (now_ms, limit),
            ).fetchall()
        )
        return [row[0] for row in rows]


def _keep(hot: HotStates, loaded_accounts: Accounts, batch: HotBatch) -> None:
    """What a planned batch leaves becomes memory: its states, and the accounts it read or
    admitted to (after the states: an account lists only sessions memory holds)."""
    for sid, live in batch.lives.items():
        hot.remember(sid, live)
    for account_id, sessions in {**loaded_accounts, **batch.accounts}.items():
        hot.keep_account(account_id, sessions)


async def _answer_of(written: asyncio.Future[list[Any]]) -> list[Any]:
    """The writer's answer; a writer that failed outright (its process gone, the thread's
    SQL) wrote nothing, like one that refused."""
    try:
        return await written
    except Exception as error:
        return [REFUSED, error]


def _answer(
    batch: list[tuple[Write, asyncio.Future[Any]]], outcomes: list[tuple[bool, Any]]
) -> None:
    for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
        if future.done():
            continue  # the caller went away; the write stands regardless
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
