"""Records to and from table rows, shared by the SQL backends (SQLite and PostgreSQL).

Both keep the same columns in the same order; only their placeholders and drivers differ.
Booleans pass through ``bool()`` because SQLite returns them as integers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from sessionhub.core.records import (
    Account,
    ClientToken,
    Content,
    Device,
    EventRecord,
    LiveState,
    SessionRecord,
)

LIVE_COLUMNS = "api, state, ended_at, end_reason, expires_at, expiry_reason, data"
SESSION_COLUMNS = (
    "id, started_at, params, custom_metadata, account_id, device_id, content_id, visitor_id,"
    f" tenant, {LIVE_COLUMNS}"
)
# The columns a session list may be filtered on by equality (the operator's filters).
SESSION_FILTERS = ("account_id", "tenant", "api", "visitor_id", "content_id")


def list_sessions_sql(
    arg: Callable[[Any], str],
    *,
    state: str | None,
    now_ms: int | None,
    before_id: str | None,
    limit: int,
    equal: dict[str, str | None],
) -> str:
    """The one session-list query of both SQL stores, newest first; ``arg`` binds a value and
    returns its placeholder (``?`` or ``$n``). ``equal`` names columns of ``SESSION_FILTERS``.
    With ``now_ms``, ``state`` is judged as of then (a lapsed lease counts as ended)."""
    where: list[str] = []
    for column, value in equal.items():
        assert column in SESSION_FILTERS, column
        if value is not None:
            where.append(f"{column} = {arg(value)}")
    if state is not None:
        if now_ms is None:
            where.append(f"state = {arg(state)}")
        else:
            lapsed = (
                f"(state = 'active' AND expires_at IS NOT NULL AND expires_at <= {arg(now_ms)})"
            )
            where.append(
                f"state = 'active' AND NOT {lapsed}"
                if state == "active"
                else f"(state = 'ended' OR {lapsed})"
            )
    if before_id is not None:  # the cursor: what sorts after the last row of the page before
        where.append(
            f"(started_at, id) < (SELECT started_at, id FROM sessions WHERE id = {arg(before_id)})"
        )
    sql = f"SELECT {SESSION_COLUMNS} FROM sessions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + f" ORDER BY started_at DESC, id DESC LIMIT {arg(limit)}"


ACCOUNT_COLUMNS = (
    "id, enabled, max_sessions, policy, lease_timeout_s, password_hash, created_at, tenant"
)
TOKEN_COLUMNS = "token_hash, account_id, device_id, issued_at, expires_at, revoked"
# token, its account and its device in one row: what every SRM call needs
CREDENTIALS_SELECT = (
    f"SELECT {', '.join('t.' + c for c in TOKEN_COLUMNS.split(', '))},"
    f" {', '.join('a.' + c for c in ACCOUNT_COLUMNS.split(', '))}, d.enabled, d.created_at"
    " FROM client_tokens t LEFT JOIN accounts a ON a.id = t.account_id"
    " LEFT JOIN devices d ON d.account_id = t.account_id AND d.device_id = t.device_id"
)
# (content_id, content_type or NULL, entitled): the PAV step of one setup, for SQLite
ENTITLEMENT_SELECT = (
    "SELECT k.content_id, c.content_type, EXISTS (SELECT 1 FROM entitlements e"
    " WHERE e.account_id = k.account_id AND e.content_id = k.content_id)"
    " FROM (SELECT ? AS account_id, ? AS content_id) AS k"
    " LEFT JOIN content c ON c.content_id = k.content_id"
)
_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.decode


def session_row(record: SessionRecord) -> tuple[Any, ...]:
    live = record.live
    return (
        record.id,
        record.started_at,
        _json_encode(record.params).decode(),
        _json_encode(record.custom_metadata).decode(),
        record.account_id,
        record.device_id,
        record.content_id,
        record.visitor_id,
        record.tenant,
        live.api,
        live.state,
        live.ended_at,
        live.end_reason,
        live.expires_at,
        live.expiry_reason,
        live.data,
    )


def session_from(row: Sequence[Any]) -> SessionRecord:
    return SessionRecord(
        id=row[0],
        started_at=row[1],
        params=_json_decode(row[2]),
        custom_metadata=_json_decode(row[3]),
        account_id=row[4],
        device_id=row[5],
        content_id=row[6],
        visitor_id=row[7],
        tenant=row[8],
        live=LiveState(*row[9:]),
    )


def live_update_args(live: LiveState, session_id: str) -> tuple[Any, ...]:
    """Arguments of ``UPDATE sessions SET state, ended_at, end_reason, expires_at,
    expiry_reason, data WHERE id``, in that order."""
    return (
        live.state,
        live.ended_at,
        live.end_reason,
        live.expires_at,
        live.expiry_reason,
        live.data,
        session_id,
    )


def event_row(event: EventRecord) -> tuple[Any, ...]:
    return (
        event.session_id,
        event.ts,
        event.event_type,
        event.playhead,
        event.received_at,
        event.body,
    )


def account_row(account: Account) -> tuple[Any, ...]:
    return (
        account.id,
        account.enabled,
        account.max_sessions,
        account.policy,
        account.lease_timeout_s,
        account.password_hash,
        account.created_at,
        account.tenant,
    )


def account_from(row: Sequence[Any]) -> Account:
    return Account(row[0], bool(row[1]), row[2], row[3], row[4], row[5], row[6], row[7])


def token_row(token: ClientToken) -> tuple[Any, ...]:
    return (
        token.token_hash,
        token.account_id,
        token.device_id,
        token.issued_at,
        token.expires_at,
        token.revoked,
    )


def token_from(row: Sequence[Any]) -> ClientToken:
    return ClientToken(row[0], row[1], row[2], row[3], row[4], revoked=bool(row[5]))


def credentials_from(
    row: Sequence[Any] | None,
) -> tuple[ClientToken, Account | None, Device | None] | None:
    """A ``CREDENTIALS_SELECT`` row as (token, account or None, device or None)."""
    if row is None:
        return None
    account = None if row[6] is None else account_from(row[6:14])
    device = None if row[14] is None else Device(row[1], row[2], bool(row[14]), row[15])
    return token_from(row[:6]), account, device


def entitlement_from(row: Sequence[Any]) -> tuple[Content | None, bool]:
    """A (content_id, content_type or None, entitled) row as (content or None, entitled)."""
    content = None if row[1] is None else Content(row[0], row[1])
    return content, bool(row[2])
