"""Constructed markets shared by the sentiment tests."""

from __future__ import annotations

from dataclasses import dataclass

from engine.market.markets import MarketInfo, Outcome


def market(cid: str, question: str, slug: str) -> MarketInfo:
    return MarketInfo(cid, question, slug, (Outcome(f"{cid}-y", "Yes"), Outcome(f"{cid}-n", "No")))


@dataclass(frozen=True, slots=True)
class TaggedMarket(MarketInfo):
    """A market carrying Gamma's tag labels (until MarketInfo itself has `tags`)."""

    tags: tuple[str, ...] = ()


FED = market("0xfed", "Will the Fed cut interest rates in December?", "fed-rate-cut-december")
BTC_HIGH = market("0xbtc1", "Will Bitcoin reach $150,000 by December 31?", "bitcoin-150k-2026")
BTC_LOW = market("0xbtc2", "Will Bitcoin dip below $50,000 in 2026?", "bitcoin-below-50k-2026")
ELECTION = market(
    "0xelec", "Will Gavin Newsom win the 2028 Democratic nomination?", "newsom-2028-nomination"
)
SUPERBOWL = market("0xsb", "Will the Chiefs win Super Bowl LXI?", "chiefs-super-bowl-lxi")
ALL = (FED, BTC_HIGH, BTC_LOW, ELECTION, SUPERBOWL)
