"""Order heartbeats: the venue's dead-man switch, fed every few seconds, failing closed.

Each accepted heartbeat returns the id to send with the next one (a stale id is refused
with the expected one, which is then sent at once). The first accepted heartbeat arms the
switch: about ten seconds without another and the venue cancels every open order of the
key. So a heartbeat that fails, or is not accepted in time, stops new orders at once
(a ``HEARTBEAT`` trading block) -- the venue may be about to cancel everything -- and only
an accepted heartbeat lifts it; the gateway then reconciles, since the switch may have
fired meanwhile. There is no disarm: stopping leaves the deadline running, which is why
a stop cancels (or knowingly leaves) the orders first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from engine.clock import Clock

log = logging.getLogger("engine.live.heartbeat")


class Heartbeats:
    def __init__(
        self,
        client: Any,
        clock: Clock,
        *,
        interval_s: float,
        timeout_s: float,
        on_lost: Callable[[str], None],
        on_back: Callable[[], None],
    ) -> None:
        self._client = client
        self._clock = clock
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._on_lost = on_lost
        self._on_back = on_back
        self.heartbeat_id = ""
        self.accepted = 0
        self.last_ok: float | None = None  # monotonic time of the last accepted one
        self.healthy = False
        self.first = asyncio.Event()  # set once the first heartbeat was answered either way

    async def run(self) -> None:
        """Beat until cancelled."""
        while True:
            started = self._clock.monotonic()
            await self.beat()
            self.first.set()
            spent = self._clock.monotonic() - started
            await self._clock.sleep(max(0.0, self.interval_s - spent))

    async def beat(self) -> bool:
        """Send one heartbeat (retrying once with the id the venue expects)."""
        from polymarket.errors import OrderHeartbeatMismatchError, PolymarketError

        problem = ""
        for _ in range(2):
            try:
                async with asyncio.timeout(self.timeout_s):
                    answer = await self._client.send_order_heartbeat(heartbeat_id=self.heartbeat_id)
            except OrderHeartbeatMismatchError as exc:
                self.heartbeat_id = exc.heartbeat_id  # the chain moved on: follow it
                problem = "the venue expected another heartbeat id"
                continue
            except TimeoutError:
                problem = f"no answer within {self.timeout_s:g} s"
            except (PolymarketError, OSError) as exc:
                status = getattr(exc, "status", None)
                problem = f"refused (HTTP {status})" if status else type(exc).__name__
            else:
                self.heartbeat_id = answer.heartbeat_id
                self.accepted += 1
                self.last_ok = self._clock.monotonic()
                if not self.healthy:
                    self.healthy = True
                    log.info("order heartbeats accepted")
                    self._on_back()
                return True
            break
        if self.healthy or self.accepted == 0 or problem:
            self.healthy = False
            self._on_lost(
                f"order heartbeat failed ({problem}): the venue cancels every open order "
                "about 10 s after the last accepted one; new orders wait for it to recover"
            )
        return False
