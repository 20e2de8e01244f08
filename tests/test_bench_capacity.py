"""bench/capacity.py turns measured CPU per request into cores for a million streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import capacity


def test_cores_per_role_follow_from_cpu_per_request_and_cadence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = {
        "ping": {"sessionhub": {"cpu_us": 100.0, "postgresql_cpu_us": 50.0, "redis_cpu_us": 1.0}},
        "keepalive": {
            "sessionhub": {"cpu_us": 60.0, "postgresql_cpu_us": 0.0, "redis_cpu_us": 30.0}
        },
        "meta": {
            "command": "bench/run.py --only ping,keepalive",
            "backends": ["postgresql", "redis"],
        },
    }
    rows = {row["scenario"]: row for row in capacity.cores(results, utilization=0.5)}
    ping = rows["Adobe ping"]["roles"]
    assert rows["Adobe ping"]["rate"] == 100_000
    assert ping["server"]["cores"] == pytest.approx(10.0)  # 100k/s x 100 µs
    assert ping["postgresql"]["cores"] == pytest.approx(5.0)
    assert ping["server"]["planned"] == pytest.approx(20.0)  # at 50 % busy
    keepalive = rows["SRM keep-alive"]["roles"]
    assert keepalive["redis"]["cores"] == pytest.approx(1.0)  # 33,333/s x 30 µs

    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    capacity.main([str(path)])
    printed = capsys.readouterr().out
    assert "bench/run.py --only ping,keepalive" in printed  # the command behind the inputs
    assert "postgresql" in printed and "all roles" in printed


def test_the_embedded_store_is_not_planned_beyond_one_process() -> None:
    results = {"ping": {"sessionhub": {"cpu_us": 100.0}}, "meta": {"backends": []}}
    (row,) = capacity.cores(results, utilization=1.0)
    assert set(row["roles"]) == {"server"}
    assert "one process" in capacity.report_text(results, utilization=1.0)
