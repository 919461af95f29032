"""The latest trade prints per token, for the depth a face watches (the market detail
screen's recent trades): one small append per print, read only when a snapshot shows it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

PRINTS_KEPT = 20  # per token


class RecentPrints:
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self.by_token: dict[str, deque[tuple[float, int, int, str]]] = {}
        self.version = 0

    def on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None:
        """A print (the book store's trade listener): clock time, price, size, side."""
        tape = self.by_token.get(asset_id)
        if tape is None:
            tape = self.by_token[asset_id] = deque(maxlen=PRINTS_KEPT)
        tape.appendleft((self._now(), price, size, taker_side))
        self.version += 1

    def of(self, asset_id: str) -> tuple[tuple[float, int, int, str], ...]:
        """Most recent first."""
        return tuple(self.by_token.get(asset_id, ()))
