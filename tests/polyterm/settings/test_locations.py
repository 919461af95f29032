"""polyterm's own directories are private (issue 15, defect 11)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from polyterm.settings.locations import tighten_dirs


def test_polyterms_own_directories_are_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 11: 0755 directories readable by every local user."""
    for name in ("cfg", "data", "log", "mine"):
        (tmp_path / name).mkdir(mode=0o755)
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("POLYTERM_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("POLYTERM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLYTERM_LOG_DIR", str(tmp_path / "log"))
    tighten_dirs()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"cfg": 0o700, "data": 0o700, "log": 0o700, "mine": 0o755}
