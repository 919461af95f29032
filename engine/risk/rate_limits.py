"""Order-rate caps over rolling windows: global, per strategy, per market, per side and
per market x side, as ``[trading.order_frequency]`` and
``[trading.strategy_order_frequency.<name>]`` configure them.

Rolling windows
    An order counts in a window for ``interval_seconds`` after it was sent: sent at ``t``,
    it counts while ``now < t + interval_seconds``. A window with ``max_orders`` N allows
    the (N+1)th order only once the oldest of the N has aged out. Each window keeps a
    deque of send times per key, oldest first; entries expire lazily, whenever
    :meth:`OrderRateLimiter.check`, :meth:`~OrderRateLimiter.record` or
    :meth:`~OrderRateLimiter.levels` looks at that key.

Scopes
    ``global`` applies to every order while ``order_frequency.enabled``. A strategy with
    an (enabled) entry in ``strategy_order_frequency`` gets its ``strategy`` window, plus
    one window per market, per side and/or per market x side when ``per_market`` /
    ``per_side`` / ``per_market_side`` is ``true`` (the strategy's own limits) or a
    ``{max_orders, interval_seconds}`` table (those limits). A strategy with no entry has
    no per-strategy cap. Refusals say ``order_rate_limit`` (the global window) or
    ``strategy_rate_limit`` (any per-strategy window); when several windows are full the
    first in the order global, strategy, market, side, market x side is reported.

Combined orders
    The engine names an order that several strategies agreed on ``"a+b"``. Such an order
    is checked against, and counts in, the windows of each named strategy (split on
    ``"+"``, each name once), and in the global window once. A configured strategy name
    that itself contains ``"+"`` therefore never matches anything.

A person's orders
    ``manual`` orders (the console's form, ``polyterm order``) count in the global window
    but are not refused by it: the global cap bounds what the strategies send, and a
    busy bot must not lock its owner out of their own market. They are capped by
    ``[trading.strategy_order_frequency.manual]`` when that is configured, like any
    strategy.

Exits
    The limiter is neutral: it refuses what :meth:`~OrderRateLimiter.check` is asked
    about and counts what :meth:`~OrderRateLimiter.record` is told. The engine calls
    ``check`` for entries only (exits are never blocked by entry rules); whatever it
    records live, :meth:`~OrderRateLimiter.restore` should be given the same kind of
    orders from the ledger, so a restart counts what a live run would have counted.

Time
    Comes only from arguments. ``restore`` mixes the ledger's ``created_at`` with ``now``,
    so ``check``/``record``/``levels`` must use the same clock (``Clock.time()``). Times
    are expected not to go backwards; if a ``record`` does go back, it is inserted in
    order, and orders stamped after ``now`` keep counting (a refusal errs on the safe
    side).

Cost and memory
    Which windows apply to a strategy name is worked out once per name and cached, so
    ``check`` is one dict lookup plus, per window, a dict lookup and a deque peek; it
    allocates nothing unless it refuses. Keys for markets and sides are made when an order
    is recorded under them and dropped when their deque empties.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Sequence

import msgspec

from engine.config import TradingConfig, Window
from engine.orders import MANUAL, Side, StrategyId

__all__ = [
    "ALLOWED",
    "ORDER_RATE_LIMIT",
    "STRATEGY_RATE_LIMIT",
    "OrderRateLimiter",
    "RateDecision",
    "WindowLevel",
]

ORDER_RATE_LIMIT = "order_rate_limit"
STRATEGY_RATE_LIMIT = "strategy_rate_limit"

# Window kinds; also their order in a plan and in reports.
_GLOBAL, _STRATEGY, _MARKET, _SIDE, _MARKET_SIDE = range(5)
_SCOPES = ("global", "strategy", "market", "side", "market_side")
_KEYED_SCOPES = (("market", _MARKET), ("side", _SIDE), ("market_side", _MARKET_SIDE))


class RateDecision(msgspec.Struct, frozen=True):
    allowed: bool
    reason: str | None  # "order_rate_limit" (global) or "strategy_rate_limit"; None: allowed
    # Which window refused, e.g. "mean_reversion per market 0xabc…: 2/2 in 30s".
    detail: str | None


ALLOWED = RateDecision(True, None, None)


class WindowLevel(msgspec.Struct, frozen=True):
    """How full one window is, for the snapshot."""

    scope: str  # "global", "strategy", "market", "side" or "market_side"
    # "" (global), "<strategy>", "<strategy>/<market>", "<strategy>/<side>",
    # "<strategy>/<market>/<side>"
    key: str
    used: int  # orders sent within the last interval_s
    limit: int  # max_orders
    interval_s: float
    resets_in_s: float  # until the oldest of them ages out (a slot frees); 0 when empty


class _Window:
    """One configured window; ``queues`` holds a deque of send times per key.

    The key is "" for the global and strategy windows, the market or the side for the
    market and side windows; market x side windows keep one table per side, keyed by
    market, so no lookup has to build a tuple.
    """

    __slots__ = ("by_side", "interval", "kind", "max_orders", "queues", "reason", "strategy")

    def __init__(self, kind: int, strategy: str, window: Window) -> None:
        self.kind = kind
        self.strategy = strategy
        self.max_orders = window.max_orders
        self.interval = window.interval_seconds
        self.reason = ORDER_RATE_LIMIT if kind == _GLOBAL else STRATEGY_RATE_LIMIT
        self.queues: dict[str, deque[float]] = {}
        self.by_side: dict[str, dict[str, deque[float]]] = (
            {Side.BUY: {}, Side.SELL: {}} if kind == _MARKET_SIDE else {}
        )

    def table(self, market: str, side: Side) -> tuple[dict[str, deque[float]], str]:
        kind = self.kind
        if kind == _MARKET:
            return self.queues, market
        if kind == _SIDE:
            return self.queues, side
        if kind == _MARKET_SIDE:
            return self.by_side[side], market
        return self.queues, ""

    def tables(self) -> Iterable[tuple[str, dict[str, deque[float]]]]:
        """(key suffix, table) pairs covering every key of this window."""
        if self.kind == _MARKET_SIDE:
            return ((f"/{side}", table) for side, table in self.by_side.items())
        return (("", self.queues),)

    def clear(self) -> None:
        self.queues.clear()
        for table in self.by_side.values():
            table.clear()

    def label(self, market: str, side: Side) -> str:
        kind = self.kind
        if kind == _GLOBAL:
            return "global"
        if kind == _STRATEGY:
            return self.strategy
        if kind == _MARKET:
            return f"{self.strategy} per market {_short(market)}"
        if kind == _SIDE:
            return f"{self.strategy} per side {side}"
        return f"{self.strategy} per market×side {_short(market)} {side}"

    def level_key(self, key: str, suffix: str) -> str:
        if self.kind == _GLOBAL:
            return ""
        if self.kind == _STRATEGY:
            return self.strategy
        return f"{self.strategy}/{key}{suffix}"


class OrderRateLimiter:
    """Rolling order-rate caps; see the module docstring for the rules."""

    def __init__(self, config: TradingConfig) -> None:
        freq = config.order_frequency
        self._global: tuple[_Window, ...] = ()
        if freq.enabled:
            window = Window(max_orders=freq.max_orders, interval_seconds=freq.interval_seconds)
            self._global = (_Window(_GLOBAL, "", window),)
        self._by_strategy: dict[str, tuple[_Window, ...]] = {}
        for name, strategy in config.strategy_order_frequency.items():
            if not strategy.enabled:
                continue
            own = Window(max_orders=strategy.max_orders, interval_seconds=strategy.interval_seconds)
            windows = [_Window(_STRATEGY, name, own)]
            for scope, kind in _KEYED_SCOPES:
                limits = strategy.window(scope)
                if limits is not None:
                    windows.append(_Window(kind, name, limits))
            self._by_strategy[name] = tuple(windows)
        self._windows: tuple[_Window, ...] = self._global + tuple(
            w for windows in self._by_strategy.values() for w in windows
        )
        self._plans: dict[str, tuple[_Window, ...]] = {}
        self._checks: dict[str, tuple[_Window, ...]] = {}

    def check(self, strategy: str, market: str, side: Side, now: float) -> RateDecision:
        """Whether one more order now stays within every window it would count in.

        Records nothing (call :meth:`record` once the order is sent).
        """
        plan = self._checks.get(strategy)
        if plan is None:
            plan = self._check_plan(strategy)
        for w in plan:
            kind = w.kind
            if kind == _MARKET:
                table, key = w.queues, market
            elif kind == _SIDE:
                table, key = w.queues, side
            elif kind == _MARKET_SIDE:
                table, key = w.by_side[side], market
            else:
                table, key = w.queues, ""
            q = table.get(key)
            if q is None:
                continue
            interval = w.interval
            while q and q[0] + interval <= now:
                q.popleft()
            if not q:
                del table[key]
            elif len(q) >= w.max_orders:
                return RateDecision(
                    False,
                    w.reason,
                    f"{w.label(market, side)}: {len(q)}/{w.max_orders} in {_secs(interval)}",
                )
        return ALLOWED

    def check_batch(
        self, strategy: str, orders: Sequence[tuple[str, Side]], now: float
    ) -> RateDecision:
        """Whether all of `orders` (market, side) sent together now stay within every
        window: a basket's legs are checked as one, never one leg at a time.

        Records nothing.
        """
        plan = self._checks.get(strategy)
        if plan is None:
            plan = self._check_plan(strategy)
        for w in plan:
            wanted: dict[tuple[int, str], int] = {}
            for market, side in orders:
                table, key = w.table(market, side)
                slot = (id(table), key)
                wanted[slot] = n = wanted.get(slot, 0) + 1
                q = table.get(key)
                used = 0 if q is None else sum(1 for t in q if t + w.interval > now)
                if used + n > w.max_orders:
                    return RateDecision(
                        False,
                        w.reason,
                        f"{w.label(market, side)}: {used}/{w.max_orders} in {_secs(w.interval)}"
                        f", {len(orders)} legs",
                    )
        return ALLOWED

    def record(self, strategy: str, market: str, side: Side, now: float) -> None:
        """An order was sent at `now`: it counts in each of its windows from now on."""
        plan = self._plans.get(strategy)
        if plan is None:
            plan = self._plan(strategy)
        for w in plan:
            table, key = w.table(market, side)
            q = table.get(key)
            if q is None:
                table[key] = deque((now,))
                continue
            interval = w.interval
            while q and q[0] + interval <= now:
                q.popleft()
            if q and q[-1] > now:
                bisect.insort(q, now)  # the clock went back: keep the deque in time order
            else:
                q.append(now)

    def levels(self, now: float, *, near: float = 0.0) -> list[WindowLevel]:
        """Windows whose used/limit is at least `near`, fullest first.

        The global window (when enabled) and each strategy's own window are always
        there, empty or not; market, side and market x side windows only while an order
        counts in them.
        """
        out: list[WindowLevel] = []
        for w in self._windows:
            interval = w.interval
            for suffix, table in w.tables():
                for key, q in list(table.items()):
                    while q and q[0] + interval <= now:
                        q.popleft()
                    if not q:
                        del table[key]
                        continue
                    if len(q) / w.max_orders >= near:
                        out.append(
                            WindowLevel(
                                _SCOPES[w.kind],
                                w.level_key(key, suffix),
                                len(q),
                                w.max_orders,
                                interval,
                                max(q[0] + interval - now, 0.0),
                            )
                        )
            if w.kind in (_GLOBAL, _STRATEGY) and "" not in w.queues and near <= 0:
                out.append(
                    WindowLevel(
                        _SCOPES[w.kind], w.level_key("", ""), 0, w.max_orders, interval, 0.0
                    )
                )
        out.sort(key=lambda x: (-x.used / x.limit, -x.used, _SCOPES.index(x.scope), x.key))
        return out

    def restore(self, orders: Iterable[tuple[float, str, str, Side]], now: float) -> int:
        """Rebuild the windows from recent orders, as the ledger has them:
        ``(created_at, strategy, market, side)``, in any order.

        Replaces whatever the limiter held. An order counts in each window whose interval
        has not yet passed since it was sent (a 45 s old order still counts in a 60 s
        window but not in a 30 s one). Returns how many orders still count somewhere.
        """
        for w in self._windows:
            w.clear()
        counted = 0
        for at, strategy, market, side in sorted(orders, key=lambda o: o[0]):
            plan = self._plans.get(strategy)
            if plan is None:
                plan = self._plan(strategy)
            counts = False
            for w in plan:
                if at + w.interval <= now:
                    continue
                counts = True
                table, key = w.table(market, side)
                q = table.get(key)
                if q is None:
                    table[key] = deque((at,))
                else:
                    q.append(at)
            counted += counts
        return counted

    def _plan(self, strategy: str) -> tuple[_Window, ...]:
        """The windows an order of `strategy` ("a" or "a+b") counts in, cached per name."""
        names = dict.fromkeys(name for name in StrategyId(strategy).names if name)
        plan = self._global + tuple(w for name in names for w in self._by_strategy.get(name, ()))
        self._plans[strategy] = plan
        return plan

    def _check_plan(self, strategy: str) -> tuple[_Window, ...]:
        """The windows that may refuse an order of `strategy`: all it counts in, but the
        global one for a person's own (``manual``) orders."""
        plan = self._plans.get(strategy) or self._plan(strategy)
        if strategy == MANUAL:
            plan = tuple(w for w in plan if w.kind != _GLOBAL)
        self._checks[strategy] = plan
        return plan


def _short(market: str) -> str:
    return market if len(market) <= 10 else f"{market[:8]}…"


def _secs(interval: float) -> str:
    return f"{interval:g}s"
