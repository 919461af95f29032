"""`--online` when the venue cannot be reached (issue 15, defect 12): one line naming the
fix, at once rather than after every retry; `record` leaves no empty tape behind; a
WebSocket URL that is not ws(s):// is refused before anything starts. The venue here is
a loopback port nothing listens on: no test ever touches the internet."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.kit.process import run

pytestmark = pytest.mark.integration


def nowhere() -> str:
    with socket.socket() as s:  # a free loopback port: connecting there is refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_an_unreachable_venue_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    url = nowhere()
    env = {"CLOB_REST_URL": url, "GAMMA_API_URL": url, "SENTIMENT_ENABLED": "false"}
    result = run(["--online", "--no-ui", "--ledger", str(tmp_path / "l.sqlite")], tmp_path, **env)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("polyterm: error: cannot reach 127.0.0.1 (")
    assert "run --offline" in line
    tape = tmp_path / "t.jsonl"
    recorded = run(["record", "--online", "--out", str(tape), "--duration", "30"], tmp_path, **env)
    assert recorded.returncode == 2
    assert len(recorded.stderr.splitlines()) == 1
    assert not tape.exists()  # no empty tape for a replay to take for a recording


def test_a_websocket_url_that_is_not_ws_is_refused(tmp_path: Path) -> None:
    result = run(["--online", "--no-ui"], tmp_path, CLOB_WS_URL="http://127.0.0.1:9/ws/market")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "polyterm: error: config feed.market_ws_url: 'http://127.0.0.1:9/ws/market' is not "
        "a ws:// or wss:// URL (a WebSocket) (from CLOB_WS_URL)"
    ]
