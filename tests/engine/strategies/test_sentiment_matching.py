"""Matching headlines to markets by keywords from question, slug and tags."""

from __future__ import annotations

from engine.market.sentiment import Headline
from engine.strategies.sentiment import KeywordIndex
from tests.kit.sentiment_markets import (
    ALL,
    BTC_HIGH,
    BTC_LOW,
    ELECTION,
    FED,
    SUPERBOWL,
    TaggedMarket,
    market,
)


def headline(title: str, description: str = "", markets: tuple[str, ...] = ()) -> Headline:
    return Headline("jsonl", "wire", title, description, "", 0.0, markets=markets)


def matched(index: KeywordIndex, h: Headline) -> set[str]:
    return {m.market for m in index.match(h)}


def test_question_keywords_match() -> None:
    index = KeywordIndex(ALL)
    assert matched(index, headline("Fed officials hint at an interest rate cut")) == {
        FED.condition_id
    }
    assert matched(index, headline("Newsom leads early polls for the Democratic nomination")) == {
        ELECTION.condition_id
    }


def test_slug_keywords_match() -> None:
    # "chiefs" and "lxi" come from the slug as well as the question; "super bowl" too.
    index = KeywordIndex(ALL)
    assert matched(index, headline("Chiefs favoured for Super Bowl after playoff rout")) == {
        SUPERBOWL.condition_id
    }


def test_tag_keywords_match() -> None:
    plain = market("0xwc", "Will Brazil lift the trophy?", "brazil-trophy")
    tagged = TaggedMarket(
        plain.condition_id, plain.question, plain.slug, plain.outcomes, tags=("World Cup", "Soccer")
    )
    h = headline("Brazil named World Cup favourites")
    assert matched(KeywordIndex([plain]), h) == set()  # "brazil" alone is one keyword
    assert matched(KeywordIndex([tagged]), h) == {tagged.condition_id}


def test_one_common_word_is_not_enough() -> None:
    index = KeywordIndex(ALL)
    # "bitcoin" is in two markets' questions: alone it ties the headline to neither.
    assert matched(index, headline("Bitcoin is volatile today")) == set()
    # With a second keyword the right market is found.
    assert matched(index, headline("Bitcoin could dip below 50,000, analysts say")) == {
        BTC_LOW.condition_id
    }
    assert matched(index, headline("Analysts see Bitcoin at 150,000 soon")) == {
        BTC_HIGH.condition_id
    }


def test_words_shared_by_many_markets_need_a_rare_one() -> None:
    many = [
        market(f"0x{k}", f"Will Bitcoin close above ${k},000 on Friday?", f"btc-above-{k}k")
        for k in range(40, 80, 2)
    ]
    index = KeywordIndex(many)
    # "bitcoin", "close" and "btc" are in every market: no single market is meant.
    assert matched(index, headline("Bitcoin close watched by traders")) == set()
    # The strike is rare: "$56K" is the slug's "56k" and the question's "$56,000".
    assert matched(index, headline("Bitcoin set to close above $56K")) == {"0x56"}


def test_a_headline_naming_its_market_wins_over_keywords() -> None:
    index = KeywordIndex(ALL)
    h = headline("Chiefs favoured for Super Bowl", markets=(FED.condition_id,))
    assert matched(index, h) == {FED.condition_id}
    by_slug = headline("Anything at all", markets=(ELECTION.slug, "unknown-market"))
    found = index.match(by_slug)
    assert [m.market for m in found] == [ELECTION.condition_id]
    assert found[0].strength == 1.0


def test_match_strength_grows_with_hits() -> None:
    index = KeywordIndex(ALL)
    (two,) = index.match(headline("Fed rate decision"))
    (more,) = index.match(headline("Fed cuts interest rate"))
    assert 0 < two.strength < more.strength <= 1.0


def test_unmatched_headline_matches_nothing() -> None:
    assert matched(KeywordIndex(ALL), headline("Local bakery wins pie contest")) == set()
    assert KeywordIndex(()).match(headline("Fed cuts rates")) == []
