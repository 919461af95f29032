"""One writer per ledger: a second writer is refused at once, naming the holder; the
first one's file is untouched; a writer killed with -9 leaves no lock behind; readers
are never locked out; the files are private."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine.ledger.errors import LedgerError
from engine.ledger.lock import LedgerBusy, WriterLock, lock_path
from engine.ledger.reader import LedgerReader
from engine.ledger.writer import SqliteLedger

CASH = 1_000 * 10**10


async def test_a_second_writer_is_refused_naming_the_pid_and_the_first_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.sqlite"
    first = await SqliteLedger(path).open()
    try:
        run = await first.start_run("paper", "test", "{}", 1.0, CASH)
        before = path.read_bytes()
        with pytest.raises(LedgerBusy) as refused:
            await SqliteLedger(path).open()
        message = str(refused.value)
        assert f"pid {os.getpid()}" in message
        assert "--ledger" in message
        assert "\n" not in message
        assert path.read_bytes() == before  # the refused writer never touched the file
        # The first writer still writes, and a reader still reads meanwhile.
        await first.end_run(run, "{}", 2.0)
        assert [r.id for r in LedgerReader(path).runs()] == [run]
    finally:
        await first.close()
    # Closed: the lock is free again.
    second = await SqliteLedger(path).open()
    await second.close()


async def open_and_close(path: Path) -> None:
    ledger = await SqliteLedger(path).open()
    await ledger.close()


@pytest.mark.integration
def test_a_writer_killed_with_sigkill_leaves_no_lock(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import asyncio, sys, time\n"
            "from engine.ledger.writer import SqliteLedger\n"
            "async def main():\n"
            f"    await SqliteLedger({str(path)!r}).open()\n"
            "    print('open', flush=True)\n"
            "    time.sleep(600)\n"
            "asyncio.run(main())\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(LedgerBusy, match=f"pid {holder.pid}"):
            asyncio.run(open_and_close(path))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)  # also closes the pipe
    asyncio.run(open_and_close(path))  # the kernel dropped the dead writer's lock


async def test_ledger_files_are_private_under_umask_022(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "dir" / "l.sqlite"
        ledger = await SqliteLedger(path).open()
        try:
            await ledger.start_run("paper", "test", "{}", 1.0, CASH)
            modes = {
                p.name: stat.S_IMODE(p.stat().st_mode)
                for p in path.parent.iterdir()
                if p.name.startswith("l.sqlite")
            }
        finally:
            await ledger.close()
    finally:
        os.umask(old)
    assert set(modes) >= {"l.sqlite", "l.sqlite-wal", "l.sqlite-shm", "l.sqlite.lock"}
    assert set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700


async def test_an_existing_loose_ledger_is_made_private_when_reopened(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger = await SqliteLedger(path).open()
    await ledger.close()
    os.chmod(path, 0o644)
    ledger = await SqliteLedger(path).open()
    await ledger.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_number_past_sqlites_integers_stops_the_ledger_with_a_ledger_error(
    tmp_path: Path,
) -> None:
    """Defect 6: a starting cash past the INTEGER column escaped as a raw OverflowError."""
    from engine.ledger.errors import LedgerError

    ledger = await SqliteLedger(tmp_path / "l.sqlite").open()
    try:
        with pytest.raises(LedgerError, match="stopped writing"):
            await ledger.start_run("paper", "test", "{}", 1.0, 2**70)
    finally:
        with contextlib.suppress(LedgerError):
            await ledger.close()


async def test_a_writer_that_closes_leaves_only_the_ledger_behind(tmp_path: Path) -> None:
    """A folder of ledgers (a sweep's) holds ledgers, not lock files, once writers close."""
    path = tmp_path / "l.sqlite"
    ledger = await SqliteLedger(path).open()
    assert lock_path(path).exists()
    await ledger.close()
    assert not lock_path(path).exists()
    again = await SqliteLedger(path).open()  # and the next writer takes it as usual
    await again.close()


def test_a_lock_removed_as_it_was_opened_is_taken_afresh(tmp_path: Path) -> None:
    """The race that removing lock files opens: a writer opens the lock file just before
    its holder removes it, then locks the removed file. It must notice and lock the file
    at the path, or a third writer could lock a new file there and both would write."""
    ledger = tmp_path / "l.sqlite"
    first = WriterLock(ledger)
    first.acquire()
    opened_early = os.open(lock_path(ledger), os.O_RDWR)  # just before the holder lets go
    first.release()

    class Racing(WriterLock):
        opens = 0

        def _open(self) -> int:
            self.opens += 1
            return opened_early if self.opens == 1 else super()._open()

    second = Racing(ledger)
    second.acquire()
    try:
        assert second.opens == 2  # it saw its first file gone and took the one at the path
        with pytest.raises(LedgerBusy):
            WriterLock(ledger).acquire()
    finally:
        second.release()


def test_a_writer_waits_out_a_readers_probe_but_not_a_writer(tmp_path: Path) -> None:
    """A report checks whether a writer runs by taking the lock shared for an instant: a
    writer starting in that instant must start, not refuse as if the ledger were in use."""
    import fcntl
    import threading

    ledger = tmp_path / "l.sqlite"
    lock_path(ledger).touch(mode=0o600)  # a writer stopped: the lock file is there, free
    probe = os.open(lock_path(ledger), os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    threading.Timer(0.02, os.close, (probe,)).start()  # the probe lets go
    writer = WriterLock(ledger)
    writer.acquire()
    try:
        assert writer.held
        with pytest.raises(LedgerBusy):  # a writer's lock is never waited out
            WriterLock(ledger).acquire()
    finally:
        writer.release()


async def test_a_second_writer_through_a_symlink_is_refused(tmp_path: Path) -> None:
    """One ledger reached by two names (a symlink, or the link's target) is one ledger:
    the lock follows the file, not the name (two writers used to run and break it)."""
    real = tmp_path / "real.sqlite"
    link = tmp_path / "link.sqlite"
    link.symlink_to(real.name)
    first = await SqliteLedger(real).open()
    try:
        with pytest.raises(LedgerBusy):
            await SqliteLedger(link).open()
    finally:
        await first.close()
    via_link = await SqliteLedger(link).open()
    try:
        with pytest.raises(LedgerBusy):
            await SqliteLedger(real).open()
    finally:
        await via_link.close()
    assert not lock_path(real).exists()
    assert link.is_symlink()  # the user's link is left as it was


async def test_a_link_in_place_of_the_lock_file_is_never_written_through(tmp_path: Path) -> None:
    """In a shared directory another user can put a link where the lock file goes: taking
    the lock used to truncate the file it pointed at and write a pid into it."""
    from engine.ledger.errors import LedgerError

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    ledger = tmp_path / "l.sqlite"
    lock_path(ledger).symlink_to(victim)
    with pytest.raises(LedgerError, match="lock file") as refused:
        await SqliteLedger(ledger).open()
    assert "\n" not in str(refused.value)
    assert victim.read_text() == "precious"
    assert lock_path(ledger).is_symlink()  # left for its owner to see to


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another user needs root")
async def test_a_journal_planted_as_another_users_link_is_refused(tmp_path: Path) -> None:
    """SQLite opens <ledger>-wal by name, through any link: a link another user planted
    there would have the ledger's writes land in a file of their choosing."""
    ledger = tmp_path / "l.sqlite"
    target = tmp_path / "elsewhere"
    planted = ledger.with_name(ledger.name + "-wal")
    planted.symlink_to(target)
    os.lchown(planted, 65534, 65534)
    with pytest.raises(LedgerError, match="another user"):
        await SqliteLedger(ledger).open()
    assert not target.exists()
    assert planted.is_symlink()  # left for its owner to see to
