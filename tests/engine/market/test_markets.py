"""Market metadata: the token ids a market is read by follow its outcomes."""

from __future__ import annotations

from dataclasses import replace

from engine.market.markets import MarketInfo, Outcome


def test_token_ids_follow_the_outcomes_through_a_replace() -> None:
    market = MarketInfo("0xm", "Will it?", "will-it", (Outcome("Y", "Yes"), Outcome("N", "No")))
    assert market.token_ids == ("Y", "N")
    swapped = replace(market, outcomes=(Outcome("A", "Yes"), Outcome("B", "No")))
    assert swapped.token_ids == ("A", "B")
    assert market.token_ids == ("Y", "N")
    # Not a field of the market's identity: the same outcomes, the same market.
    assert replace(swapped, outcomes=market.outcomes) == market
    assert "token_ids" not in repr(market)
