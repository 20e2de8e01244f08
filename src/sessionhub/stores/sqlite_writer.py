"""The SQLite store's writer process: hot batches written by a child process fed over a pipe.

Why a process and not the writer thread: Python's ``sqlite3`` lets go of the GIL around every
prepare and every step and must take it back from the busy event loop afterwards, so a batch
of five statements on a thread waits five times for the loop to yield (measured: a 3-row batch
took ~0.9 ms on the thread beside a busy loop, ~0.2 ms alone). The child holds no GIL of ours:
the loop writes one message per batch into a pipe and learns of the commit when the answer is
readable, with no thread in between (measured on Adobe pings: ~10k/s on the thread, ~14k/s
through the child, same machine, same run).

Only the hot batches of ``sqlite_hot`` that are pure data go to the child: new sessions, events
to insert, live states to write, visitor links that change no profile (the child runs
``link_visitor`` itself: it reads only what the same transaction holds), and the ``JOBS``
(play logs, OAuth nonce and rate checks). Every other write (records, profile changes, and any
batch holding one) stays on the store's own connection.

Two connections of one store write the file, so neither can use ``PRAGMA data_version`` alone
to tell another process's commit from its sibling's. Each transaction of a sessionhub writer
therefore also counts itself in the one row of ``commit_marks`` (``check_and_mark``), and the
store knows the count its own commits lead to: a count other than that is a foreign commit.
``data_version`` still catches writers that are not sessionhub (raw SQL) whenever the sibling
connection has not committed meanwhile.

Wire format: each message is a 4-byte little-endian length and a msgpack array. To the child:
``[epoch, expected_mark, sibling_committed, sessions, events, lives, links, jobs]``; from it:
``[status, value]`` (``OK`` with ``[the new mark, the jobs' answers]``, ``REFUSED``, or
``FAILED`` with the error's text). A new session whose id is taken refuses the batch (the
store runs its writes again one by one, and the one that lost the race is told so). The child takes
messages in order and answers each; it exits when its input closes (the server went away,
even by kill -9), after finishing the batch at hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import struct
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import IO, Any

import msgspec

from sessionhub import collector
from sessionhub.core.consumers import Bucket, take
from sessionhub.core.records import PlayLog
from sessionhub.stores.rows import SESSION_COLUMNS
from sessionhub.stores.sqlite_visitors import EMPTY_PROFILE, link_visitor
from sessionhub.stores.visitor_claims import Key, NewLink, claim, identity_keys

BUSY_TIMEOUT_MS = 10_000
# Rows per multi-row statement: far below SQLite's 32,766 bound variables at 14 columns.
CHUNK = 256
CHECKPOINT_PAGES = 200
_LIVE_ARITY = 7  # as rows.live_update_args: state, ..., data, then the id
_EVENT_ARITY = 6
_SESSION_ARITY = len(SESSION_COLUMNS.split(","))
_HEADER = struct.Struct("<I")

OK, REFUSED, FAILED = 0, 1, 2


def connect(path: str, synchronous: str = "full") -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Statement journals of multi-row statements in memory, not in a file opened, written and
    # unlinked every few batches (seen with strace on the writer process).
    conn.execute("PRAGMA temp_store = MEMORY")
    # The commit that carries the WAL past this many pages also copies them into the file
    # (and fsyncs it) before it returns, so every request of its batch waits for that copy.
    # At 200 pages instead of SQLite's 1,000 the copies are five times smaller and five times
    # as frequent: ping p99 at 64 connections ~12 against ~15 ms, throughput the same
    # (bench/RESULTS.md, session 15).
    conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
    return conn


def marks(count: int) -> str:
    return ", ".join("?" * count)


def rows_of_marks(rows: int, arity: int) -> str:
    """``(?, ?), (?, ?)``: the VALUES of a multi-row statement."""
    return ", ".join([f"({marks(arity)})"] * rows)


@functools.cache
def update_lives_sql(rows: int) -> str:
    values = rows_of_marks(rows, _LIVE_ARITY)
    return (
        "UPDATE sessions SET state = v.column1, ended_at = v.column2, end_reason = v.column3,"
        " expires_at = v.column4, expiry_reason = v.column5, data = v.column6"
        f" FROM (VALUES {values}) AS v WHERE sessions.id = v.column7"
    )


@functools.cache
def insert_events_sql(rows: int) -> str:
    values = rows_of_marks(rows, _EVENT_ARITY)
    return (
        "INSERT OR IGNORE INTO events (session_id, ts, event_type, playhead, received_at, body)"
        f" VALUES {values}"
    )


@functools.cache
def insert_sessions_sql(rows: int) -> str:
    return f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES {rows_of_marks(rows, _SESSION_ARITY)}"


def id_taken(error: sqlite3.IntegrityError) -> bool:
    """Whether a sessions insert failed because a session of that id exists."""
    return "sessions.id" in str(error)


def write_new_sessions(conn: sqlite3.Connection, sessions: Sequence[Sequence[Any]]) -> None:
    insert_rows(conn, insert_sessions_sql, sessions)


def link_pure(conn: sqlite3.Connection, links: Sequence[Sequence[Any]]) -> None:
    """Visitor links that change no profile: ``(session id, identities, at_ms)`` each."""
    for session_id, identities, at_ms in links:
        link_visitor(conn, session_id, [(kind, value) for kind, value in identities], None, at_ms)


_TENANT, _VISITOR = 8, 7  # in a sessions row (SESSION_COLUMNS)


def claim_new_visitors(
    conn: sqlite3.Connection, sessions: list[list[Any]], links: list[list[Any]]
) -> list[list[Any]]:
    """Before the new sessions are inserted: the visitor of each that names identities,
    decided set-based (``visitor_claims``) and written into its row, so that no statement a
    session looks it up and updates it after (measured: ~6 statements a new SRM session in the
    writer process). Returns the links left for ``link_pure`` after the insert, in order."""
    rows = {row[0]: row for row in sessions if row[_VISITOR] is None}
    new: list[NewLink] = []
    first: set[int] = set()  # positions of the links decided here
    for position, (session_id, identities, at_ms) in enumerate(links):
        row = rows.pop(session_id, None)  # a session's first link only: it creates it
        if row is not None:
            new.append((session_id, row[_TENANT], [(k, v) for k, v in identities], at_ms))
            first.add(position)
    if not new:
        return links
    owner_of: dict[Key, str] = {}
    keys = identity_keys(new)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        # A join on the primary key, not "(tenant, kind, value) IN (VALUES ...)": SQLite 3.40
        # scans the whole table for that one (EXPLAIN QUERY PLAN; SRM setup fell 5.9k -> 2.5k/s).
        found = conn.execute(
            f"WITH w (tenant, kind, value) AS (VALUES {rows_of_marks(len(chunk), 3)})"
            " SELECT i.tenant, i.kind, i.value, i.visitor_id FROM w JOIN visitor_identities i"
            " ON i.tenant = w.tenant AND i.kind = w.kind AND i.value = w.value",
            [part for key in chunk for part in key],
        )
        owner_of.update(((row[0], row[1], row[2]), row[3]) for row in found)
    claims = claim(new, owner_of)
    insert_rows(
        conn,
        _insert_visitors_sql,
        [(visitor, at_ms, EMPTY_PROFILE, tenant) for visitor, at_ms, tenant in claims.new_visitors],
    )
    insert_rows(conn, _insert_identities_sql, claims.identities)
    for row in sessions:
        if row[0] in claims.visitor_of:
            row[_VISITOR] = claims.visitor_of[row[0]]
    # Left for link_pure: merges, and every later link of a session (an update in the batch
    # naming more identities), which find the session's visitor in its row.
    settled = {position for position in first if links[position][0] in claims.visitor_of}
    return [link for position, link in enumerate(links) if position not in settled]


@functools.cache
def _insert_visitors_sql(rows: int) -> str:
    values = ", ".join(["(?, ?, NULL, ?, ?)"] * rows)
    return f"INSERT INTO visitors (id, created_at, merged_into, profile, tenant) VALUES {values}"


@functools.cache
def _insert_identities_sql(rows: int) -> str:
    return (
        "INSERT OR IGNORE INTO visitor_identities (tenant, kind, value, visitor_id)"
        f" VALUES {rows_of_marks(rows, 4)}"
    )


PLAY_LOG_COLUMNS = ", ".join(PlayLog.__struct_fields__)  # the fields are the column names


@functools.cache
def insert_logs_sql(rows: int) -> str:
    values = rows_of_marks(rows, len(PlayLog.__struct_fields__))
    return f"INSERT OR IGNORE INTO play_logs ({PLAY_LOG_COLUMNS}) VALUES {values}"


def insert_play_logs(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> int:
    """Play logs (rows in ``PlayLog``'s field order); how many were new (not duplicates)."""
    before = conn.total_changes
    insert_rows(conn, insert_logs_sql, rows)
    return conn.total_changes - before


def check_request(
    conn: sqlite3.Connection,
    key: str,
    nonce: str,
    timestamp: str,
    now_ms: int,
    forget_before_ms: int,
    rate_per_s: int,
) -> list[Any]:
    """An OAuth nonce claimed (old ones forgotten) and one request taken from the key's rate
    bucket: ``[True]`` when the nonce was seen before (the bucket is not touched), else
    ``[False, *RateDecision's fields]``."""
    conn.execute("DELETE FROM oauth_nonces WHERE seen_at < ?", (forget_before_ms,))
    inserted = conn.execute(
        "INSERT OR IGNORE INTO oauth_nonces (consumer_key, nonce, timestamp, seen_at)"
        " VALUES (?, ?, ?, ?)",
        (key, nonce, timestamp, now_ms),
    ).rowcount
    if inserted == 0:
        return [True]
    row = conn.execute(
        "SELECT tokens, updated_at FROM rate_buckets WHERE key = ?", (key,)
    ).fetchone()
    bucket, decision = take(None if row is None else Bucket(row[0], row[1]), now_ms, rate_per_s)
    conn.execute(
        "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens,"
        " updated_at = excluded.updated_at",
        (key, bucket.tokens, bucket.updated_at),
    )
    return [False, *msgspec.structs.astuple(decision)]


# Writes either writer runs by name (``sqlite_hot.Job``): their answers are plain values.
JOBS: dict[str, Callable[..., Any]] = {
    "play_logs": insert_play_logs,
    "request_check": check_request,
}


def insert_rows(
    conn: sqlite3.Connection, sql_for: Callable[[int], str], rows: Sequence[Sequence[Any]]
) -> None:
    """``rows`` in statements of ``CHUNK`` rows each (``sql_for(n)``: the statement for n)."""
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        conn.execute(sql_for(len(chunk)), [value for row in chunk for value in row])


class Sighting:
    """What one connection of a store last saw of the file: its ``data_version`` then."""

    __slots__ = ("version",)

    def __init__(self) -> None:
        self.version: int | None = None


def check_and_mark(
    conn: sqlite3.Connection,
    seen: Sighting,
    expected: int | None,
    sibling_committed: bool,
    count: bool = True,
) -> tuple[bool, int]:
    """Inside a write transaction: count this commit in ``commit_marks`` and tell whether a
    writer other than this store has committed since the store's last commit (``expected``:
    the count that commit left, None when unknown: then the answer is always yes). Returns
    (foreign, the count this transaction leaves). With ``count=False``, outside a write: only
    look (the count returned is the file's)."""
    version: int = conn.execute("PRAGMA data_version").fetchone()[0]
    if count:
        mark: int = conn.execute("UPDATE commit_marks SET n = n + 1 RETURNING n").fetchone()[0]
        before = mark - 1
    else:
        mark = before = conn.execute("SELECT n FROM commit_marks").fetchone()[0]
    foreign = expected is None or before != expected
    if not sibling_committed and seen.version is not None and version != seen.version:
        foreign = True  # only another process can have moved it: a writer that keeps no count
    seen.version = version
    return foreign, mark


def rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def refusal(message: list[Any]) -> list[Any]:
    """A batch of the same epoch that the child refuses (no count is expected)."""
    epoch = message[0]
    return [epoch, None, True, [], [], [], [], []]


class _Child:
    """The child's side: one connection, the newest epoch of which a batch did not land."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.seen = Sighting()
        self.poisoned = -1

    def write(self, message: list[Any]) -> list[Any]:
        epoch, expected, sibling_committed, sessions, events, lives, links, jobs = message
        if epoch <= self.poisoned:  # planned on a batch that did not land
            return [REFUSED, None]
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            foreign, mark = check_and_mark(conn, self.seen, expected, sibling_committed)
            if foreign:
                rollback(conn)
                self.poisoned = epoch
                return [REFUSED, None]
            links = claim_new_visitors(conn, sessions, links)
            try:
                write_new_sessions(conn, sessions)
            except sqlite3.IntegrityError as error:
                if not id_taken(error):
                    raise
                rollback(conn)  # a race for one id: an answer, not a failure to report
                self.poisoned = epoch
                return [REFUSED, None]
            insert_rows(conn, insert_events_sql, events)
            insert_rows(conn, update_lives_sql, lives)
            link_pure(conn, links)
            results = [JOBS[name](conn, *args) for name, args in jobs]
            conn.execute("COMMIT")
            return [OK, [mark, results]]
        except Exception as error:
            self.poisoned = epoch
            with contextlib.suppress(sqlite3.Error):
                rollback(conn)
            return [FAILED, f"{type(error).__name__}: {error}"]


def serve(path: str, synchronous: str, source: IO[bytes], sink: IO[bytes]) -> None:
    """The child's loop: a batch in, its answer out, until the input closes."""
    child = _Child(connect(path, synchronous))
    decoder = msgspec.msgpack.Decoder(list)
    encoder = msgspec.msgpack.Encoder()
    while True:
        header = source.read(_HEADER.size)
        if len(header) < _HEADER.size:
            break
        (size,) = _HEADER.unpack(header)
        answer = encoder.encode(child.write(decoder.decode(source.read(size))))
        sink.write(_HEADER.pack(len(answer)) + answer)
        sink.flush()
    child.conn.close()


class WriterGoneError(Exception):
    """The writer process ended or could not start; its batches are run again from the file."""


class WriterProcess:
    """The server's side: starts the child, sends batches, resolves each batch's future with
    the child's answer, in order. A child that dies fails every batch it held."""

    def __init__(self, path: str, synchronous: str) -> None:
        self._path = path
        self._synchronous = synchronous
        self._process: asyncio.subprocess.Process | None = None
        self._reading: asyncio.Task[None] | None = None
        self._waiting: deque[asyncio.Future[list[Any]]] = deque()
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(list)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            self._path,
            self._synchronous,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._reading = asyncio.get_running_loop().create_task(self._read_answers())

    def send(self, message: list[Any]) -> asyncio.Future[list[Any]]:
        """Queue ``message`` to the child; the future resolves with its answer."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        process = self._process
        if process is None or process.stdin is None or not self.running:
            future.set_exception(WriterGoneError("the writer process is not running"))
            return future
        try:
            body = self._encoder.encode(message)
        except (OverflowError, TypeError):
            # A value msgpack cannot carry (an integer past 64 bits, say): the child is sent a
            # batch it must refuse instead, so that it also refuses every batch planned on
            # this one (the epoch); the store then runs its writes again one by one.
            body = self._encoder.encode(refusal(message))
        process.stdin.write(_HEADER.pack(len(body)) + body)
        self._waiting.append(future)
        return future

    async def _read_answers(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        try:
            while True:
                (size,) = _HEADER.unpack(await stdout.readexactly(_HEADER.size))
                answer = self._decoder.decode(await stdout.readexactly(size))
                future = self._waiting.popleft()
                if not future.done():
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            self._fail_waiting()

    def _fail_waiting(self) -> None:
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(WriterGoneError("the writer process ended"))

    async def close(self) -> None:
        """Close the child's input and wait for it to finish what it holds and exit."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        if self._reading is not None:
            await self._reading
            self._reading = None


if __name__ == "__main__":
    collector.settle()  # each batch decodes thousands of containers, none of them in a cycle
    serve(sys.argv[1], sys.argv[2], sys.stdin.buffer, sys.stdout.buffer)
