"""Royalty reports rendered as CSV, TSV or JSON, a chunk at a time (CLI and admin API share it)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from typing import Literal

import msgspec

from sessionhub.core.errors import InvalidInputError
from sessionhub.core.playlogs import REPORT_DIMENSIONS, PlayLogService, ReportDimension
from sessionhub.core.records import ReportRow
from sessionhub.web import Response

ReportFormat = Literal["csv", "tsv", "json"]
FORMATS: tuple[ReportFormat, ...] = ("csv", "tsv", "json")
MEDIA_TYPES = {"csv": b"text/csv", "tsv": b"text/tab-separated-values", "json": b"application/json"}
ROWS_PER_CHUNK = 500


def parse_dimensions(text: str) -> list[ReportDimension]:
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    bad = [part for part in wanted if part not in REPORT_DIMENSIONS]
    if bad or not wanted:
        known = ", ".join(REPORT_DIMENSIONS)
        raise InvalidInputError(
            f"group by one or more of {known}; not {', '.join(bad) or '(none)'}"
        )
    return wanted  # type: ignore[return-value]


def parse_day(text: str, *, end: bool = False) -> int:
    """``YYYY-MM-DD`` (or a full ISO 8601 time) as UTC ms; an end date counts its whole day."""
    try:
        if len(text) == 10:
            day = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            return int((day + dt.timedelta(days=1 if end else 0)).timestamp() * 1000)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


async def render(
    rows: AsyncIterator[ReportRow], by: list[ReportDimension], fmt: ReportFormat
) -> AsyncIterator[bytes]:
    """The report, as bytes, in chunks of ``ROWS_PER_CHUNK`` rows."""
    if fmt == "json":
        async for chunk in _json(rows):
            yield chunk
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
    writer.writerow([*by, "plays", "seconds"])
    count = 0
    async for row in rows:
        writer.writerow([*(row.keys[name] for name in by), row.plays, row.seconds])
        count += 1
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def _json(rows: AsyncIterator[ReportRow]) -> AsyncIterator[bytes]:
    encode = msgspec.json.Encoder().encode
    parts: list[bytes] = []
    first = True
    yield b"["
    async for row in rows:
        item = {**row.keys, "plays": row.plays, "seconds": row.seconds}
        parts.append(encode(item) if first else b"," + encode(item))
        first = False
        if len(parts) >= ROWS_PER_CHUNK:
            yield b"".join(parts)
            parts = []
    parts.append(b"]\n")
    yield b"".join(parts)


async def respond(playlogs: PlayLogService, query: dict[str, str]) -> Response:
    """The report a query asks for (from, to, by, format) as a streamed response; bad
    arguments raise ``InvalidInputError`` before the first byte (admin API and dashboard)."""
    if "from" not in query or "to" not in query:
        raise InvalidInputError("give from and to (YYYY-MM-DD, the end day included)")
    fmt = query.get("format", "json")
    if fmt not in FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}")
    by = parse_dimensions(query.get("by", "track,country"))
    start, end = parse_day(query["from"]), parse_day(query["to"], end=True)
    rows = playlogs.report(start, end, by)
    first = await anext(rows, None)  # surface bad arguments as 400 before streaming

    async def all_rows() -> AsyncIterator[ReportRow]:
        if first is not None:
            yield first
            async for row in rows:
                yield row

    stream = render(all_rows(), by, fmt)
    return Response(200, media_type=MEDIA_TYPES[fmt], stream=stream)
