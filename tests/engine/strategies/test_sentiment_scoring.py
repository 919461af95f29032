"""Scoring: VADER's compound score on constructed headlines, the subject masked."""

from __future__ import annotations

import pytest

from engine.market.sentiment import Headline
from engine.strategies.sentiment import NEUTRAL_BAND, SentimentScorer, keyword, keywords_of


def headline(title: str, description: str = "") -> Headline:
    return Headline("jsonl", "wire", title, description, f"https://n.invalid/{title}", 0.0)


@pytest.fixture(scope="module")
def scorer() -> SentimentScorer:
    return SentimentScorer()


@pytest.mark.parametrize(
    "title",
    [
        "Candidate wins debate as support soars",
        "Strong gains lift confidence in a December rate cut",
        "Fed chair confident the economy is strong",
    ],
)
def test_positive_headlines_score_positive(scorer: SentimentScorer, title: str) -> None:
    s = scorer.score(headline(title))
    assert s.score > NEUTRAL_BAND
    assert s.confidence == pytest.approx(abs(s.score))
    assert not s.neutral


@pytest.mark.parametrize(
    "title",
    [
        "Bitcoin crashes as fears mount over ETF rejection",
        "Campaign collapses after scandal; donors flee",
        "Doubts grow over the nomination",
    ],
)
def test_negative_headlines_score_negative(scorer: SentimentScorer, title: str) -> None:
    s = scorer.score(headline(title))
    assert s.score < -NEUTRAL_BAND
    assert 0 < s.confidence <= 1


@pytest.mark.parametrize(
    "title", ["Fed to announce rate decision on Wednesday", "Committee publishes the schedule"]
)
def test_neutral_headlines_are_neutral(scorer: SentimentScorer, title: str) -> None:
    s = scorer.score(headline(title))
    assert s.neutral
    assert s.confidence < NEUTRAL_BAND


def test_negation_is_the_models_not_ours(scorer: SentimentScorer) -> None:
    # VADER's rules flip "not good": the lexicon model, not a word list, decides.
    assert scorer.score(headline("The outlook is good")).score > 0
    assert scorer.score(headline("The outlook is not good")).score < 0


def test_the_questions_own_words_are_masked(scorer: SentimentScorer) -> None:
    # "win" is positive to VADER, but in a headline about "will X win?" it is the subject.
    h = headline("Doubts grow: will Newsom win the nomination?")
    unmasked = scorer.score(h)
    masked = scorer.score(h, mask={"win", "newsom", "nomination"})
    assert unmasked.score > 0  # what the subject's "win" would have said
    assert masked.score < 0  # what the headline says about it


def test_description_counts(scorer: SentimentScorer) -> None:
    plain = scorer.score(headline("Fed decision due"))
    worded = scorer.score(headline("Fed decision due", "Markets fear a painful surprise"))
    assert plain.neutral
    assert worded.score < -NEUTRAL_BAND


def test_keywords_drop_function_words_and_fold_plurals() -> None:
    assert keywords_of("Will the Fed cut interest rates in December?") == [
        "fed",
        "cut",
        "interest",
        "rate",
    ]
    assert keyword("tariffs") == "tariff"
    assert keyword("primaries") == "primary"
    assert keyword("trump's") == "trump"
    assert keyword("bonus") == "bonus"  # not every final s is a plural
    assert keywords_of("super-bowl-lxi 2028") == ["super", "bowl", "lxi", "2028"]
