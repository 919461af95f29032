"""The CLI contracts, run as a user would: real processes, real files, loopback only."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from polyterm.config import ConfigError, load_config

POLYTERM = [sys.executable, "-m", "polyterm"]


def run(
    args: list[str], tmp_path: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "POLYTERM_CONFIG_DIR": str(tmp_path / "cfg"),
        "POLYTERM_DATA_DIR": str(tmp_path / "data"),
        **env,
    }
    return subprocess.run(
        [*POLYTERM, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environ,
        check=False,
    )


def test_headless_offline_run_trades_into_the_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "run.sqlite"
    result = run(
        [
            "--offline",
            "--no-ui",
            "--duration",
            "12",
            "--ledger",
            str(ledger),
            "--json",
            "--markets",
            "6",
        ],
        tmp_path,
        STRATEGY_MEAN_REVERSION_WINDOW="8",
        STRATEGY_MEAN_REVERSION_ENTRY_Z="1.0",
        STRATEGY_ENTRY_COOLDOWN_S="1",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["venue"] == "emulator"
    assert summary["feed_source"] == "ws_live"
    assert summary["markets"] == 6
    assert summary["messages"] > 100
    assert summary["orders"] > 0
    assert summary["fills"] > 0
    db = sqlite3.connect(ledger)
    assert db.execute("SELECT count(*) FROM fills").fetchone()[0] == summary["fills"]
    assert db.execute("SELECT count(*) FROM runs WHERE ended_at IS NOT NULL").fetchone()[0] == 1
    assert "Traceback" not in result.stderr


def test_status_lines_go_to_stdout_and_summary_is_readable(tmp_path: Path) -> None:
    result = run(["--no-ui", "--duration", "3", "--ledger", str(tmp_path / "l.sqlite")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "feed=" in result.stdout
    assert "polyterm run summary" in result.stdout
    assert "feed=" not in result.stderr


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    result = run(["--no-ui", "--duration", "1"], tmp_path, SERVICE_MAX_MARKETS="0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "polyterm: error: config engine.feed.max_markets: "
        "Input should be greater than or equal to 1 (from SERVICE_MAX_MARKETS)"
    ]


def test_config_file_and_env_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "offline = true\n[feed]\nmax_markets = 3\n[strategy.mean_reversion]\nwindow = 12\n"
    )
    app = load_config(
        cfg, env={"STRATEGY_MEAN_REVERSION_WINDOW": "9", "SERVICE_WS_STATIC_ASSETS": "a,b"}
    )
    assert app.engine.feed.max_markets == 3
    assert app.engine.strategy.mean_reversion.window == 9
    assert app.engine.hot_assets.static_assets == ("a", "b")
    with pytest.raises(ConfigError, match="STRATEGY_NOPE names no strategy setting"):
        load_config(cfg, env={"STRATEGY_NOPE": "1"})
    cfg.write_text("[feed\n")
    with pytest.raises(ConfigError, match="config.toml"):
        load_config(cfg, env={})


def test_exchange_prints_urls_and_refuses_a_busy_port(tmp_path: Path) -> None:
    with subprocess.Popen(
        [*POLYTERM, "exchange", "--port", "0", "--markets", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = json.loads(proc.stdout.readline())
            assert set(line) >= {"clob", "market_ws", "user_ws", "gamma", "news"}
            assert line["clob"].startswith("http://127.0.0.1:")
            port = line["clob"].rsplit(":", 1)[1]
            busy = run(["exchange", "--port", port], tmp_path, timeout=30)
            assert busy.returncode == 2
            assert "pick another --port" in busy.stderr
            assert "Traceback" not in busy.stderr
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert proc.returncode == 0


def test_record_then_book(tmp_path: Path) -> None:
    tape = tmp_path / "t.jsonl.zst"
    result = run(["record", "--out", str(tape), "--duration", "3", "--markets", "2"], tmp_path)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["frames"] > 5
    assert info["markets"] == 2
    shown = run(["book", str(tape), "--json"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    books = json.loads(shown.stdout)["books"]
    assert len(books) == 4
    for b in books:
        assert b["best_bid"] is not None
        assert b["best_ask"] is not None
        assert float(b["best_bid"]) < float(b["best_ask"])


def test_book_on_recorded_messages(tmp_path: Path, recorded: Path) -> None:
    shown = run(["book", str(recorded / "ws" / "legacy_book.json"), "--json"], tmp_path)
    [book] = json.loads(shown.stdout)["books"]
    assert (book["best_bid"], book["best_ask"], book["tick_size"]) == ("0.511", "0.514", "0.001")
    table = run(["book", str(recorded / "ws" / "legacy_book.json"), "--levels", "3"], tmp_path)
    assert table.returncode == 0
    assert "best bid 0.511" in table.stdout
    missing = run(["book", str(tmp_path / "nope.jsonl")], tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("polyterm: error:")
