"""console.log and its rotations are private (issue 15, defect 11)."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
from pathlib import Path

import pytest

from polyterm.faces.console import log_to_file
from polyterm.settings.logs import QueuedHandler


def test_the_console_log_and_its_rotations_are_0600_in_a_0700_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLYTERM_LOG_DIR", str(tmp_path / "log"))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    old = os.umask(0o022)
    try:
        path = log_to_file()
        assert path is not None
        queued = root.handlers[0]
        assert isinstance(queued, QueuedHandler)  # written by its own thread
        handler = queued.target
        assert isinstance(handler, logging.handlers.RotatingFileHandler)
        handler.maxBytes = 200  # rotate after a few lines
        for i in range(20):
            logging.getLogger("polyterm.test").warning("line %d %s", i, "x" * 40)
        queued.close()  # writes what was handed over
    finally:
        os.umask(old)
        root.handlers[:] = handlers
        root.setLevel(level)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["console.log", "console.log.1", "console.log.2", "console.log.3"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()} == {0o600}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
