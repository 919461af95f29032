"""What the gateway knows of our orders at the venue: each one's venue id (its signed
hash), the shares it was signed for, the fills reported for it, and each fill's latest
trade status; and how a venue's order or trade becomes the engine's reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.adapters.polymarket.live.wire import (
    TRADE_RANK,
    OurFill,
    VenueOrder,
    VenueTrade,
    lifecycle,
    our_fills,
)
from engine.market.markets import MarketInfo
from engine.orders import Fill, Liquidity, OrderStatus, Side
from engine.venue import FillReport, OrderUpdate, TradeStatus, TradeUpdate, VenueReport


@dataclass(slots=True)
class Working:
    """One of our orders the venue holds (or held)."""

    order_id: str
    venue_id: str
    size: int  # the shares signed (what "matched in full" means at the venue)
    asset_id: str
    filled: int = 0
    posted: bool = False  # the venue answered for it (it holds or held it)
    done: bool = False  # closed in the engine (its final status reported)
    pending_trades: set[str] = field(default_factory=set)  # ids named by the POST answer


class VenueOrders:
    """Our orders by engine id and by venue id, and the fills reported."""

    def __init__(self, api_key: str, wallet: str, market_of: Callable[[str], MarketInfo | None]):
        self.api_key = api_key
        self.wallet = wallet
        self._market_of = market_of
        self.by_order: dict[str, Working] = {}
        self.by_venue: dict[str, Working] = {}
        self.known_venue_ids: dict[str, str] = {}  # earlier runs' orders: venue id -> ours
        self.fill_status: dict[str, TradeStatus] = {}  # reported fill id -> latest status
        self.fill_order: dict[str, str] = {}  # reported fill id -> our order id
        self.fill_parts: dict[str, tuple[str, Side, int]] = {}  # fill id -> asset, side, size
        self.stranger_fills = 0  # fills of orders neither this run nor the ledger knows

    def add(
        self, order_id: str, venue_id: str, size: int, asset_id: str, filled: int = 0
    ) -> Working:
        working = Working(order_id, venue_id, size, asset_id, filled)
        self.by_order[order_id] = working
        self.by_venue[venue_id] = working
        return working

    def order_id(self, venue_id: str) -> str | None:
        working = self.by_venue.get(venue_id)
        if working is not None:
            return working.order_id
        return self.known_venue_ids.get(venue_id)

    def assets(self) -> set[str]:
        """Every token our orders traded or work on."""
        return {w.asset_id for w in self.by_order.values()}

    def unsettled(self) -> list[str]:
        """Fills whose trade is not final yet (their status still moves)."""
        return [f for f, s in self.fill_status.items() if not s.is_final]

    # -- venue -> reports ---------------------------------------------------------------
    def trade_reports(
        self, trade: VenueTrade, knows_fill: Callable[[str], bool]
    ) -> list[VenueReport]:
        """Our fills in `trade` (first sighting) or their new status (later ones)."""
        status = trade.status
        if status is None:
            return []
        reports: list[VenueReport] = []
        for part in our_fills(trade, self.api_key, self.wallet):
            reports.extend(self._part(part, status, trade.at, knows_fill))
        return reports

    def _part(
        self,
        part: OurFill,
        status: TradeStatus,
        at: float,
        knows_fill: Callable[[str], bool],
    ) -> list[VenueReport]:
        fill_id = part.fill_id
        seen = self.fill_status.get(fill_id)
        if seen is None and knows_fill(fill_id):
            # Counted by an earlier run: its status from here on (a failed trade is undone;
            # the order manager notes it when it cannot be).
            self.fill_status[fill_id] = status
            return [] if status is TradeStatus.MATCHED else [TradeUpdate(fill_id, status, at)]
        if seen is not None:
            if seen.is_final or status is seen or TRADE_RANK[status] < TRADE_RANK[seen]:
                # A repeat, an older message arriving late, or anything after the end:
                # a fill's status never moves back, and a final one never moves.
                return []
            self.fill_status[fill_id] = status
            return [TradeUpdate(fill_id, status, at)]
        if status is TradeStatus.FAILED:
            # Failed before we ever saw it matched: nothing to count, nothing to undo.
            self.fill_status[fill_id] = status
            return []
        order_id = self.order_id(part.venue_order_id)
        if order_id is None:
            self.stranger_fills += 1
            order_id = part.venue_order_id
        market = self._market_of(part.asset_id)
        fee = 0
        if part.liquidity is Liquidity.TAKER and market is not None:
            fee = market.fees.taker_fee(part.price, part.size)
        fill = Fill(
            fill_id,
            order_id,
            part.asset_id,
            part.market or (market.condition_id if market else ""),
            part.side,
            part.price,
            part.size,
            fee,
            part.liquidity,
            at,
        )
        first = TradeStatus.MATCHED if status is TradeStatus.RETRYING else status
        self.fill_status[fill_id] = first
        self.fill_order[fill_id] = order_id
        self.fill_parts[fill_id] = (part.asset_id, part.side, part.size)
        reports: list[VenueReport] = [FillReport(fill, first)]
        if status is TradeStatus.RETRYING:
            self.fill_status[fill_id] = status
            reports.append(TradeUpdate(fill_id, status, at))
        working = self.by_venue.get(part.venue_order_id)
        if working is not None:
            working.filled += part.size
            working.pending_trades.discard(fill_id.split(":")[0])
            if working.filled >= working.size and not working.done:
                # Matched in full at the venue (its size may be a little under ours: the
                # SDK rounds sizes to the market's precision).
                working.done = True
                reports.append(
                    OrderUpdate(working.order_id, OrderStatus.FILLED, at, None, working.venue_id)
                )
        return reports

    def order_reports(self, order: VenueOrder, at: float) -> list[VenueReport]:
        """The lifecycle the venue's word on one of our orders means."""
        working = self.by_venue.get(order.id)
        order_id = working.order_id if working is not None else self.order_id(order.id)
        if order_id is None:
            return []
        said = lifecycle(order)
        if said is None:
            return []
        status, reason = said
        if working is not None:
            working.posted = True  # the venue holds (or held) it
            if working.done:
                return []
            if not status.is_open:
                working.done = True
        return [OrderUpdate(order_id, status, at, reason, order.id)]
