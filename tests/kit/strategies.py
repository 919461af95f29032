"""Constructed markets, books and contexts for strategy tests: real OrderBooks wrapped in
BookViews, real MarketInfo, real TradeFlow; prices and sizes given as decimals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from engine.fixed import PRICE_SCALE, SIZE_SCALE
from engine.market.book import OrderBook
from engine.market.book_view import BookView
from engine.market.event_groups import EventGroup
from engine.market.fees import FREE, FeeSchedule
from engine.market.flow import TradeFlow
from engine.market.markets import MarketInfo, Outcome
from engine.market.sentiment import SentimentReading
from engine.strategies.base import MarketContext, OwnLot

WALL0 = 1_800_000_000.0  # a clock time for sentiment ages


def px(value: float) -> int:
    return round(value * PRICE_SCALE)


def sh(value: float) -> int:
    return round(value * SIZE_SCALE)


def make_book(
    asset: str,
    bids: Sequence[tuple[float, float]],
    asks: Sequence[tuple[float, float]],
    market: str = "0xm",
) -> OrderBook:
    book = OrderBook(asset, market)
    book.set_tick(100)
    book.replace([(px(p), sh(s)) for p, s in bids], [(px(p), sh(s)) for p, s in asks])
    return book


def quote(
    asset: str, bid: float, ask: float, size: float = 100.0, market: str = "0xm"
) -> OrderBook:
    return make_book(asset, [(bid, size)], [(ask, size)], market)


def make_market(
    cid: str = "0xm",
    yes: str = "Y",
    no: str = "N",
    fees: FeeSchedule = FREE,
    volume: float = 50_000,
    event_id: str = "",
    neg_risk: bool = False,
    event_markets: int = 0,
) -> MarketInfo:
    return MarketInfo(
        condition_id=cid,
        question=f"Will {cid} happen?",
        slug=cid,
        outcomes=(Outcome(yes, "Yes"), Outcome(no, "No")),
        fees=fees,
        volume_24h=Decimal(str(volume)),
        neg_risk=neg_risk,
        event_id=event_id,
        event_markets=event_markets,
    )


def fees(rate: str, exponent: str = "1") -> FeeSchedule:
    return FeeSchedule(rate=Decimal(rate), exponent=Decimal(exponent))


def flow_with_spike(spike: float, now: float = 0.0) -> TradeFlow:
    """A TradeFlow whose short rate is `spike` times its long rate at `now`."""
    flow = TradeFlow()
    flow.on_print(600.0, now - 1_000.0)  # the usual flow, long ago
    short, long = flow.rates(now)
    flow.short_rate, flow.long_rate, flow.last_at = long * spike, long, now
    return flow


def reading(
    score: float,
    age: float = 10.0,
    confidence: float = 0.9,
    is_news: bool = True,
    market: str = "0xm",
    source: str = "reuters",
) -> SentimentReading:
    return SentimentReading(market, score, confidence, source, is_news, WALL0 - age, "headline")


def lot(entry: float, size: float = 10.0, opened_at: float = WALL0 - 5.0) -> OwnLot:
    return OwnLot(px(entry), sh(size), opened_at)


def context(
    book: OrderBook,
    market: MarketInfo,
    now: float = 0.0,
    *,
    wall: float = WALL0,
    complement: OrderBook | None = None,
    event: EventGroup | None = None,
    sentiment: SentimentReading | None = None,
    flow: TradeFlow | None = None,
    lots: Mapping[str, tuple[OwnLot, ...]] | None = None,
    books: Mapping[str, OrderBook] | None = None,
    lots_of: Mapping[str, Mapping[str, tuple[OwnLot, ...]]] | None = None,
) -> MarketContext:
    """`lots` are the lots on this book's token; `lots_of` those on other tokens."""
    views = {asset: BookView(b) for asset, b in (books or {}).items()}
    others = lots_of or {}
    return MarketContext(
        book.asset_id,
        market,
        BookView(book),
        0,
        now,
        wall=wall,
        complement=None if complement is None else BookView(complement),
        event=event,
        sentiment=sentiment,
        flow=flow,
        lots=lots or {},
        book_of=views.get,
        lots_of=lambda asset: others.get(asset, {}),
    )
