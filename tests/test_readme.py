"""The README's walk-throughs, run as written against a real server (issue: a house a newcomer
can move into). Every ``sh`` block of the "Walk-throughs" section runs, in order, in one bash
with ``set -euo pipefail``, except the one that starts the server: this test starts it. The
answers the README shows are then found in what the blocks printed."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import Server, running_server

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# What each walk-through must print, in the order the README shows it.
EXPECTED = [
    "HTTP/1.1 201 Created",
    " 204",
    'Expected `int`, got `float` - at `$.playerTime.ts`"} 400',
    'is closed (ended)"} 410',
    "'buffer_count': 1",
    '"token_type":"Client-Token"',
    '{"successResponse":{"sessionId":',
    '"errorCode":"SRM-0006","errorMessage":"Session Limit Reached","conflictingSessions"',
    '"errorCode":"SRM-0013"',
    '"customerId":"CRM-42","visitId":"v-1"',
    '{"code":404,"description":"Session not found"}',
    '"token_type": "Bearer"',
    '"tcCustomerId":',
    "{'kind': 'customer', 'value': 'CRM-42'}",
    "200 {}",
    '200 {"status":"ok","version":"1.2","playLogs":{"count":3}}',
    "5 lines, 0 bad, 5 new logs stored",
    "track,country,plays,seconds",
]


def walkthrough_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Walk-throughs") : text.index("## Operator interfaces")]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [block for block in blocks if "make serve" not in block]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("readme") / "sessionhub.db"
    with running_server(
        f"sqlite:///{path}", SESSIONHUB_ADMIN_TOKEN="change-me-to-a-secret"
    ) as running:
        yield running


def test_every_walkthrough_runs_as_written(server: Server, tmp_path: Path) -> None:
    blocks = walkthrough_blocks()
    assert len(blocks) >= 10
    script = "set -euo pipefail\n" + "\n".join(blocks)
    done = subprocess.run(
        ["bash", "-c", script],
        check=False,
        cwd=ROOT,
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "H": server.url,
            "S": str(Path(sys.executable).parent / "sessionhub"),
            "SESSIONHUB_DATABASE_URL": server.database_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    (ROOT / ".artifacts").mkdir(exist_ok=True)
    (ROOT / ".artifacts" / "readme-walkthroughs.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    position = 0
    for expected in EXPECTED:
        found = done.stdout.find(expected, position)
        assert found >= 0, (expected, done.stdout[position : position + 2000])
        position = found + len(expected)


def test_the_configuration_table_names_every_setting_and_only_settings() -> None:
    """Each ``Settings`` field is a row of the README's Configuration table (a row may name
    several: ``SESSIONHUB_AUTH_FAILURE_LIMIT`` / ``_WINDOW_S``), and each row is a setting."""
    from sessionhub.settings import PREFIX, Settings  # noqa: PLC0415

    text = README.read_text()
    table = text[text.index("## Configuration") : text.index("## Storage and durability")]
    variables = {PREFIX + name.upper() for name in Settings.__struct_fields__}
    named: set[str] = set()
    for row in re.findall(r"^\| (`SESSIONHUB_[^|]*)\|", table, re.M):
        first, *more = re.findall(r"`([A-Z0-9_]+)`", row)
        named.add(first)
        family = first.split("_")[1]  # SESSIONHUB_<FAMILY>_...
        for suffix in more:
            if suffix.startswith(PREFIX):
                named.add(suffix)
                continue
            [variable] = [v for v in variables if v.split("_")[1] == family and v.endswith(suffix)]
            named.add(variable)
    assert named - variables == set(), "rows that are not settings"
    assert variables - named == set(), "settings the README does not list"


def test_the_end_reasons_are_the_ones_the_code_writes() -> None:
    """Issue 22 item 1: the README said ``torn-down`` where ``/metrics`` serves ``teardown``."""
    from sessionhub.core.end_reasons import END_REASONS  # noqa: PLC0415

    text = README.read_text()
    table = text[text.index("| end reason | when |") :].split("\n\n", 1)[0]
    listed = dict(re.findall(r"^\| `([a-z-]+)` \| (.*) \|$", table, re.M))
    assert listed == END_REASONS


def test_the_identity_kinds_are_the_ones_the_code_writes() -> None:
    """Issue 22 item 2: the README named ``adobe.visitor`` and ``genesys.visitor``, which no
    API writes. Its list is the code's, as are the dashboard's and the CLI's (tested there)."""
    from sessionhub.core.visitors import IDENTITY_KINDS  # noqa: PLC0415

    text = README.read_text()
    table = text[text.index("| identity kind | where it comes from |") :].split("\n\n", 1)[0]
    listed = dict(re.findall(r"^\| `([a-zA-Z.]+)` \| (.*) \|$", table, re.M))
    assert listed == IDENTITY_KINDS
    assert "genesys.visitor" not in text and "`adobe.visitor`" not in text
