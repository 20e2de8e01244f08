"""``sessionhub consumers|report|playlogs`` against a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sessionhub.cli import main


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SESSIONHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'plays.db'}")
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["consumers", "add", "partner", "--secret-stdin", "--countries", "gb,us"],
        input="partner-secret\n",
    )
    assert added.exit_code == 0, added.output
    assert "GB,US" in added.output
    return runner


def line(n: int, **changes: object) -> dict[str, object]:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=n)
    entry: dict[str, object] = {
        "userId": f"u{n}",
        "country": "GB",
        "trackId": 100 + n % 2,
        "playMode": "online",
        "dateTimePlayed": when.isoformat(),
        "totalTimePlayed": 60,
        "userAgent": "tv",
    }
    entry.update(changes)
    return entry


def test_consumer_rules(runner: CliRunner) -> None:
    bad = runner.invoke(
        main, ["consumers", "add", "k2", "--secret", "long-enough", "--countries", "XX"]
    )
    assert bad.exit_code == 1 and "ISO 3166" in bad.output
    again = runner.invoke(
        main, ["consumers", "add", "partner", "--secret", "long-enough", "--countries", "GB"]
    )
    assert again.exit_code == 1 and "exists already" in again.output


def test_import_jsonl_all_or_nothing_then_report(runner: CliRunner, tmp_path: Path) -> None:
    good = [line(n) for n in range(6)]
    path = tmp_path / "logs.jsonl"
    lines = [json.dumps(entry) for entry in good]
    lines.insert(2, json.dumps(line(9, country="ZZ")))
    lines.insert(4, "{not json")
    path.write_text("\n".join(lines) + "\n")

    refused = runner.invoke(main, ["playlogs", "import", str(path), "--consumer", "partner"])
    assert refused.exit_code == 1
    assert "line 3: 1002" in refused.output and "line 5:" in refused.output
    assert "nothing imported" in refused.output

    imported = runner.invoke(
        main, ["playlogs", "import", str(path), "--consumer", "partner", "--skip-bad"]
    )
    assert imported.exit_code == 0, imported.output
    assert "8 lines, 2 bad, 6 new logs stored" in imported.output
    again = runner.invoke(
        main, ["playlogs", "import", str(path), "--consumer", "partner", "--skip-bad"]
    )
    assert "0 new logs stored" in again.output  # duplicates are stored once

    report = report_since_yesterday(runner, "--by", "track", "--format", "csv")
    assert report.exit_code == 0, report.output
    assert report.output.splitlines() == ["track,plays,seconds", "100,3,180", "101,3,180"]


def test_import_csv_and_report_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "logs.csv"
    header = "userId,country,trackId,playMode,dateTimePlayed,totalTimePlayed,userAgent,playType"
    rows = [",".join(str(line(n)[k]) for k in header.split(",")[:-1]) + ",view" for n in range(3)]
    path.write_text("\n".join([header, *rows]) + "\n")
    result = runner.invoke(main, ["playlogs", "import", str(path), "--consumer", "partner"])
    assert result.exit_code == 0, result.output
    assert "3 lines, 0 bad, 3 new logs stored" in result.output

    out = tmp_path / "report.json"
    written = report_since_yesterday(
        runner, "--by", "country,kind", "--format", "json", "--output", str(out)
    )
    assert written.exit_code == 0, written.output
    assert json.loads(out.read_text()) == [
        {"country": "GB", "kind": "preview", "plays": 3, "seconds": 180}
    ]


def report_since_yesterday(runner: CliRunner, *options: str) -> Result:
    """``sessionhub report plays`` from yesterday to today, with ``options``."""
    today = dt.datetime.now(dt.UTC).date()
    start = (today - dt.timedelta(days=1)).isoformat()
    command = ["report", "plays", "--from", start, "--to", today.isoformat(), *options]
    return runner.invoke(main, command)


def test_report_argument_errors(runner: CliRunner) -> None:
    assert (
        runner.invoke(main, ["report", "plays", "--from", "x", "--to", "2026-01-01"]).exit_code == 2
    )
    bad_by = runner.invoke(
        main, ["report", "plays", "--from", "2026-01-01", "--to", "2026-01-02", "--by", "genre"]
    )
    assert bad_by.exit_code == 2 and "group by" in bad_by.output
    unknown = runner.invoke(main, ["playlogs", "import", __file__, "--consumer", "nobody"])
    assert unknown.exit_code == 2
