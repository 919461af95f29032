"""Private files written over links: write_private follows the user's own symlinks (a
config kept in a dotfiles repository) and no one else's, and its temporary file is never
a link to somewhere else. In a shared directory (a status file in /tmp) another user's
link must not make polyterm overwrite one of its user's files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine.files import create_private, tighten, write_private

NOBODY = 65534


def test_a_symlink_of_the_user_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    write_private(link, b"new")
    assert link.is_symlink()
    assert real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another user needs root")
def test_a_symlink_of_another_user_is_not_followed(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # /tmp's mode: anyone may put a link there
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    planted = shared / "status.json"
    planted.symlink_to(victim)
    os.lchown(planted, NOBODY, NOBODY)
    with pytest.raises(PermissionError, match="another user"):
        write_private(planted, b'{"state": "running"}')
    assert victim.read_text() == "precious"
    assert planted.is_symlink()


def test_a_link_in_place_of_the_temporary_file_is_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    status = tmp_path / "status.json"
    (tmp_path / ".status.json.tmp").symlink_to(victim)
    write_private(status, b"{}")
    assert victim.read_text() == "precious"
    assert not status.is_symlink()
    assert status.read_bytes() == b"{}"
    assert stat.S_IMODE(status.stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another user needs root")
def test_tighten_leaves_the_target_of_another_users_link_alone(tmp_path: Path) -> None:
    """A ledger's journals are tightened before SQLite opens them: a link planted as
    `<ledger>-wal` in a shared directory used to get its target chmod-ed."""
    victim = tmp_path / "victim.txt"
    victim.write_text("shared on purpose")
    victim.chmod(0o644)
    planted = tmp_path / "l.sqlite-wal"
    planted.symlink_to(victim)
    os.lchown(planted, NOBODY, NOBODY)
    tighten(planted)
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    own = tmp_path / "own-link"
    own.symlink_to(victim)
    tighten(own)  # the user's own link is followed, as before
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another user needs root")
def test_a_ledger_path_that_is_another_users_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "autostart.desktop"  # not there yet: O_CREAT made it
    target.parent.mkdir()
    planted = tmp_path / "l.sqlite"
    planted.symlink_to(target)
    os.lchown(planted, NOBODY, NOBODY)
    with pytest.raises(PermissionError, match="another user"):
        create_private(planted)
    assert not target.exists()
