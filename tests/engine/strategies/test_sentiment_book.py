"""The sentiment book: readings from matched headlines, blending, freshness and decay."""

from __future__ import annotations

import math

import pytest

from engine.market.sentiment import Headline, SentimentReading
from engine.strategies.sentiment import NEUTRAL_BAND, SentimentBook, keywords_of
from tests.kit.sentiment_markets import ALL, ELECTION, FED, SUPERBOWL

NOW = 1_800_000_000.0


def headline(
    title: str,
    at: float = NOW,
    *,
    markets: tuple[str, ...] = (),
    provider: str = "newsapi",
    is_news: bool = True,
) -> Headline:
    return Headline(provider, "wire", title, "", f"https://n.invalid/{title}", at, is_news, markets)


def test_positive_news_about_a_question_reads_bullish_for_yes() -> None:
    book = SentimentBook()
    (scored,) = book.ingest([headline("Fed signals strong support for a rate cut")], ALL, NOW)
    assert scored.markets == (FED.condition_id,)
    assert scored.score > NEUTRAL_BAND
    reading = book.reading(FED.condition_id)
    assert reading is not None
    assert reading.score == pytest.approx(scored.score)
    assert 0 < reading.confidence <= scored.confidence
    assert reading.source == "newsapi"
    assert reading.is_news
    assert reading.updated_at == NOW
    assert reading.headline == "Fed signals strong support for a rate cut"
    assert book.reading(SUPERBOWL.condition_id) is None


def test_negative_news_reads_bearish_and_names_its_source() -> None:
    book = SentimentBook()
    tweet = headline(
        "Doubts grow as Newsom campaign collapses",
        markets=(ELECTION.slug,),
        provider="twitter",
        is_news=False,
    )
    book.ingest([tweet], ALL, NOW)
    reading = book.reading(ELECTION.condition_id)
    assert reading is not None
    assert reading.score < -NEUTRAL_BAND
    assert reading.source == "twitter"
    assert not reading.is_news


def test_unmatched_and_neutral_headlines_are_scored_but_move_no_reading() -> None:
    book = SentimentBook()
    out = book.ingest(
        [headline("Local bakery wins pie contest"), headline("Fed to announce rate decision")],
        ALL,
        NOW,
    )
    assert [s.markets for s in out] == [(), (FED.condition_id,)]
    assert abs(out[1].score) < NEUTRAL_BAND
    assert book.readings() == {}
    assert [s.headline.title for s in book.recent(5)] == [
        "Fed to announce rate decision",
        "Local bakery wins pie contest",
    ]


def test_a_new_headline_blends_with_the_decayed_old_reading() -> None:
    book = SentimentBook(blend_half_life_s=600.0)
    first = book.ingest([headline("Fed signals strong support for a rate cut", NOW)], ALL, NOW)[0]
    old = book.reading(FED.condition_id)
    assert old is not None
    later = NOW + 600.0  # one half-life: the old reading weighs half its confidence
    second = book.ingest([headline("Fed rate cut hopes collapse", later)], ALL, later)[0]
    assert second.score < 0 < first.score
    (match,) = book.index.match(second.headline)
    assert match.strength == 1.0  # fed, rate, cut: enough keywords for full strength
    w_old, w_new = old.confidence * 0.5, second.confidence
    reading = book.reading(FED.condition_id)
    assert reading is not None
    assert reading.score == pytest.approx(
        (old.score * w_old + second.score * w_new) / (w_old + w_new)
    )
    assert reading.confidence == pytest.approx(max(w_old, w_new))
    assert reading.updated_at == later
    assert reading.headline == "Fed rate cut hopes collapse"


def test_an_old_headline_moves_no_reading_and_old_readings_expire() -> None:
    book = SentimentBook(max_age_s=600.0)
    book.ingest([headline("Fed signals strong support for a rate cut", NOW - 601)], ALL, NOW)
    # Too old to move a reading: skipped before any work (not scored, not recorded).
    assert book.readings() == {}
    assert book.recent(10) == []
    assert book.too_old == 1
    book.ingest([headline("Fed signals strong support for a rate cut!", NOW)], ALL, NOW)
    assert FED.condition_id in book.readings()
    book.expire(NOW + 600)
    assert FED.condition_id in book.readings()
    book.expire(NOW + 601)
    assert book.readings() == {}


def test_a_late_older_headline_does_not_override_a_newer_reading() -> None:
    book = SentimentBook()
    book.ingest([headline("Fed signals strong support for a rate cut", NOW)], ALL, NOW)
    before = book.reading(FED.condition_id)
    book.ingest([headline("Fed rate cut hopes collapse", NOW - 60)], ALL, NOW)
    assert book.reading(FED.condition_id) == before


def test_future_publication_times_are_clamped_to_now() -> None:
    book = SentimentBook()
    book.ingest([headline("Fed signals strong support for a rate cut", NOW + 3600)], ALL, NOW)
    reading = book.reading(FED.condition_id)
    assert reading is not None
    assert reading.updated_at == NOW


def test_decay_halves_per_half_life() -> None:
    r = SentimentReading("m", 0.8, 0.8, "newsapi", True, updated_at=NOW)
    assert r.decayed(NOW, 300) == pytest.approx(0.8)
    assert r.decayed(NOW + 300, 300) == pytest.approx(0.4)
    assert r.decayed(NOW + 900, 300) == pytest.approx(0.1)
    assert r.decayed(NOW + 10, 0) == 0.8  # no half-life: no decay
    assert r.age(NOW - 5) == 0.0  # a clock behind the reading never gives a negative age
    assert r.decayed(NOW + 450, 300) == pytest.approx(0.8 * math.exp(-math.log(2) * 1.5))


def test_the_index_is_rebuilt_only_when_markets_change() -> None:
    book = SentimentBook()
    markets = list(ALL)
    book.ingest([], markets, NOW)
    index = book.index
    book.ingest([], list(ALL), NOW)  # a new list, same markets
    assert book.index is index
    book.ingest([], markets[:2], NOW)
    assert book.index is not index
    assert book.index.markets == tuple(m.condition_id for m in markets[:2])


def test_recent_is_bounded_and_newest_first() -> None:
    book = SentimentBook(recent_max=3)
    book.ingest([headline(f"Item {i}") for i in range(5)], ALL, NOW)
    assert [s.headline.title for s in book.recent(10)] == ["Item 4", "Item 3", "Item 2"]
    assert book.recent(0) == []


def test_numbers_are_one_keyword_however_written() -> None:
    assert keywords_of("$150,000") == keywords_of("150k") == keywords_of("150K") == ["150000"]
