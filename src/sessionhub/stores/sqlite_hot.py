"""The SQLite store's hot path: live states kept in memory, writes sent as rows to the writer.

Pings, keep-alives, engagement events, new sessions, admissions and play logs are the
traffic; each is a small change to one session's live state (or a new row). An admission is
decided in memory too, on the account's sessions kept beside their states
(``HotStates.account``: ~170 B a session besides its device id, measured with tracemalloc on
two-device households), once an admission has read the account under the lock.

The serving process is the file's usual writer, so it keeps each live session's ``LiveState``
as last committed (``HotStates``); an update runs its updater against that copy on the event
loop and leaves behind rows to write. No SQL statement runs on the loop for them: the writer
(process or thread) takes the write lock, writes a whole batch as a few multi-row statements
and commits (``synchronous=FULL``), and only then are the callers answered.

Why multi-row statements and not ``executemany``: Python's ``sqlite3`` lets go of the GIL for
every row's step and must take it back from the busy event loop before binding the next row
(measured on a thread beside a busy loop: ~6 ms a row with ``executemany``, ~40 µs a row with
one statement for 256 rows). One statement a table per batch hands the GIL over a few times
per batch instead of a few times per row.

Two ways a batch goes (``SQLiteSessionStore._flush``):

- *Optimistic*, when memory holds every session the batch touches: the batch is planned at once
  and its rows handed on without waiting: to the writer process (``sqlite_writer``) when they
  are pure data (events, live states), else to the writer thread once nothing else is in
  flight. The writer takes the lock, checks that no other writer has committed since memory
  was last known good, writes and commits: one trip. Later batches are planned while earlier
  ones commit, on the states those will leave (up to ``IN_FLIGHT`` batches in flight), so the
  loop and the writer work side by side instead of taking turns.
- *Locked*, otherwise (a session memory lacks, or memory is not known good): once nothing is in
  flight, the writer thread takes the lock and reads what is missing, the loop plans, the
  writer writes and commits: two trips, with the lock held in between.

Other writers (the CLI, a second process on the file) are noticed under the write lock by the
count of commits in ``commit_marks`` and by ``PRAGMA data_version`` (``check_and_mark``): when
another writer has committed since memory was last known good, an optimistic batch writes
nothing and is run again write by write from the file, every state kept in memory is dropped,
and the next batch goes the locked way, which reads its sessions again under the lock. A batch
planned on one that then failed is refused the same way: nothing is ever written on top of a
write that did not land.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sessionhub.core.admission import AdmissionDecision, LiveSession
from sessionhub.core.contracts import Decide
from sessionhub.core.records import EventRecord, LiveState, SessionRecord
from sessionhub.stores.rows import LIVE_COLUMNS, event_row, live_update_args, session_row
from sessionhub.stores.sqlite_batch import Update, begin_waiting
from sessionhub.stores.sqlite_visitors import link_visitor
from sessionhub.stores.sqlite_writer import (
    JOBS,
    Sighting,
    check_and_mark,
    id_taken,
    insert_events_sql,
    insert_rows,
    marks,
    rollback,
    update_lives_sql,
    write_new_sessions,
)

# Live states kept by default: at ~300-450 B each (bench/RESULTS.md) about 100 MB at most; a
# session past the bound is read from the file again on its next write.
HOT_SESSIONS = 250_000
# Optimistic batches handed on and not yet answered, at most (measured on pings: 2 -> 4 gave
# ~10 % more; the writer takes them in order, so more only queues).
IN_FLIGHT = 4


class Job:
    """A write of a few statements that either writer runs, by name (``sqlite_writer.JOBS``:
    play logs, OAuth request checks); ``decode`` turns its plain answer into the caller's."""

    __slots__ = ("args", "decode", "name")

    def __init__(self, name: str, args: Sequence[Any], decode: Callable[[Any], Any]) -> None:
        self.name = name
        self.args = args
        self.decode = decode

    def __call__(self, conn: sqlite3.Connection) -> Any:
        return self.decode(JOBS[self.name](conn, *self.args))


class NewSession:
    """A new session (``create_session``): planned in memory like an update, its row written
    with the batch's. Alone (after a failed batch) it is a plain write: the row, its events and
    its visitor link; True, or False when a session of that id exists."""

    __slots__ = ("events", "record", "row")

    def __init__(self, record: SessionRecord, events: Sequence[EventRecord]) -> None:
        self.record = record
        self.row = session_row(record)
        self.events = [event_row(event) for event in events]

    @property
    def session_id(self) -> str:
        return self.record.id

    def __call__(self, conn: sqlite3.Connection) -> bool:
        try:
            write_new_sessions(conn, [self.row])
        except sqlite3.IntegrityError as error:
            if not id_taken(error):
                raise
            # The id is taken (two upserts of one client-chosen id raced): an answer, not a
            # failure. The refused INSERT wrote nothing and SQLite undid only that statement,
            # so the batch goes on; rolling it back and running every write alone (what a
            # failure costs) made such races slow the whole server.
            return False
        insert_rows(conn, insert_events_sql, self.events)
        if self.record.identities:
            link_visitor(conn, self.record.id, self.record.identities, None, self.record.started_at)
        return True


class Admit:
    """An admission (``admit``): decided in memory on the account's live sessions when memory
    knows all of them (``HotStates.account``), its ends and its new row written with the
    batch's. Alone (after a failed batch) it is a plain write deciding on the file."""

    __slots__ = ("decide", "now_ms", "record", "row")

    def __init__(self, record: SessionRecord, decide: Decide, now_ms: int) -> None:
        self.record = record
        self.row = session_row(record)
        self.decide = decide
        self.now_ms = now_ms

    @property
    def session_id(self) -> str:
        return self.record.id

    def __call__(self, conn: sqlite3.Connection) -> AdmissionDecision:
        # Inside the write transaction, which holds SQLite's write lock: nothing else can insert
        # or end a session of this account between the count and the insert.
        record, now_ms = self.record, self.now_ms
        live = [
            LiveSession(*found)
            for found in conn.execute(
                "SELECT id, device_id, content_id, started_at FROM sessions"
                " WHERE account_id = ? AND state = 'active'"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (record.account_id, now_ms),
            )
        ]
        decision = self.decide(live)
        conn.executemany(
            "UPDATE sessions SET state = 'ended', ended_at = ?, end_reason = ?,"
            " expires_at = NULL WHERE id = ?",
            [(now_ms, reason, session_id) for session_id, reason in decision.end],
        )
        if decision.admit:
            write_new_sessions(conn, [self.row])
            if record.identities:
                link_visitor(conn, record.id, record.identities, None, now_ms)
        return decision


def ended(live: LiveState, at_ms: int, reason: str) -> LiveState:
    """The state an admission leaves a session it ends (as ``Admit`` alone writes it)."""
    return LiveState(live.api, "ended", at_ms, reason, None, live.expiry_reason, live.data)


HotWrite = Update | Job | NewSession | Admit


class HotStates:
    """The live state of each session as this process last committed or read it under the
    write lock, for at most ``limit`` sessions (the least recently written go first).

    ``mark`` is the count in ``commit_marks`` that the store's commits so far lead to (those
    handed on included) while the states are known to be the file's; None when unknown.
    """

    def __init__(self, limit: int = HOT_SESSIONS) -> None:
        self.limit = limit
        self.mark: int | None = None
        self._states: dict[str, LiveState] = {}
        # Accounts whose every active session is known: id -> its sessions as admission counts
        # them. Each listed session is in ``_states`` or has ended here (an ended state leaves
        # ``_states``): a session that leaves memory any other way takes its account along.
        self._accounts: dict[str | None, dict[str, LiveSession]] = {}
        self._account_of: dict[str, str | None] = {}

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._states

    def get(self, session_id: str) -> LiveState | None:
        return self._states.get(session_id)

    def remember(self, session_id: str, live: LiveState) -> None:
        states = self._states
        states.pop(session_id, None)  # to the young end: dicts keep insertion order
        if live.state != "ended":  # an ended session is rarely written again: no room for it
            states[session_id] = live

    def account(self, account_id: str | None) -> dict[str, LiveSession] | None:
        """The account's sessions if memory knows them all, else None."""
        return self._accounts.get(account_id)

    def keep_account(self, account_id: str | None, sessions: dict[str, LiveSession]) -> None:
        accounts = self._accounts
        accounts.pop(account_id, None)  # to the young end
        accounts[account_id] = sessions
        for session_id in sessions:
            self._account_of[session_id] = account_id
        while len(accounts) > self.limit:
            self._drop_account(next(iter(accounts)))

    def _drop_account(self, account_id: str | None) -> None:
        for session_id in self._accounts.pop(account_id, {}):
            self._account_of.pop(session_id, None)

    def _forget_one(self, session_id: str) -> None:
        self._states.pop(session_id, None)
        if session_id in self._account_of:
            self._drop_account(self._account_of[session_id])

    def trim(self) -> None:
        """Forget the least recently written beyond ``limit`` (after a commit, not while a
        batch is planned). Safe at any time: a session memory lacks goes the locked way,
        which first waits for every batch in flight and then reads it from the file."""
        states = self._states
        while len(states) > self.limit:
            self._forget_one(next(iter(states)))

    def forget(self, session_ids: Iterable[str]) -> None:
        for session_id in session_ids:
            self._forget_one(session_id)

    def clear(self) -> None:
        self._states.clear()
        self._accounts.clear()
        self._account_of.clear()
        self.mark = None


def load_lives(conn: sqlite3.Connection, session_ids: Sequence[str]) -> dict[str, LiveState]:
    """The stored live states of those sessions that exist, 500 ids a statement."""
    found: dict[str, LiveState] = {}
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        rows = conn.execute(
            f"SELECT id, {LIVE_COLUMNS} FROM sessions WHERE id IN ({marks(len(chunk))})", chunk
        )
        for row in rows:
            found[row[0]] = LiveState(*row[1:])
    return found


Accounts = dict[str | None, dict[str, LiveSession]]


def load_accounts(
    conn: sqlite3.Connection, account_ids: Sequence[str | None], into: dict[str, LiveState]
) -> Accounts:
    """Every active session of those accounts: as admission counts them, and their states
    (added to ``into``)."""
    found: Accounts = {}
    for account_id in account_ids:
        sessions = found[account_id] = {}
        rows = conn.execute(
            f"SELECT id, device_id, content_id, started_at, {LIVE_COLUMNS} FROM sessions"
            " WHERE account_id = ? AND state = 'active'",
            (account_id,),
        )
        for row in rows:
            sessions[row[0]] = LiveSession(*row[:4])
            into[row[0]] = LiveState(*row[4:])
    return found


def lock_and_check(
    conn: sqlite3.Connection, seen: Sighting, expected: int | None, sibling_committed: bool
) -> tuple[bool, int]:
    """Writer thread: take the write lock (waiting for another process if need be) and count
    the commit to come (``check_and_mark``); the transaction stays open."""
    begin_waiting(conn)
    try:
        return check_and_mark(conn, seen, expected, sibling_committed)
    except BaseException:
        rollback(conn)
        raise


def lock_and_load(
    conn: sqlite3.Connection,
    seen: Sighting,
    expected: int | None,
    sibling_committed: bool,
    batch: HotBatch,
) -> tuple[bool, int, dict[str, LiveState], Accounts]:
    """Writer thread: take the write lock (waiting for another process if need be), count the
    commit to come (``check_and_mark``) and read what the batch needs. Returns whether another
    writer has committed since memory was last known good (then every session and account
    was read, not just the missing ones), the count this transaction leaves, the states read
    and the accounts read. The transaction stays open for ``write_rows``."""
    foreign, mark = lock_and_check(conn, seen, expected, sibling_committed)
    try:
        lives = load_lives(conn, batch.session_ids if foreign else batch.missing)
        account_ids = batch.account_ids if foreign else batch.missing_accounts
        return foreign, mark, lives, load_accounts(conn, account_ids, lives)
    except BaseException:
        rollback(conn)
        raise


class HotBatch:
    """One batch of hot writes: planned on the loop against the kept states, written by the
    writer process (``message``) or by ``write_rows`` on the writer thread."""

    def __init__(self, ops: list[HotWrite], hot: HotStates, epoch: int = 0) -> None:
        self.ops = ops
        self.epoch = epoch
        self.expected_mark = hot.mark  # the count the commits before this one lead to
        self.outcomes: list[tuple[bool, Any]] = []
        self.session_ids = list(
            dict.fromkeys(op.session_id for op in ops if isinstance(op, Update))
        )
        new = {op.session_id for op in ops if isinstance(op, NewSession | Admit)}
        self.missing = [sid for sid in self.session_ids if sid not in hot and sid not in new]
        self.account_ids = list(
            dict.fromkeys(op.record.account_id for op in ops if isinstance(op, Admit))
        )
        self.missing_accounts = [a for a in self.account_ids if hot.account(a) is None]
        self.accounts: Accounts = {}  # the sessions of each account the batch admits to
        self.lives: dict[str, LiveState] = {}  # what the batch's updates decided
        self.sessions: list[tuple[Any, ...]] = []  # new sessions' rows
        self._inserted: dict[str, LiveState] = {}  # the state each new row holds
        self.events: list[tuple[Any, ...]] = []
        self.links: list[tuple[str, Any, Any, int]] = []  # visitor work, in arrival order
        self.jobs: list[tuple[int, Job]] = []

    def plan(
        self, hot: HotStates, loaded: dict[str, LiveState], loaded_accounts: Accounts | None = None
    ) -> list[tuple[bool, Any]]:
        """Run the updaters in arrival order; returns each write's outcome (a job's is filled
        in once written). An updater's error is its result, as in
        ``apply_batch``."""
        lives = self.lives
        outcomes: list[tuple[bool, Any]] = []
        for index, op in enumerate(self.ops):
            if isinstance(op, NewSession):
                outcomes.append((True, self._plan_new(op.record, op.row, op.events, hot, loaded)))
                continue
            if isinstance(op, Admit):
                outcomes.append(self._plan_admit(op, hot, loaded, loaded_accounts or {}))
                continue
            if isinstance(op, Job):
                self.jobs.append((index, op))
                outcomes.append((True, None))  # filled in once written
                continue
            sid = op.session_id
            current = lives.get(sid) or loaded.get(sid) or hot.get(sid)
            # (LiveState is never falsy: "or" only skips the absent.)
            try:
                change = op.updater(current)
            except Exception as error:
                outcomes.append((False, error))
                continue
            if change.live is not None:
                lives[sid] = change.live
            if change.events:
                self.events.extend(event_row(event) for event in change.events)
            if change.identities or change.visitor_change is not None:
                self.links.append((sid, change.identities, change.visitor_change, change.at_ms))
            outcomes.append((True, change.result))
        self.outcomes = outcomes
        return outcomes

    def _plan_new(
        self,
        record: SessionRecord,
        row: tuple[Any, ...],
        events: list[tuple[Any, ...]],
        hot: HotStates,
        loaded: dict[str, LiveState],
        at_ms: int | None = None,
    ) -> bool:
        """A new session's row; False (and nothing to write) when its id is known taken. An
        id taken that memory does not know of fails the batch's insert: it is then run again
        write by write, and this one answers False there."""
        sid = record.id
        if self._taken(sid, hot, loaded):
            return False
        self.lives[sid] = self._inserted[sid] = record.live
        self.sessions.append(row)
        self.events.extend(events)
        if record.identities:
            self.links.append((sid, record.identities, None, at_ms or record.started_at))
        sessions = self._account(record.account_id, hot, {})
        if sessions is not None:  # a session of an account memory knows whole
            sessions[sid] = LiveSession(sid, record.device_id, record.content_id, record.started_at)
        return True

    def _account(
        self, account_id: str | None, hot: HotStates, loaded_accounts: Accounts
    ) -> dict[str, LiveSession] | None:
        """The batch's own copy of what is known of the account's sessions (None: unknown)."""
        sessions = self.accounts.get(account_id)
        if sessions is None:
            known = loaded_accounts.get(account_id)
            if known is None:
                known = hot.account(account_id)
            if known is None:
                return None
            sessions = self.accounts[account_id] = dict(known)
        return sessions

    def _taken(self, sid: str, hot: HotStates, loaded: dict[str, LiveState]) -> bool:
        """Whether memory knows a session of that id (the file may know more)."""
        return sid in self.lives or sid in loaded or sid in hot

    def _current(self, sid: str, hot: HotStates, loaded: dict[str, LiveState]) -> LiveState | None:
        return self.lives.get(sid) or loaded.get(sid) or hot.get(sid)

    def _plan_admit(
        self, op: Admit, hot: HotStates, loaded: dict[str, LiveState], loaded_accounts: Accounts
    ) -> tuple[bool, Any]:
        """The admission decided on the account's sessions in memory, as ``Admit`` decides on
        the file: the active ones whose lease has not lapsed count."""
        record, now_ms = op.record, op.now_ms
        sessions = self._account(record.account_id, hot, loaded_accounts)
        if sessions is None:  # the batch was planned without loading it: a bug, fail alone
            return (False, LookupError(f"account {record.account_id} not loaded"))
        if self._taken(record.id, hot, loaded):
            return (False, ValueError(f"session {record.id} exists already"))
        live = []
        for sid, session in list(sessions.items()):
            current = self._current(sid, hot, loaded)
            if current is None or current.state != "active":  # ended here
                del sessions[sid]
            elif current.expires_at is None or current.expires_at > now_ms:
                live.append(session)
        try:
            decision = op.decide(live)
        except Exception as error:
            return (False, error)
        for sid, reason in decision.end:
            current = self._current(sid, hot, loaded)
            if current is not None:
                self.lives[sid] = ended(current, now_ms, reason)
            sessions.pop(sid, None)
        if decision.admit:
            self._plan_new(record, op.row, [], hot, loaded, now_ms)
        return (True, decision)

    @property
    def data_only(self) -> bool:
        """Nothing but rows (and links that change no profile) to write: the writer process
        can take it."""
        return all(link[2] is None for link in self.links)

    def message(self, sibling_committed: bool) -> list[Any]:
        """What the writer process is sent (``sqlite_writer``)."""
        return [
            self.epoch,
            self.expected_mark,
            sibling_committed,
            self.sessions,
            self.events,
            self.live_rows(),
            [(sid, identities, at_ms) for sid, identities, _, at_ms in self.links],
            [(op.name, op.args) for _, op in self.jobs],
        ]

    def live_rows(self) -> list[tuple[Any, ...]]:
        """The states to write, but for new rows that already hold theirs."""
        inserted = self._inserted
        return [
            live_update_args(live, sid)
            for sid, live in self.lives.items()
            if inserted.get(sid) is not live
        ]

    def write_rows(self, conn: sqlite3.Connection) -> list[Any]:
        """Writer thread, in the transaction ``lock_and_load`` opened: write the plan and
        commit; the jobs' results, in order. On any failure nothing of the batch
        stays (rolled back) and the error propagates."""
        try:
            write_new_sessions(conn, self.sessions)
            insert_rows(conn, insert_events_sql, self.events)
            insert_rows(conn, update_lives_sql, self.live_rows())
            for sid, identities, change, at_ms in self.links:
                link_visitor(conn, sid, identities, change, at_ms)
            results = [op(conn) for _, op in self.jobs]
            conn.execute("COMMIT")
            return results
        except BaseException:
            rollback(conn)
            raise
