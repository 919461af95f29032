"""From headlines to market sentiment: scoring, keyword matching and the per-market book.

- :class:`SentimentScorer` scores a headline with VADER's lexicon model (a maintained,
  validated lexicon with rules for negation, intensifiers and punctuation; not a word
  list of ours). Its compound score is already in -1..1; confidence is its magnitude.
- :class:`KeywordIndex` matches headlines to markets by keywords from each market's
  question, slug and tags: an inverted index (keyword -> markets) built once when the
  market list changes, so a headline costs one dictionary lookup per distinct word.
- :class:`SentimentBook` keeps each market's :class:`SentimentReading` and the recent
  scored headlines for the pane and the ledger.

How a score maps to a market: a matched headline is read as news about the market's
question, so a positive headline makes YES more likely and a negative one NO (the
reading's score is "bullish for YES"). The words of the question itself are masked
before scoring: in "Doubts grow: will X win?" the stance is "doubts", not the "win"
that is part of the question (VADER would score that "win" as positive).
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

from engine.market.markets import MarketInfo
from engine.market.sentiment import Headline, SentimentReading

# A keyword is distinctive when at most this share of the markets (or two) contain it.
RARE_SHARE = 0.02
# VADER's own neutral band: |compound| below it carries no stance.
NEUTRAL_BAND = 0.05

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Numbers are written many ways: "$150,000", "150k", "150K" are one keyword, "150000".
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_KILO = re.compile(r"\b(\d+)k\b")

# Words that say nothing about which market a headline is about: English function words
# and the boilerplate of market questions ("Will ... by the end of ...?").
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers him his how i if in into is it its
    just me more most my no nor not now of off on once only or other our out over own
    same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who
    whom why will with would you your yes
    end ending ends next new market markets price prices reach reaches hit hits happen
    happens between least than day week month year years time per vs via jan feb mar apr
    may jun jul aug sep sept oct nov dec january february march april june july august
    september october november december monday tuesday wednesday thursday friday saturday
    sunday q1 q2 q3 q4 et pt utc
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def keyword(word: str) -> str:
    """A word's matching key: lowercase, possessive and simple plural endings dropped, so
    "tariffs" finds "tariff" and "Trump's" finds "trump"."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and not word.isdigit():
        if word.endswith("ies"):
            return word[:-3] + "y"
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            return word[:-1]
    return word


def keywords_of(text: str) -> list[str]:
    """The distinct matching keys of `text`, in order of first appearance."""
    seen: dict[str, None] = {}
    text = _KILO.sub(r"\g<1>000", _THOUSANDS.sub("", text.lower()))
    for word in _WORD.findall(text.replace("-", " ")):
        if len(word) < 3 and not word.isdigit():
            continue
        if word in _STOPWORDS:
            continue
        key = keyword(word)
        if key not in _STOPWORDS:
            seen[key] = None
    return list(seen)


@dataclass(frozen=True, slots=True)
class Score:
    score: float  # VADER compound, -1 .. 1
    confidence: float  # 0 .. 1

    @property
    def neutral(self) -> bool:
        return abs(self.score) < NEUTRAL_BAND


class SentimentScorer:
    """VADER over a headline's title and description."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def score_text(self, text: str) -> Score:
        compound = float(self._vader.polarity_scores(text)["compound"])
        compound = max(-1.0, min(1.0, compound))
        return Score(compound, abs(compound))

    def score(self, headline: Headline, mask: Iterable[str] = ()) -> Score:
        """Score `headline`, leaving out words whose key is in `mask` (the subject)."""
        text = (
            f"{headline.title}. {headline.description}" if headline.description else headline.title
        )
        masked = frozenset(mask)
        if masked:
            text = _WORD_OR_OTHER.sub(lambda m: _mask_word(m, masked), text)
        return self.score_text(text)


_WORD_OR_OTHER = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")


def _mask_word(match: re.Match[str], masked: frozenset[str]) -> str:
    word = match.group(0)
    return "" if keyword(word.lower()) in masked else word


@dataclass(frozen=True, slots=True)
class ScoredHeadline:
    headline: Headline
    score: float  # -1 .. 1: positive makes YES of its markets more likely
    confidence: float  # 0 .. 1
    markets: tuple[str, ...]  # condition ids it was matched to (empty: no market)


@dataclass(frozen=True, slots=True)
class Match:
    market: str  # condition id
    strength: float  # 0 .. 1: 1 when the provider named it or enough keywords hit
    keywords: tuple[str, ...]


class KeywordIndex:
    """Inverted index keyword -> markets over questions, slugs and tags.

    Keywords found in many markets count for less: a market matches when the headline
    holds at least `min_hits` of its keywords (all of them when it has fewer) and at
    least one of those is rare (in at most 2% of the markets, or in at most two), so
    "Bitcoin" and "price" cannot tie a headline to forty bitcoin-price markets, nor
    "win" and "election" to every election. A headline
    costs one lookup per distinct word and one counter bump per market that word names;
    only markets a rare word named are then checked.
    """

    def __init__(self, markets: Sequence[MarketInfo], min_hits: int = 2) -> None:
        self.min_hits = min_hits
        self.markets = tuple(m.condition_id for m in markets)
        self._keywords: dict[str, tuple[str, ...]] = {}
        self._by_slug: dict[str, str] = {}
        postings: dict[str, list[str]] = {}
        for m in markets:
            tags = " ".join(_tags_of(m))
            keys = tuple(keywords_of(f"{m.question} {m.slug} {tags}"))
            self._keywords[m.condition_id] = keys
            if m.slug:
                self._by_slug[m.slug] = m.condition_id
            for key in keys:
                postings.setdefault(key, []).append(m.condition_id)
        self._postings = {key: tuple(ids) for key, ids in postings.items()}
        rare_limit = max(2, int(len(markets) * RARE_SHARE))
        self._rare = frozenset(key for key, ids in postings.items() if len(ids) <= rare_limit)

    def keywords(self, condition_id: str) -> tuple[str, ...]:
        return self._keywords.get(condition_id, ())

    def resolve(self, name: str) -> str | None:
        """A condition id or a slug -> the condition id of a known market."""
        if name in self._keywords:
            return name
        return self._by_slug.get(name)

    def match(self, headline: Headline) -> list[Match]:
        named = [cid for cid in map(self.resolve, headline.markets) if cid is not None]
        if named:
            return [Match(cid, 1.0, self._keywords[cid]) for cid in dict.fromkeys(named)]
        postings = self._postings
        rare = self._rare
        words = [
            w for w in keywords_of(f"{headline.title} {headline.description}") if w in postings
        ]
        counts: dict[str, int] = {}
        flagged: dict[str, None] = {}  # markets a rare word named, in order
        for word in words:
            ids = postings[word]
            for cid in ids:
                counts[cid] = counts.get(cid, 0) + 1
            if word in rare:
                flagged.update(dict.fromkeys(ids))
        out: list[Match] = []
        min_hits = self.min_hits
        for cid in flagged:
            n = counts[cid]
            keys = self._keywords[cid]
            need = min(min_hits, len(keys))
            if n >= need:
                hits = tuple(w for w in words if w in keys)
                out.append(Match(cid, min(1.0, n / max(need, min(len(keys), 3))), hits))
        return out


def _tags_of(market: MarketInfo) -> tuple[str, ...]:
    # Gamma's tag labels, when the market record carries them (MarketInfo.tags).
    tags = getattr(market, "tags", ())
    return tuple(str(t) for t in tags) if isinstance(tags, tuple | list) else ()


class SentimentBook:
    """Each market's current reading, fed by :meth:`ingest`.

    A new headline's score is blended with the market's earlier reading, the earlier one
    weighted by its confidence decayed by age (half-life `blend_half_life_s`), so one
    stray headline does not erase a run of consistent ones and old news fades. Neutral
    headlines (VADER's |compound| < 0.05) are recorded but move no reading; nor does a
    headline older than `max_age_s`, and readings older than that are dropped.
    """

    def __init__(
        self,
        *,
        scorer: SentimentScorer | None = None,
        max_age_s: float = 3600.0,
        blend_half_life_s: float = 900.0,
        min_keyword_hits: int = 2,
        recent_max: int = 200,
    ) -> None:
        self.scorer = scorer or SentimentScorer()
        self.max_age_s = max_age_s
        self.blend_half_life_s = blend_half_life_s
        self.min_keyword_hits = min_keyword_hits
        self._index = KeywordIndex((), min_keyword_hits)
        self._readings: dict[str, SentimentReading] = {}
        self._recent: deque[ScoredHeadline] = deque(maxlen=recent_max)
        self.too_old = 0  # headlines skipped: older than max_age_s

    @property
    def index(self) -> KeywordIndex:
        return self._index

    def set_markets(self, markets: Sequence[MarketInfo]) -> None:
        """Rebuild the keyword index when the market list changed (an id comparison when
        it did not: the caller's list may have been edited in place)."""
        ids = tuple(m.condition_id for m in markets)
        if ids != self._index.markets:
            self._index = KeywordIndex(markets, self.min_keyword_hits)

    def ingest(
        self, headlines: Sequence[Headline], markets: Sequence[MarketInfo], now: float
    ) -> list[ScoredHeadline]:
        """Match, score and apply `headlines` (clock time `now`); returns what was scored,
        one entry per headline (markets empty when it matched none). Headlines older than
        `max_age_s` can move no reading: they are skipped before any work (a provider's
        backlog, an archive pointed at by mistake) and counted in `too_old`."""
        self.set_markets(markets)
        index = self._index
        out: list[ScoredHeadline] = []
        max_age = self.max_age_s
        for headline in headlines:
            if now - min(headline.published_at, now) > max_age:
                self.too_old += 1
                continue
            matches = index.match(headline)
            mask: set[str] = set()
            for match in matches:
                mask.update(index.keywords(match.market))
            scored = self.scorer.score(headline, mask)
            result = ScoredHeadline(
                headline, scored.score, scored.confidence, tuple(m.market for m in matches)
            )
            out.append(result)
            self._recent.append(result)
            at = min(headline.published_at, now)
            if scored.neutral:
                continue
            for match in matches:
                self._apply(match, headline, scored, at)
        self.expire(now)
        return out

    def _apply(self, match: Match, headline: Headline, scored: Score, at: float) -> None:
        confidence = scored.confidence * match.strength
        old = self._readings.get(match.market)
        score = scored.score
        if old is not None and old.updated_at <= at:
            weight = old.confidence * math.exp(
                -math.log(2.0) * (at - old.updated_at) / self.blend_half_life_s
            )
            total = weight + confidence
            if total > 0:
                score = (old.score * weight + scored.score * confidence) / total
                # No less sure than the strongest piece of evidence still standing.
                confidence = min(1.0, max(confidence, weight))
        elif old is not None:
            return  # an older headline arriving late does not override a newer reading
        self._readings[match.market] = SentimentReading(
            market=match.market,
            score=max(-1.0, min(1.0, score)),
            confidence=confidence,
            source=headline.provider,
            is_news=headline.is_news,
            updated_at=at,
            headline=headline.title,
        )

    def expire(self, now: float) -> None:
        """Drop readings older than `max_age_s` (ingest does it; so may housekeeping)."""
        stale = [cid for cid, r in self._readings.items() if now - r.updated_at > self.max_age_s]
        for cid in stale:
            del self._readings[cid]

    def reading(self, condition_id: str) -> SentimentReading | None:
        return self._readings.get(condition_id)

    def readings(self) -> Mapping[str, SentimentReading]:
        return self._readings

    def recent(self, n: int) -> list[ScoredHeadline]:
        """The last `n` scored headlines, newest first."""
        if n <= 0:
            return []
        items = list(self._recent)[-n:]
        items.reverse()
        return items
