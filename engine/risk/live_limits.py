"""Live trading's own limits on top of the risk gate (``[live]``), for live runs only.

- **Canary**: only the strategies in ``live.strategies`` enter (a person's manual orders
  always may), only in the markets of ``live.markets`` (condition ids or slugs), at
  ``live.size_scale`` of the size paper would trade.
- **Notional**: an entry costs at most ``live.max_order_notional`` USDC, and all entries
  sent in one trading day (from ``trading.daily_loss_reset_hour`` UTC) at most
  ``live.max_daily_notional``; a restart counts the day's entries from the ledger.
- **Ending markets**: no new entry within ``live.no_entries_before_end_s`` of a market's
  end date.

Entries only: exits, flatten, kill and settlement are never held back by these. Every
refusal and cut names its rule (``live_strategy``, ``live_market``, ``market_ending``,
``live daily notional``, ``live max order notional``, ``live size scale``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from engine.config import LiveConfig
from engine.fixed import CASH_DIGITS, SHARE_STEP, decimal_to_fixed, format_cash
from engine.market.markets import MarketInfo
from engine.orders import MANUAL, OrderRequest, StrategyId

DAY_S = 86_400.0


def day_start(at: float, reset_hour: int) -> float:
    """The start (unix seconds) of the trading day `at` falls in."""
    moment = datetime.fromtimestamp(at, UTC)
    start = moment.replace(hour=reset_hour, minute=0, second=0, microsecond=0)
    if start > moment:
        return start.timestamp() - DAY_S
    return start.timestamp()


def _end_time(text: str) -> float | None:
    """A market's end date (ISO 8601, a date or a time) as unix seconds."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class LiveLimits:
    def __init__(
        self,
        config: LiveConfig,
        reset_hour: int,
        market: Callable[[str], MarketInfo | None],
        sent: Iterable[tuple[float, int]] = (),
    ) -> None:
        """`sent`: (time, notional in cash units) of entries already sent (a restart)."""
        self.config = config
        self._reset_hour = reset_hour
        self._market = market
        self.max_order = decimal_to_fixed(config.max_order_notional, CASH_DIGITS)
        self.max_day = decimal_to_fixed(config.max_daily_notional, CASH_DIGITS)
        self._strategies = frozenset(config.strategies)
        self._markets = frozenset(config.markets)
        self._scale = float(config.size_scale)
        self._day = 0.0
        self.day_notional = 0
        self._now = 0.0
        for at, amount in sent:
            self._count(at, amount)

    def _count(self, at: float, amount: int) -> None:
        start = day_start(at, self._reset_hour)
        if start > self._day:
            self._day, self.day_notional = start, 0
        if start == self._day:
            self.day_notional += amount

    def day_left(self, at: float) -> int:
        """Notional (cash units) today's entries may still send."""
        if day_start(at, self._reset_hour) > self._day:
            return self.max_day
        return max(0, self.max_day - self.day_notional)

    def screen(self, strategy: str, condition_id: str, at: float) -> tuple[str, str] | None:
        """(rule, why) when an entry may not go at all; None to go on to sizing."""
        self._now = at
        names = StrategyId(strategy).names
        if self._strategies and strategy != MANUAL and not self._strategies.issuperset(names):
            return "live_strategy", (
                f"live.strategies allows {', '.join(sorted(self._strategies))}, not {strategy}"
            )
        market = self._market(condition_id)
        if self._markets:
            keys = {condition_id} | ({market.slug} if market is not None else set())
            if not keys & self._markets:
                return "live_market", "the market is not in live.markets"
        if market is not None and self.config.no_entries_before_end_s > 0:
            end = _end_time(market.end_date)
            if end is not None and end - at < self.config.no_entries_before_end_s:
                return "market_ending", (
                    f"the market ends in {max(0.0, end - at):.0f} s (live.no_entries_before_end_s"
                    f" = {self.config.no_entries_before_end_s:g})"
                )
        if self.day_left(at) <= 0:
            return "live_daily_notional", (
                f"today's live entries reached live.max_daily_notional = "
                f"{self.config.max_daily_notional} USDC"
            )
        return None

    def cuts(self, size: int, price: int) -> list[tuple[str, int]]:
        """Each live rule that makes an entry of `size` at `price` smaller: (rule, size
        after it), in order."""
        steps: list[tuple[str, int]] = []
        if self._scale < 1.0:
            scaled = int(size * self._scale)
            size = scaled - scaled % SHARE_STEP
            steps.append(("live size scale", size))
        if price <= 0:
            return steps
        for rule, room in (
            ("live max order notional", self.max_order),
            ("live daily notional", self.day_left(self._now)),
        ):
            most = room // price
            most -= most % SHARE_STEP
            if most < size:
                size = most
                steps.append((rule, size))
        return steps

    def record(self, order: OrderRequest) -> None:
        """An order left for the venue: an entry counts against the day."""
        if order.is_exit:
            return
        self._count(order.created_at, order.price * order.size)

    def describe(self) -> str:
        return f"{format_cash(self.day_notional)} of {format_cash(self.max_day)} USDC today"
