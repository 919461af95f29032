"""Logs: one JSON object a line when asked, private rotating files that keep the engine's
[sizing] and risk lines whatever stderr's verbosity."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from polyterm.settings.logs import QueuedHandler, flush_logs, log_file, setup_logging
from tests.kit.ctl import TRADING_ENV
from tests.kit.process import run


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_level_logger_message_and_the_exception(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging(0, fmt="json")
    logging.getLogger("engine.risk").warning("kill switch tripped: loss %s", "5.00")
    try:
        raise ValueError("bad frame")
    except ValueError:
        logging.getLogger("polyterm").exception("feed failed")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING"
    assert first["logger"] == "engine.risk"
    assert first["message"] == "kill switch tripped: loss 5.00"
    assert first["timestamp"].endswith("+00:00")
    assert second["level"] == "ERROR"
    assert "ValueError: bad frame" in second["exc_info"]


@pytest.mark.usefixtures("restore_logging")
def test_a_log_file_is_private_rotates_privately_and_gets_info_lines(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        setup_logging(0)  # stderr: warnings only
        path = log_file(tmp_path / "logs" / "run.log", max_bytes=300, keep=2)
        assert path is not None
        sizing = logging.getLogger("engine.sizing")
        for i in range(20):
            sizing.info("[sizing] mean_reversion Yes 'Q' entry %d", i)
        flush_logs()
    finally:
        os.umask(old)
    files = sorted((tmp_path / "logs").iterdir())
    assert [f.name for f in files] == ["run.log", "run.log.1", "run.log.2"]
    assert _mode(tmp_path / "logs") == 0o700
    assert all(_mode(f) == 0o600 for f in files)
    assert "[sizing] mean_reversion Yes 'Q' entry 19" in (tmp_path / "logs" / "run.log").read_text()


@pytest.mark.usefixtures("restore_logging")
def test_a_log_line_is_written_by_the_files_own_thread_not_the_callers(tmp_path: Path) -> None:
    """The engine's loop only hands a record over: an ORDER line never waits on the
    file's write, flush and rollover check before the order leaves."""
    setup_logging(0)
    assert log_file(tmp_path / "run.log") is not None
    [queued] = [h for h in logging.getLogger().handlers if isinstance(h, QueuedHandler)]
    writers: list[int] = []

    def note(record: logging.LogRecord) -> bool:
        writers.append(threading.get_ident())
        return True

    queued.target.addFilter(note)
    try:
        raise ValueError("bad frame")
    except ValueError:
        logging.getLogger("engine.trades").exception("ORDER %s", "r1-1")
    flush_logs()
    assert writers
    assert threading.get_ident() not in writers
    text = (tmp_path / "run.log").read_text()
    assert "ORDER r1-1" in text
    assert "ValueError: bad frame" in text  # the traceback, rendered when it was logged


@pytest.mark.usefixtures("restore_logging")
def test_closing_the_log_file_writes_what_was_handed_to_it(tmp_path: Path) -> None:
    setup_logging(0)
    assert log_file(tmp_path / "run.log") is not None
    for i in range(200):
        logging.getLogger("engine.sizing").info("[sizing] line %d", i)
    setup_logging(0)  # replaces the destinations: the file is closed, nothing lost
    assert "[sizing] line 199" in (tmp_path / "run.log").read_text()


@pytest.mark.usefixtures("restore_logging")
def test_an_existing_loose_log_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("old line\n")
    path.chmod(0o644)
    assert log_file(path) == path
    logging.getLogger("engine").warning("risk line")
    assert _mode(path) == 0o600
    assert path.read_text().startswith("old line\n")


@pytest.mark.integration
def test_a_headless_run_logs_json_to_its_file_with_sizing_and_trade_lines(
    tmp_path: Path,
) -> None:
    done = run(
        ["--no-ui", "--json", "--duration", "8", "--log-format", "json"]
        + ["--ledger", str(tmp_path / "l.sqlite")],
        tmp_path,
        **TRADING_ENV,
    )
    assert done.returncode == 0, done.stderr
    for line in done.stderr.splitlines():  # whatever reached stderr is JSON too
        assert json.loads(line)["level"] in ("WARNING", "ERROR")
    path = tmp_path / "log" / "headless.log"
    assert _mode(path) == 0o600
    records = [json.loads(line) for line in path.read_text().splitlines()]
    loggers = {r["logger"] for r in records}
    assert "engine.sizing" in loggers
    assert "engine.trades" in loggers
    assert any(r["message"].startswith("[sizing]") for r in records)
