"""The PostgreSQL store's way for updates: read without a lock, plan, write checked.

The locked way costs a batch five round trips (BEGIN, SELECT ... FOR UPDATE, INSERT events,
UPDATE sessions, COMMIT) and PostgreSQL a row lock written into every row it reads. On two
cores much of that is the trips themselves: each is a socket write that wakes another process
(py-spy with native frames put a third of a worker's busy time in the writes to PostgreSQL).

So a batch of updates reads its sessions' states with each row version's ``xmin`` (the
transaction that wrote that version: every update of a row changes it, a row lock does not),
runs the updaters on the loop, and writes in one statement outside any explicit transaction
(``WRITE_CHECKED``): a row is updated only if its xmin is still the one read, a session's events
are inserted only if its row was, and an answer that changed nothing is confirmed by the same
check in the same snapshot. Two trips, no lock held between them. What the statement does not
confirm (another batch, instance, the CLI or the sweep wrote the row in between) runs again
the locked way, in arrival order with the rest of its session's writes.

Why not remember states in the process and skip the read: measured with two workers, pings of
one session reach either worker (a player's next ping often comes on a new connection), so a
remembered version was stale about half the time and the retries cost more than the reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sessionhub.core.records import LiveState
from sessionhub.stores.rows import LIVE_COLUMNS, event_row, live_update_args

_LIVE_SET = (
    "state = v.state, ended_at = v.ended_at, end_reason = v.end_reason,"
    " expires_at = v.expires_at, expiry_reason = v.expiry_reason, data = v.data,"
    # Only an expiry moving earlier lowers sweep_at; a renewal leaves every indexed column as
    # it was, so PostgreSQL can write the new row version on its page without touching an
    # index (a heap-only update). LEAST ignores NULL: an expiry going away leaves it be.
    " sweep_at = LEAST(s.sweep_at, v.expires_at)"
)


def unnest(first: int, types: Sequence[str]) -> str:
    """``unnest($first::type[], ...)``: one array parameter a column, numbered from ``first``
    (a batch's rows as one statement: one plan, one execution, however many rows)."""
    return "unnest(" + ", ".join(f"${first + n}::{t}[]" for n, t in enumerate(types)) + ")"


_EVENT_COLUMNS = "session_id, ts, event_type, playhead, received_at, body"  # ``event_row``
_EVENT_TYPES = ("text", "bigint", "text", "float8", "bigint", "bytea")


def insert_events(first: int, *, only_of: str = "") -> str:
    """The events of a batch (parameters ``first`` to ``first + 5``), each stored once; with
    ``only_of`` (a query of session ids), only the events of those sessions."""
    where = f" WHERE ev.session_id IN ({only_of})" if only_of else ""
    return (
        f"INSERT INTO events ({_EVENT_COLUMNS}) SELECT * FROM {unnest(first, _EVENT_TYPES)}"
        f" AS ev ({_EVENT_COLUMNS}){where} ON CONFLICT (session_id, ts, event_type) DO NOTHING"
    )


def _live_values(first: int, *, seen: bool = False) -> str:
    """``unnest`` of live-state columns from parameter ``$first`` on (and each row's version)."""
    types = ["text", "bigint", "text", "bigint", "text", "bytea", "text"] + ["xid"] * seen
    names = "state, ended_at, end_reason, expires_at, expiry_reason, data, id" + ", seen" * seen
    return f"{unnest(first, types)} AS v({names})"


# The locked way's write of changed states (its rows are locked: no version to check).
UPDATE_LIVES = f"UPDATE sessions AS s SET {_LIVE_SET} FROM {_live_values(1)} WHERE s.id = v.id"
# The rows a batch of updates is planned on, with their versions (no lock: see WRITE_CHECKED).
READ_LIVES = f"SELECT id, xmin, {LIVE_COLUMNS} FROM sessions WHERE id = ANY($1::text[])"
INSERT_EVENTS = insert_events(1)
# One statement, no explicit transaction: states where the version is still the one read and
# planned on ($1-$8), the events of exactly those sessions ($9-$14), and the versions of
# sessions only read ($15, $16). Returns the id of every session it confirms.
WRITE_CHECKED = (
    f"WITH u AS (UPDATE sessions AS s SET {_LIVE_SET} FROM {_live_values(1, seen=True)}"
    " WHERE s.id = v.id AND s.xmin = v.seen RETURNING s.id),"
    f" e AS ({insert_events(9, only_of='SELECT id FROM u')})"
    " SELECT id FROM u UNION ALL SELECT s.id FROM sessions AS s"
    " JOIN unnest($15::text[], $16::xid[]) AS r(id, seen) ON s.id = r.id WHERE s.xmin = r.seen"
)


class Plan(NamedTuple):
    """A batch planned on states read without a lock: what to write, and the outcomes to
    answer once the write confirms their sessions."""

    args: list[list[Any]]
    outcomes: dict[int, Any]  # an item's position -> its result
    sessions: dict[str, LiveState]  # the sessions to confirm, as the write leaves them


def plan(items: Sequence[tuple[str, Any]], rows: Sequence[Sequence[Any]]) -> Plan:
    """Run the updaters of ``items`` (session id, updater) in arrival order on the states of
    ``rows`` (``READ_LIVES``). A session goes the locked way whole when an updater failed on
    it (its state may have moved since the read), links visitors (that needs a transaction) or
    was not found (nothing to check a version against)."""
    lives: dict[str, LiveState] = {row[0]: LiveState(*row[2:]) for row in rows}
    versions: dict[str, int] = {row[0]: row[1] for row in rows}
    changed: set[str] = set()  # sessions with a new state or events
    events: list[tuple[Any, ...]] = []
    outcomes: dict[int, Any] = {}
    locked: set[str] = set()
    for index, (session_id, updater) in enumerate(items):
        if session_id in locked:
            continue
        if session_id not in lives:
            locked.add(session_id)
            continue
        try:
            change = updater(lives[session_id])
        except Exception:  # judged again on the row as it is now, under its lock
            locked.add(session_id)
            continue
        if change.identities or change.visitor_change is not None:
            locked.add(session_id)
            continue
        if change.live is not None:
            lives[session_id] = change.live
            changed.add(session_id)
        if change.events:
            changed.add(session_id)
            events.extend(event_row(event) for event in change.events)
        outcomes[index] = change.result
    # In id order, as the locked way locks: two instances' statements never wait on each
    # other in a circle.
    written = sorted(changed - locked)
    read_only = [sid for sid in lives if sid not in changed and sid not in locked]
    states = [(*live_update_args(lives[sid], sid), versions[sid]) for sid in written]
    events = [row for row in events if row[0] not in locked]
    args = [
        *columns(states, 8),
        *columns(events, 6),
        read_only,
        [versions[sid] for sid in read_only],
    ]
    for index, (session_id, _) in enumerate(items):
        if session_id in locked:
            outcomes.pop(index, None)
    sessions = {sid: live for sid, live in lives.items() if sid not in locked}
    return Plan(args, outcomes, sessions)


def columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows turned into one list a column, for ``unnest``."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width
