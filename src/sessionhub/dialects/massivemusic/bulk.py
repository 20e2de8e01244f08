"""Bulk import of preview play logs from a file (CSV or JSON lines), for partners who send files
instead of requests (the seed's "bulk via S3" case). Same rules as the API, line by line.

Two passes over the file, so it is never held in memory: the first checks every line; the second,
only if no line is bad (or ``skip_bad`` is set), stores the good ones in batches.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import msgspec

from sessionhub.core.playlogs import LogProblem, PlayLogService, to_ms, truncate_user_agent
from sessionhub.core.records import PlayLog
from sessionhub.dialects.massivemusic import schemas
from sessionhub.dialects.massivemusic.routes import problem_of

FileFormat = Literal["csv", "jsonl"]
BATCH = 5000
_decode_line = schemas.ENTRY_DECODERS["preview"].decode


class ImportResult(msgspec.Struct):
    lines: int
    bad: int
    stored: int  # new logs stored (duplicates of stored logs are skipped)
    imported: bool


def format_of(path: Path) -> FileFormat:
    return "csv" if path.suffix.lower() in (".csv", ".tsv") else "jsonl"


def _entries(path: Path, fmt: FileFormat) -> Iterator[tuple[int, schemas.PreviewLog | str]]:
    """(line number, entry or the reason it could not be read)."""
    with path.open(newline="", encoding="utf-8") as handle:
        if fmt == "jsonl":
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, _decode_line(line.encode())
                except msgspec.ValidationError as error:
                    yield number, str(error)
                except msgspec.DecodeError as error:
                    yield number, f"not JSON ({error})"
        else:
            dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
            for number, row in enumerate(csv.DictReader(handle, dialect=dialect), start=2):
                present = {k: v for k, v in row.items() if k and v not in (None, "")}
                try:
                    yield number, msgspec.convert(present, schemas.PreviewLog, strict=False)
                except msgspec.ValidationError as error:
                    yield number, str(error)


async def import_file(
    path: Path,
    consumer_key: str,
    service: PlayLogService,
    *,
    fmt: FileFormat | None = None,
    skip_bad: bool = False,
    on_problem: Callable[[LogProblem], None] = lambda problem: None,
) -> ImportResult:
    fmt = fmt or format_of(path)
    lines = bad = 0
    for number, entry in _entries(path, fmt):
        lines += 1
        problems = _check(number, entry, service)
        bad += bool(problems)
        for problem in problems:
            on_problem(problem)
    if bad and not skip_bad:
        return ImportResult(lines, bad, 0, imported=False)
    stored = 0
    batch: list[PlayLog] = []
    now = service.now_ms()
    for number, entry in _entries(path, fmt):
        if isinstance(entry, str) or _check(number, entry, service):
            continue
        batch.append(
            PlayLog(
                consumer_key=consumer_key,
                kind="preview",
                user_id=entry.userId,
                country=entry.country.upper(),
                track_id=entry.trackId,
                played_at=to_ms(entry.dateTimePlayed),
                total_time_played=entry.totalTimePlayed,
                user_agent=truncate_user_agent(entry.userAgent),
                play_type=entry.playType,
                play_mode=entry.playMode,
                release_id=None,
                format_id=None,
                end_reason=None,
                received_at=now,
            )
        )
        if len(batch) >= BATCH:
            stored += await service.record(batch)
            batch = []
    if batch:
        stored += await service.record(batch)
    return ImportResult(lines, bad, stored, imported=True)


def _check(
    number: int, entry: schemas.PreviewLog | str, service: PlayLogService
) -> list[LogProblem]:
    if isinstance(entry, str):
        return [problem_of(number, entry)]
    return service.check(
        number,
        entry.country.upper(),
        to_ms(entry.dateTimePlayed),
        entry.userId,
        entry.trackId,
        entry.totalTimePlayed,
        (entry.userAgent,),
    )


__all__ = ["ImportResult", "import_file"]
