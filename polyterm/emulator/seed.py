"""Starting material for the emulator: real recorded markets and book shapes when the
recorded folder is present, deterministic synthetic ones otherwise."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.fixed import parse_price, parse_size
from engine.market.book import infer_tick
from engine.market.markets import (
    MarketInfo,
    MetadataError,
    Outcome,
    parse_clob_market,
    parse_gamma_market,
)


@dataclass(frozen=True, slots=True)
class BookShape:
    """A book as offsets (in its own ticks) from the best price on each side."""

    bids: tuple[tuple[int, int], ...]  # (ticks behind best bid, size)
    asks: tuple[tuple[int, int], ...]
    spread_ticks: int
    source: str


def _load(path: Path) -> Any:
    with path.open("rb") as fh:
        return json.load(fh)


def shape_from_book(obj: dict[str, Any], source: str, max_levels: int = 40) -> BookShape | None:
    bids = sorted(
        ((parse_price(lv["price"]), parse_size(lv["size"])) for lv in obj.get("bids", [])),
        reverse=True,
    )
    asks = sorted((parse_price(lv["price"]), parse_size(lv["size"])) for lv in obj.get("asks", []))
    if not bids or not asks or bids[0][0] >= asks[0][0]:
        return None
    tick = infer_tick([p for p, _ in bids + asks])
    best_bid, best_ask = bids[0][0], asks[0][0]
    return BookShape(
        bids=tuple(((best_bid - p) // tick, s) for p, s in bids[:max_levels]),
        asks=tuple(((p - best_ask) // tick, s) for p, s in asks[:max_levels]),
        spread_ticks=max(1, (best_ask - best_bid) // tick),
        source=source,
    )


def recorded_shapes(recorded: Path | None) -> list[BookShape]:
    if recorded is None:
        return []
    shapes: list[BookShape] = []
    for rel in (
        "ws/legacy_book.json",
        "http/clob_book_response.json",
        "ws/ws_market_book_msg.json",
        "http/legacy_book.json",
    ):
        path = recorded / rel
        if path.is_file():
            shape = shape_from_book(_load(path), rel)
            if shape is not None:
                shapes.append(shape)
    return shapes


def recorded_markets(recorded: Path | None) -> list[MarketInfo]:
    """Real market metadata (questions, slugs, token ids) from the recorded files."""
    if recorded is None:
        return []
    found: list[MarketInfo] = []
    for path in sorted((recorded / "gamma").glob("gamma_market*.json")):
        try:
            found.append(parse_gamma_market(_load(path)))
        except (MetadataError, KeyError, ValueError):
            continue
    markets_page = recorded / "http" / "legacy_markets.json"
    if markets_page.is_file():
        for obj in _load(markets_page).get("data", []):
            try:
                market = parse_clob_market(obj)
            except (MetadataError, KeyError, ValueError):
                continue
            if len(market.outcomes) == 2 and market.question:
                found.append(market)
    seen: set[str] = set()
    unique = []
    for m in found:
        if m.condition_id not in seen and len(m.outcomes) == 2:
            seen.add(m.condition_id)
            unique.append(m)
    return unique


_TOPICS = (
    "Will the Fed cut rates at the next meeting?",
    "Will BTC close above $120k this month?",
    "Will the incumbent win the election?",
    "Will the film gross over $1B worldwide?",
    "Will the bill pass the Senate this session?",
    "Will the home team win the final?",
    "Will inflation print above 3% next release?",
    "Will the launch happen before the end of the quarter?",
)


def synthetic_market(index: int, seed: int) -> MarketInfo:
    """A deterministic made-up binary market for when no recordings are present."""
    digest = hashlib.sha256(f"polyterm-emulator:{seed}:{index}".encode()).hexdigest()
    yes = str(int(digest[:30], 16))
    no = str(int(digest[30:60], 16))
    question = _TOPICS[index % len(_TOPICS)]
    if index >= len(_TOPICS):
        question = f"{question[:-1]} (#{index + 1})?"
    return MarketInfo(
        condition_id="0x" + hashlib.sha256(digest.encode()).hexdigest(),
        question=question,
        slug=f"synthetic-market-{index + 1}",
        outcomes=(Outcome(yes, "Yes"), Outcome(no, "No")),
    )


def synthetic_shape(rng: random.Random) -> BookShape:
    def side() -> tuple[tuple[int, int], ...]:
        levels = []
        offset = 0
        for _ in range(rng.randint(12, 25)):
            levels.append((offset, parse_size(str(round(rng.lognormvariate(5.0, 1.0), 2)))))
            offset += rng.choice((1, 1, 1, 2, 3))
        return tuple(levels)

    return BookShape(side(), side(), rng.choice((1, 1, 2, 3)), "synthetic")


def volume_for(rng: random.Random) -> tuple[Decimal, Decimal]:
    volume = Decimal(str(round(rng.lognormvariate(10.0, 1.5), 2)))
    liquidity = Decimal(str(round(rng.lognormvariate(9.0, 1.0), 2)))
    return volume, liquidity


@dataclass(frozen=True, slots=True)
class EventSeed:
    """A neg-risk event: mutually exclusive outcome markets under one Gamma event."""

    id: str
    slug: str
    title: str
    markets: tuple[MarketInfo, ...]


# Names for the outcome markets an event needs beyond the recorded ones (the recording
# holds two outcomes of a wider basket).
_CANDIDATES = (
    "Gavin Newsom",
    "Josh Shapiro",
    "Pete Buttigieg",
    "Alexandria Ocasio-Cortez",
    "Wes Moore",
    "Andy Beshear",
)

_EVENT_TOPICS = (
    ("Which team wins the league title?", "Will {} win the league title?"),
    ("Who wins the mayoral race?", "Will {} win the mayoral race?"),
    ("Which film wins Best Picture?", "Will {} win Best Picture?"),
    ("Which country tops the medal table?", "Will {} top the medal table?"),
)
_EVENT_NAMES = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot")


def _token_pair(key: str) -> tuple[str, str]:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return str(int(digest[:30], 16)), str(int(digest[30:60], 16))


def _outcome_market(key: str, question: str, slug: str, event_id: str) -> MarketInfo:
    yes, no = _token_pair(key)
    return MarketInfo(
        condition_id="0x" + hashlib.sha256(f"condition:{key}".encode()).hexdigest(),
        question=question,
        slug=slug,
        outcomes=(Outcome(yes, "Yes"), Outcome(no, "No")),
        neg_risk=True,
        event_id=event_id,
    )


def recorded_event(recorded: Path | None, size: int) -> EventSeed | None:
    """The recorded neg-risk Gamma event, padded with made-up outcomes to `size` markets."""
    if recorded is None or not (recorded / "gamma" / "gamma_event.json").is_file():
        return None
    try:
        raw = _load(recorded / "gamma" / "gamma_event.json")
        event = raw[0] if isinstance(raw, list) else raw
        event_id = str(event["id"])
        markets: list[MarketInfo] = []
        template: tuple[str, str] | None = None
        for obj in event.get("markets") or []:
            info = parse_gamma_market(obj)
            if len(info.outcomes) != 2 or not all(info.token_ids):
                continue
            markets.append(replace_event(info, event_id))
            name = str(obj.get("groupItemTitle") or "")
            if name and name in info.question:
                template = (info.question, name)
    except (MetadataError, KeyError, ValueError, TypeError, IndexError):
        return None
    if not markets:
        return None
    slug = str(event.get("slug") or event_id)
    taken = {m.question for m in markets}
    for name in _CANDIDATES:
        if len(markets) >= size:
            break
        question = (
            template[0].replace(template[1], name) if template else f"Will {name} win? ({slug})"
        )
        if question in taken:
            continue
        key = f"{event_id}:{name}"
        slug_name = name.lower().replace(" ", "-").replace(".", "")
        markets.append(_outcome_market(key, question, f"{slug}-{slug_name}", event_id))
    return EventSeed(event_id, slug, str(event.get("title") or slug), tuple(markets[:size]))


def replace_event(info: MarketInfo, event_id: str) -> MarketInfo:
    return replace(info, neg_risk=True, event_id=event_id)


def synthetic_event(index: int, seed: int, size: int) -> EventSeed:
    """A deterministic made-up neg-risk event of `size` outcome markets."""
    title, pattern = _EVENT_TOPICS[index % len(_EVENT_TOPICS)]
    event_id = str(700000 + index)
    slug = f"synthetic-event-{index + 1}"
    if index >= len(_EVENT_TOPICS):
        title = f"{title[:-1]} (#{index + 1})?"
    markets = tuple(
        _outcome_market(
            f"{seed}:{event_id}:{k}",
            pattern.format(_EVENT_NAMES[k]),
            f"{slug}-{_EVENT_NAMES[k].lower()}",
            event_id,
        )
        for k in range(size)
    )
    if index >= len(_EVENT_TOPICS):
        markets = tuple(replace(m, question=f"{m.question[:-1]} (#{index + 1})?") for m in markets)
    return EventSeed(event_id, slug, title, markets)
