"""The CLI contracts, run as a user would: real processes, real files, loopback only.

Exit codes: 0 done, 1 done but incomplete (a truncated tape), 2 usage or expected error
(one line), 130/143 stopped by SIGINT/SIGTERM (cleanly: summary printed, files whole).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
import zstandard

from engine.adapters.tape.tape import TapeWriter, read_tape
from engine.market.markets import MarketInfo, Outcome
from tests.kit.process import POLYTERM, STOP_WITHIN_S, environ, run, stop_with

pytestmark = pytest.mark.integration


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
        STRATEGIES_MEAN_REVERSION_WINDOW="8",
        STRATEGIES_MEAN_REVERSION_ENTRY_Z="1.0",
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
        "polyterm: error: config feed.max_markets: "
        "Input should be greater than or equal to 1 (from SERVICE_MAX_MARKETS)"
    ]


def test_contradicting_settings_are_refused_not_clamped(tmp_path: Path) -> None:
    """Reproduced: STRATEGY_ORDER_SIZE=1e9 was silently clamped to the 25-share cap (1e9
    is now past what the ledger holds and refused for that; 30 contradicts the cap)."""
    result = run(["--no-ui", "--duration", "1"], tmp_path, STRATEGY_ORDER_SIZE="30")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "polyterm: error: config: strategy.order_size = 30 is above "
        "risk.max_order_shares = 25: lower it or raise the cap"
    ]


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
            [line] = busy.stderr.splitlines()
            assert line.startswith("polyterm: error: ")
            assert "pick another --port" in line
            traced = run(["-vv", "exchange", "--port", port], tmp_path, timeout=30)
            assert traced.returncode == 2  # -vv adds the traceback, not a different code
            assert "Traceback" in traced.stderr
            assert traced.stderr.splitlines()[-1] == line
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert proc.returncode == 143  # stopped by SIGTERM, cleanly


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


def test_a_usage_error_is_one_line_from_a_real_process(tmp_path: Path) -> None:
    result = run(["--duration", "abc"], tmp_path, timeout=30)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "polyterm: error: Invalid value for '--duration': 'abc' is not a valid float range. "
        "(see polyterm --help)"
    ]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_record_stops_on_a_signal_with_its_summary_and_a_whole_tape(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    tape = tmp_path / "t.jsonl.zst"
    with subprocess.Popen(
        [*POLYTERM, "-v", "record", "--out", str(tape), "--duration", "30", "--markets", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ(tmp_path),
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:  # recording: the market channel is connected
            if "WS connection established" in line:
                break
        returncode, out, err, took = stop_with(proc, sig, after=1.0)
    assert returncode == code, err
    assert took < STOP_WITHIN_S, f"took {took:.2f}s to stop"
    [line] = out.splitlines()
    summary = json.loads(line)
    assert summary["stopped"] == sig.name
    assert summary["frames"] > 0
    assert summary["seconds"] < 10
    assert "Traceback" not in err
    records = list(read_tape(tape))  # readable to its end: no TapeTruncated
    assert sum(r.frame is not None for r in records) == summary["frames"]
    ending = zstandard.ZstdDecompressor().decompressobj()
    ending.decompress(tape.read_bytes())
    assert ending.eof  # a complete zstd frame


def _run_started(ledger: Path) -> bool:
    """The run's row is in the ledger: start-up is over and the engine runs."""
    if not ledger.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)) as db:
            return bool(db.execute("SELECT count(*) FROM runs").fetchone()[0])
    except sqlite3.Error:
        return False


def test_ctrl_c_stops_a_run_with_its_summary_and_exit_130(tmp_path: Path) -> None:
    ledger = tmp_path / "run.sqlite"
    with subprocess.Popen(
        [*POLYTERM, "--no-ui", "--json", "--ledger", str(ledger), "--markets", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ(tmp_path),
    ) as proc:
        returncode, out, err, took = stop_with(
            proc, signal.SIGINT, when=lambda: _run_started(ledger)
        )
    assert returncode == 130, err
    assert took < STOP_WITHIN_S, f"took {took:.2f}s to stop"
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["ledger"] == str(ledger)
    db = sqlite3.connect(ledger)
    assert db.execute("SELECT count(*) FROM runs WHERE ended_at IS NOT NULL").fetchone()[0] == 1


def test_ctrl_c_during_start_up_still_ends_in_a_summary(tmp_path: Path) -> None:
    """A Ctrl-C while the venue and the ledger are opening (seconds on a busy machine) is
    a stop like any other: the run starts, ends at once, prints its summary, exits 130;
    not a bare KeyboardInterrupt that prints nothing and leaves no run behind."""
    ledger = tmp_path / "run.sqlite"
    with subprocess.Popen(
        [*POLYTERM, "-v", "--no-ui", "--json", "--ledger", str(ledger), "--markets", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ(tmp_path),
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:  # the emulator is up; the engine is not started yet
            if "offline: exchange emulator on" in line:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["ledger"] == str(ledger)
    assert "Traceback" not in err
    db = sqlite3.connect(ledger)
    assert db.execute("SELECT count(*) FROM runs WHERE ended_at IS NOT NULL").fetchone()[0] == 1


def test_book_on_a_truncated_tape_prints_the_books_and_one_warning(tmp_path: Path) -> None:
    whole = tmp_path / "whole.jsonl.zst"
    writer = TapeWriter(whole)
    writer.write_markets([MarketInfo("0xc", "Q?", "q", (Outcome("1", "Yes"),))], 1.0)
    for i in range(20_000):
        bid = f"0.{40 + i % 10}"
        writer.write_frame(
            f'{{"event_type": "book", "asset_id": "1", "market": "0xc", '
            f'"bids": [{{"price": "{bid}", "size": "{i}"}}], '
            f'"asks": [{{"price": "0.6", "size": "5"}}], "timestamp": "{i}", "hash": "h{i}"}}',
            2.0 + i,
            "ws",
        )
    writer.close()
    data = whole.read_bytes()
    cut = tmp_path / "cut.jsonl.zst"
    cut.write_bytes(data[: len(data) // 2])
    shown = run(["book", str(cut), "--json"], tmp_path, timeout=60)
    assert shown.returncode == 1  # the books are real but incomplete
    [book] = json.loads(shown.stdout)["books"]
    assert book["best_ask"] == "0.6"
    [line] = shown.stderr.splitlines()
    assert line.startswith(f"polyterm: warning: {cut}: truncated at byte {len(data) // 2} after ")
    assert line.endswith("frames (the recording was cut short; the frames before it replayed)")
    fake = tmp_path / "fake.jsonl.zst"
    fake.write_text("not zstd at all\n")
    refused = run(["book", str(fake)], tmp_path, timeout=60)
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"polyterm: error: {fake}: not a zstd file")


def test_exchange_exports_a_tape_without_serving(tmp_path: Path) -> None:
    pytest.importorskip("polyterm.emulator.export")
    tape = tmp_path / "out" / "t.jsonl.zst"
    args = ["exchange", "--export-tape", str(tape), "--duration", "20", "--markets", "2"]
    result = run([*args, "--seed", "3"], tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    info = json.loads(line)
    assert info["tape"] == str(tape)
    assert info["markets"] == 2
    assert info["seed"] == 3
    assert info["frames"] == sum(r.frame is not None for r in read_tape(tape)) > 0
    shown = run(["book", str(tape), "--json"], tmp_path, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["books"]) == 4


def test_exchange_serves_for_duration_then_exits_0(tmp_path: Path) -> None:
    result = run(["exchange", "--duration", "1", "--markets", "1"], tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert json.loads(line)["markets"] == 1


def test_serve_passes_the_watch_list_on_to_each_console() -> None:
    from polyterm.cli.serve import console_command

    command = console_command(None, None, None, None, None, ("fed-june", "0xabc"))
    assert command.endswith("-m polyterm --watch fed-june --watch 0xabc")


def test_a_watch_entry_that_is_no_name_is_one_line(tmp_path: Path) -> None:
    result = run(["--no-ui", "--duration", "1", "--watch", "two words"], tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("polyterm: error: config watch: 'two words' is not a slug")
