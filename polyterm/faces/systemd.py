"""systemd's service notifications (``Type=notify``, ``WatchdogSec=``), in the few lines
of its protocol: datagrams of ``KEY=VALUE`` lines to the Unix socket named by
``$NOTIFY_SOCKET`` (``@`` first: the abstract namespace).

- ``READY=1`` once the engine runs (its first snapshot in state running or paused), so
  ``systemctl start`` returns when the bot trades, not when the process began.
- ``STATUS=`` a one-line summary (state, feed, PnL), shown by ``systemctl status``.
- ``WATCHDOG=1`` every half ``$WATCHDOG_USEC``, and only while snapshots keep coming: an
  engine whose loop is stuck stops publishing, so systemd kills and restarts it.
- ``STOPPING=1`` on the way out.

Without ``$NOTIFY_SOCKET`` (not under systemd) nothing runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

from engine.clock import Clock
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub

log = logging.getLogger("polyterm.systemd")

STATUS_EVERY_S = 5.0


class Notifier:
    """Sends notifications; every failure is swallowed (systemd going away must never
    stop the bot)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        mine = not pid or (pid.isdigit() and int(pid) == os.getpid())
        self.watchdog_s = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and mine else None

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, *lines: str) -> bool:
        if not self.address:
            return False
        payload = "\n".join(lines).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(payload, self.address)
        except OSError as exc:
            log.debug("sd_notify failed: %s", exc)
            return False
        return True


def status_text(snap: EngineSnapshot) -> str:
    return (
        f"{snap.state}, feed {snap.feed.current_source}, {len(snap.markets)} books, "
        f"{snap.counters.fills} fills, pnl {snap.pnl:+.2f}, kill switch {snap.kill_switch.state}"
    )


class SystemdService:
    """Tells systemd how the engine is doing, from its snapshots."""

    def __init__(self, hub: SnapshotHub, notifier: Notifier, clock: Clock) -> None:
        self.hub = hub
        self.notifier = notifier
        self.clock = clock
        self.ready = False
        self._fresh = False  # a snapshot came since the last watchdog ping
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if not self.notifier.enabled:
            return
        self._tasks.append(asyncio.create_task(self._follow(), name="systemd-status"))
        if self.notifier.watchdog_s is not None:
            self._tasks.append(asyncio.create_task(self._watchdog(), name="systemd-watchdog"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.notifier.enabled:
            self.notifier.notify("STOPPING=1", "STATUS=stopping")

    async def _follow(self) -> None:
        last_status = -STATUS_EVERY_S
        async for snap in self.hub.subscribe():
            self._fresh = True
            if not self.ready and snap.state.trading:
                self.ready = True
                self.notifier.notify("READY=1", f"STATUS={status_text(snap)}")
                last_status = snap.uptime_s
            elif snap.uptime_s - last_status >= STATUS_EVERY_S:
                self.notifier.notify(f"STATUS={status_text(snap)}")
                last_status = snap.uptime_s

    async def _watchdog(self) -> None:
        assert self.notifier.watchdog_s is not None
        interval = self.notifier.watchdog_s / 2
        while True:
            await self.clock.sleep(interval)
            # Before the first snapshot the engine is still starting: systemd's own start
            # timeout covers that, not the watchdog.
            if self._fresh or not self.ready:
                self._fresh = False
                self.notifier.notify("WATCHDOG=1")
