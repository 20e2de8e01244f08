"""Leases and admission of playback sessions in Redis; the database keeps the records.

Every decision is one Lua script, so it is atomic across all instances sharing the Redis:

- ``{p}s:{sid}``: hash of a live session (account, device, content, start, lease length);
- ``{p}a:{account}``: sorted set of the account's live session ids, scored by lease expiry
  (``+inf`` when keep-alive is disabled); admission reads and changes only this;
- ``{p}leases``: every expiring lease, scored by expiry; sweepers pop due ones atomically, so
  each lapsed lease is ended by exactly one sweeper, at its expiry;
- ``{p}e:{sid}``: how an ended session ended, kept ten minutes, so a keep-alive that comes late gets
  the right answer before (and after) the database has caught up;
- ``{p}ends``: a stream of every end decided here, written to the database by whichever
  instance reads it (a consumer group; entries are acknowledged only once written, and a dead
  instance's entries are claimed by others). Writing an end is idempotent, so a retry is safe;
- ``{p}ready``: set once the live sessions in the database were loaded (see ``_rebuild``). A
  Redis that restarts empty is loaded again before it decides anything: every session still
  active in the database gets a fresh lease, so admission counts too many for one lease
  period rather than too few.

Keys are derived inside the scripts, which suits a single Redis (with replicas), not Redis
Cluster. A keep-alive touches only Redis; setup and teardown also write the database.

Setup decides in Redis first, then writes the row; if the write fails the admission is undone.
A process killed between the two leaves a lease without a row: it counts until it lapses (one
lease period), or, with keep-alive disabled, until an operator deletes ``{p}s:{sid}`` and its
entry in ``{p}a:{account}``. Admission may then count one too many, never one too few.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import uuid
from typing import Any

import msgspec

from sessionhub.core.admission import AdmissionDecision, LiveSession
from sessionhub.core.clock import Clock
from sessionhub.core.contracts import LeaseStore, SessionStore
from sessionhub.core.end_reasons import EXPIRED
from sessionhub.core.errors import StoreUnavailableError
from sessionhub.core.leases import (
    PLAYBACK_APIS,
    SWEEP_CHUNK,
    DatabaseLeases,
    checked,
    decode_state,
    ending,
)
from sessionhub.core.records import (
    AdmissionPolicy,
    Change,
    LeaseCheck,
    LeaseStatus,
    LiveState,
    SessionRecord,
)
from sessionhub.stores.redis import RedisClient, redis_errors
from sessionhub.stores.redis_lease_scripts import (
    ADMIT,
    CHECK,
    END,
    ENDED_KEPT_MS,
    FORGET,
    GROUP,
    LOOK,
    NOT_READY,
    RENEW,
    RESTORE,
    STALE_MS,
    SWEEP,
)

log = logging.getLogger(__name__)
MAX_WRITE_ROUNDS = 50  # per writer and sweep, so one sweep ends even while ends keep arriving
WRITERS = 2  # concurrent writers of the ends stream during a sweep (database connections)


class RedisLeases(LeaseStore):
    def __init__(self, redis: RedisClient, store: SessionStore, clock: Clock) -> None:
        self._redis = redis
        self._store = store
        self._clock = clock
        self._database = DatabaseLeases(store)  # sessions Redis does not keep (other APIs)
        self._consumer = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._admit = redis.script(ADMIT)
        self._renew = redis.script(RENEW)
        self._end = redis.script(END)
        self._sweep = redis.script(SWEEP)
        self._look = redis.script(LOOK)
        self._check = redis.script(CHECK)
        self._forget = redis.script(FORGET)
        self._restore = redis.script(RESTORE)
        self._rebuilding = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RedisLeases({self._redis!r})"

    @property
    def _head(self) -> list[Any]:
        return [self._redis.prefix, ENDED_KEPT_MS]

    async def open(self) -> None:
        exceptions = redis_errors()
        try:
            await self._redis.call(
                lambda: self._redis.redis.xgroup_create(
                    f"{self._redis.prefix}ends", GROUP, id="0", mkstream=True
                )
            )
        except exceptions.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        await self._rebuild()

    async def close(self) -> None:
        """The Redis client and the store belong to the app."""

    async def ping(self) -> None:
        await self._redis.ping()

    async def admit(
        self, record: SessionRecord, limit: int, policy: AdmissionPolicy, now_ms: int
    ) -> AdmissionDecision:
        lease_ms = decode_state(record.live.data).timeout_ms
        args = [
            now_ms,
            record.id,
            record.account_id or "",
            record.device_id or "",
            record.content_id or "",
            record.started_at,
            lease_ms,
            limit,
            policy,
        ]
        result = await self._run(self._admit, args)
        if int(result[0]) == 0:
            fields = [_text(value) for value in result[1:]]
            conflicts = [
                LiveSession(sid, device or None, content or None, int(started))
                for sid, device, content, started in _groups(fields, 4)
            ]
            return AdmissionDecision(False, [], conflicts)
        ended = [(sid, reason) for sid, reason in _groups([_text(v) for v in result[1:]], 2)]
        # The row carries no expiry: the lease lives here, and the database's own sweep must
        # leave it alone. Ends of replaced or evicted sessions reach the rows through the stream.
        row = msgspec.structs.replace(
            record, live=msgspec.structs.replace(record.live, expires_at=None)
        )
        try:
            await self._store.create_session(row, [])
        except BaseException:
            await self._run(self._forget, [record.id])
            raise
        return AdmissionDecision(True, ended, [])

    async def renew(self, session_id: str, account_id: str, now_ms: int) -> LeaseStatus:
        result = await self._run(self._renew, [session_id, account_id, now_ms])
        if int(result[0]) == 0:  # not in Redis: only the database can tell
            return await self._recorded(session_id, account_id)
        return _status(result)

    async def end(
        self, session_id: str, account_id: str | None, now_ms: int, reason: str
    ) -> LeaseStatus:
        result = await self._run(self._end, [session_id, account_id or "", now_ms, reason])
        code = int(result[0])
        if code == 0:  # not a lease kept here: another API's session, or long over
            return await self._database.end(session_id, account_id, now_ms, reason)
        status = _status(result)
        if status.changed:  # ended by this call: durable in the database before answering
            await self._store.update_session(session_id, ending(None, now_ms, reason))
        return status

    async def check(self, session_id: str, now_ms: int) -> LeaseCheck:
        result = await self._run(self._check, [now_ms, session_id])
        code = int(result[0])
        if code == 1:
            account, device, content, expiry = (_text(value) for value in result[1:5])
            expires_at = None if expiry == "inf" else int(float(expiry))
            return LeaseCheck("live", None, account, device or None, content or None, expires_at)
        if code == 2:
            return LeaseCheck("ended", _text(result[1]))
        # Not kept here: another API's session, one long over, or none; the row decides. An
        # active row without a lease here ended so long ago that the note is gone.
        found = checked(await self._store.get_session(session_id), now_ms)
        return LeaseCheck("ended", EXPIRED) if found.state == "live" else found

    async def sweep(self, now_ms: int) -> int:
        """End every due lease in Redis and write the ends down while more are being popped.

        One script pops ``SWEEP_CHUNK`` due leases at a time; meanwhile ``WRITERS`` tasks each
        read a chunk of the ends stream and write it with one set-based statement, so a mass
        expiry is written down by several database connections at once instead of after it
        has all been popped.
        """
        await self._write_entries("0")  # this instance's unacknowledged entries: a failed write
        popped = asyncio.Event()

        async def pop() -> int:
            ended = 0
            try:
                while True:
                    count = int((await self._run(self._sweep, [now_ms, SWEEP_CHUNK]))[0])
                    ended += count
                    if count < SWEEP_CHUNK:
                        return ended
            finally:
                popped.set()

        async def write() -> None:
            for _ in range(MAX_WRITE_ROUNDS):
                written = await self._write_entries(">")
                if written < SWEEP_CHUNK and popped.is_set():
                    return
                if written == 0:
                    await asyncio.sleep(0.005)  # the popper has not added more yet

        writers = [asyncio.create_task(write()) for _ in range(WRITERS)]
        try:
            ended = await pop()
        finally:
            await asyncio.gather(*writers)
        await self._claim_abandoned()
        return ended + await self._database.sweep(now_ms)

    async def _write_entries(self, start: str) -> int:
        """Read up to a chunk of the ends stream (``0``: ours not yet acknowledged; ``>``: new)
        and write it to the database; returns how many were written."""
        stream = f"{self._redis.prefix}ends"
        client = self._redis.redis
        reply = await self._redis.call(
            functools.partial(
                client.xreadgroup, GROUP, self._consumer, {stream: start}, count=SWEEP_CHUNK
            )
        )
        written = 0
        for _, entries in reply or []:
            written += await self._write(stream, entries)
        return written

    async def _claim_abandoned(self) -> None:
        """Write the entries another instance read and never acknowledged (it may have died)."""
        stream = f"{self._redis.prefix}ends"
        client = self._redis.redis
        claimed = await self._redis.call(
            lambda: client.xautoclaim(
                stream, GROUP, self._consumer, STALE_MS, "0-0", count=SWEEP_CHUNK
            )
        )
        await self._write(stream, claimed[1])

    async def current(self, records: list[SessionRecord], now_ms: int) -> list[SessionRecord]:
        kept = [r for r in records if r.live.api in PLAYBACK_APIS and r.live.state == "active"]
        if not kept:
            return records
        args: list[Any] = []
        for record in kept:
            args += [record.id, record.account_id or ""]
        looks = await self._run(self._look, args)
        found: dict[str, SessionRecord] = {}
        for record, look in zip(kept, looks, strict=True):
            live = record.live
            if int(look[0]) == 1:
                expiry = _text(look[1])
                expires_at = None if expiry == "inf" else int(float(expiry))
                live = msgspec.structs.replace(live, expires_at=expires_at)
            elif int(look[0]) == 2:
                ended_at = int(float(_text(look[2])))
                live = live.end(ended_at, _text(look[1]))
            found[record.id] = msgspec.structs.replace(record, live=live)
        return [found.get(record.id, record) for record in records]

    async def _write(self, stream: str, entries: list[Any]) -> int:
        if not entries:
            return 0
        ids, ends = [], []
        for entry_id, fields in entries:
            ids.append(entry_id)
            if fields is None:  # trimmed away meanwhile
                continue
            values = {_text(k): _text(v) for k, v in fields.items()}
            ends.append((values["s"], int(float(values["t"])), values["r"]))
        await self._store.end_sessions(ends)  # one set-based write for the whole read
        client = self._redis.redis
        await self._redis.call(lambda: client.xack(stream, GROUP, *ids))
        await self._redis.call(lambda: client.xdel(stream, *ids))
        return len(ends)

    async def _recorded(self, session_id: str, account_id: str) -> LeaseStatus:
        """Redis is ready and does not know the session: the record decides."""
        record = await self._store.get_session(session_id)
        if record is None or record.account_id != account_id:
            return LeaseStatus("unknown")
        if record.live.api not in PLAYBACK_APIS:
            return LeaseStatus("unknown")
        if record.live.state == "ended":
            return LeaseStatus("ended", record.live.end_reason)
        # Active in the row yet no lease here: it ended here so long ago that the note of it
        # is gone and the row has not caught up. It can only have lapsed.
        return LeaseStatus("ended", EXPIRED)

    async def _run(self, script: Any, args: list[Any]) -> Any:
        result = await script([], self._head + args)
        if isinstance(result, list) and result and result[0] == NOT_READY:
            await self._rebuild()
            result = await script([], self._head + args)
            if isinstance(result, list) and result and result[0] == NOT_READY:
                raise StoreUnavailableError("Redis lost its leases and is being loaded again")
        return result

    async def _rebuild(self) -> None:
        """Load the database's live playback sessions, once per empty Redis (see module doc)."""
        async with self._rebuilding:
            client, prefix = self._redis.redis, self._redis.prefix
            if await self._redis.call(lambda: client.exists(f"{prefix}ready")):
                return
            token = uuid.uuid4().hex
            lock = f"{prefix}loading"
            if not await self._redis.call(lambda: client.set(lock, token, nx=True, px=60_000)):
                for _ in range(600):  # another instance loads; wait for it
                    await asyncio.sleep(0.1)
                    if await self._redis.call(lambda: client.exists(f"{prefix}ready")):
                        return
                raise StoreUnavailableError("Redis is being loaded by another instance")
            loaded = await self._load_live_sessions()
            await self._redis.call(lambda: client.set(f"{prefix}ready", "1"))
            await self._redis.call(lambda: client.delete(lock))
            log.info("loaded %d live playback sessions into Redis", loaded)

    async def _load_live_sessions(self) -> int:
        """Every live playback session (SRM and listeners) into Redis; returns how many."""
        loaded = 0
        for api in PLAYBACK_APIS:
            loaded += await self._load_live(api)
        return loaded

    async def _load_live(self, api: str) -> int:
        now, loaded, before = self._clock.now_ms(), 0, None
        while True:
            page = await self._store.list_sessions(
                api=api, state="active", limit=1000, before_id=before
            )
            if not page:
                return loaded
            before = page[-1].id
            args: list[Any] = [self._redis.prefix]
            handed_over = []
            for record in page:
                if record.live.lapsed(now):
                    continue  # the database's sweep ends it
                state = decode_state(record.live.data)
                expiry = record.live.expires_at
                if expiry is not None:
                    handed_over.append(record.id)  # a lease the database kept until now
                elif state.timeout_ms:
                    expiry = now + state.timeout_ms  # kept here before and lost: a fresh lease
                args += [
                    record.id,
                    state.account_id,
                    state.device_id,
                    record.content_id or "",
                    record.started_at,
                    state.timeout_ms,
                    "+inf" if expiry is None else expiry,
                ]
            await self._restore([], args)
            # From now on the lease is kept here: the row's expiry must not end it.
            await asyncio.gather(
                *(self._store.update_session(sid, _no_expiry) for sid in handed_over)
            )
            loaded += len(page)


def _no_expiry(live: LiveState | None) -> Change[None]:
    if live is None or live.state != "active" or live.expires_at is None:
        return Change(None, [], None)
    return Change(msgspec.structs.replace(live, expires_at=None), [], None)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _groups(values: list[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(values[i : i + size]) for i in range(0, len(values), size)]


def _status(result: list[Any]) -> LeaseStatus:
    code = int(result[0])
    if code == 1:
        return LeaseStatus("live")
    if code == 3:
        return LeaseStatus("unknown")
    return LeaseStatus("ended", _text(result[1]), changed=code == 4)
