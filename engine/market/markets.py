"""Market metadata: what a market is, which tokens it has, how it trades.

Parsed from Gamma market objects (camelCase, JSON-in-string token ids) and refined with
the CLOB's ``/clob-markets`` compact record (tick, neg-risk, fee data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.fixed import PRICE_DIGITS, SIZE_DIGITS, decimal_to_fixed
from engine.market.fees import FREE, FeeSchedule


@dataclass(frozen=True, slots=True)
class Outcome:
    token_id: str
    name: str


@dataclass(frozen=True, slots=True)
class MarketInfo:
    condition_id: str
    question: str
    slug: str
    outcomes: tuple[Outcome, ...]
    tick: int = 100
    min_order_size: int = 5 * 10**SIZE_DIGITS
    fees: FeeSchedule = FREE
    volume_24h: Decimal = Decimal(0)
    liquidity: Decimal = Decimal(0)
    neg_risk: bool = False
    end_date: str = ""
    active: bool = True
    closed: bool = False
    accepting_orders: bool = True
    gamma_id: str = ""
    # The Gamma event it belongs to (a neg-risk basket groups its outcome markets under
    # one event); empty when unknown, and then the market is its own event.
    event_id: str = ""
    # How many open outcome markets that event lists (0: not known). A neg-risk basket is
    # only a basket when every one of them is loaded: buying the YES of three outcomes of
    # four pays nothing when the fourth wins.
    event_markets: int = 0
    # An augmented neg-risk event can gain outcomes later: its listed set is not known to
    # be exhaustive, so it is never treated as a basket.
    event_augmented: bool = False
    # The outcomes' token ids, in order: read on every decision, so made once.
    token_ids: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "token_ids", tuple(o.token_id for o in self.outcomes))

    @property
    def event(self) -> str:
        return self.event_id or self.condition_id

    def outcome_of(self, token_id: str) -> str:
        for o in self.outcomes:
            if o.token_id == token_id:
                return o.name
        return "?"

    def complement_of(self, token_id: str) -> str | None:
        """The other token of a binary market (YES <-> NO)."""
        if len(self.outcomes) != 2:
            return None
        a, b = self.outcomes
        if token_id == a.token_id:
            return b.token_id
        if token_id == b.token_id:
            return a.token_id
        return None

    def with_clob_record(self, record: dict[str, Any]) -> MarketInfo:
        """Refine with ``/clob-markets/{condition_id}``: tick, neg-risk, fee data."""
        fd = record.get("fd") or {}
        fees = FeeSchedule(
            rate=_dec(fd.get("r"), "fd.r"),
            exponent=_dec(fd.get("e"), "fd.e"),
        )
        tick = (
            decimal_to_fixed(str(record["mts"]), PRICE_DIGITS) if record.get("mts") else self.tick
        )
        min_size = (
            decimal_to_fixed(str(record["mos"]), SIZE_DIGITS)
            if record.get("mos") is not None
            else self.min_order_size
        )
        return replace(
            self,
            fees=fees,
            tick=tick,
            min_order_size=min_size,
            neg_risk=bool(record.get("nr", self.neg_risk)),
        )


class MetadataError(ValueError):
    """A metadata object lacks what polyterm needs; the message names the field."""


def _dec(value: Any, name: str) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MetadataError(f"{name} is not a number: {value!r}") from exc


def _json_list(value: Any, name: str) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise MetadataError(f"{name} is not a JSON list: {value[:40]!r}") from exc
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    raise MetadataError(f"{name} is missing or not a list")


def parse_gamma_market(obj: dict[str, Any]) -> MarketInfo:
    """One Gamma ``/markets`` object -> MarketInfo (fees come later from the CLOB)."""
    token_ids = _json_list(obj.get("clobTokenIds"), "clobTokenIds")
    names = _json_list(obj.get("outcomes") or '["Yes", "No"]', "outcomes")
    if len(names) != len(token_ids):
        names = [f"Outcome {i + 1}" for i in range(len(token_ids))]
    condition_id = obj.get("conditionId") or obj.get("condition_id")
    if not condition_id:
        raise MetadataError("conditionId is missing")
    tick_raw = obj.get("orderPriceMinTickSize")
    min_raw = obj.get("orderMinSize")
    return MarketInfo(
        condition_id=str(condition_id),
        question=str(obj.get("question") or obj.get("slug") or condition_id),
        slug=str(obj.get("slug") or ""),
        outcomes=tuple(Outcome(t, n) for t, n in zip(token_ids, names, strict=True)),
        tick=decimal_to_fixed(str(tick_raw), PRICE_DIGITS) if tick_raw else 100,
        min_order_size=(
            decimal_to_fixed(str(min_raw), SIZE_DIGITS) if min_raw else 5 * 10**SIZE_DIGITS
        ),
        volume_24h=_dec(obj.get("volume24hr"), "volume24hr"),
        liquidity=_dec(obj.get("liquidity") or obj.get("liquidityNum"), "liquidity"),
        neg_risk=bool(obj.get("negRisk", False)),
        end_date=str(obj.get("endDate") or ""),
        active=bool(obj.get("active", True)),
        closed=bool(obj.get("closed", False)),
        accepting_orders=bool(obj.get("acceptingOrders", True)),
        gamma_id=str(obj.get("id") or ""),
        event_id=str(_event(obj).get("id") or ""),
        event_augmented=bool(_event(obj).get("negRiskAugmented", False)),
    )


def _event(obj: dict[str, Any]) -> dict[str, Any]:
    """The ``events[0]`` Gamma embeds in a market ({} when it has none)."""
    events = obj.get("events")
    if isinstance(events, list) and events and isinstance(events[0], dict):
        return events[0]
    return {}


def parse_clob_market(obj: dict[str, Any]) -> MarketInfo:
    """One CLOB ``/markets`` object (snake_case, ``tokens`` list) -> MarketInfo."""
    tokens = obj.get("tokens") or []
    if not tokens:
        raise MetadataError("tokens is missing or empty")
    return MarketInfo(
        condition_id=str(obj["condition_id"]),
        question=str(obj.get("question") or ""),
        slug=str(obj.get("market_slug") or ""),
        outcomes=tuple(Outcome(str(t["token_id"]), str(t.get("outcome", ""))) for t in tokens),
        tick=decimal_to_fixed(str(obj.get("minimum_tick_size") or "0.01"), PRICE_DIGITS),
        min_order_size=decimal_to_fixed(str(obj.get("minimum_order_size") or 5), SIZE_DIGITS),
        neg_risk=bool(obj.get("neg_risk", False)),
        end_date=str(obj.get("end_date_iso") or ""),
        active=bool(obj.get("active", True)),
        closed=bool(obj.get("closed", False)),
        accepting_orders=bool(obj.get("accepting_orders", True)),
    )


def rank_markets(markets: list[MarketInfo], top_n: int, by: str = "volume") -> list[MarketInfo]:
    """Tradeable markets, best first by 24h volume (or liquidity), at most `top_n`."""
    live = [m for m in markets if m.active and not m.closed and m.accepting_orders and m.outcomes]

    def key(m: MarketInfo) -> tuple[Decimal, Decimal]:
        return (m.liquidity, m.volume_24h) if by == "liquidity" else (m.volume_24h, m.liquidity)

    return sorted(live, key=key, reverse=True)[:top_n]


def market_to_json(m: MarketInfo) -> dict[str, Any]:
    """A plain-JSON form, used in tapes so a replay knows what it is replaying."""
    return {
        "condition_id": m.condition_id,
        "question": m.question,
        "slug": m.slug,
        "outcomes": [[o.token_id, o.name] for o in m.outcomes],
        "tick": m.tick,
        "min_order_size": m.min_order_size,
        "fees": {
            "rate": str(m.fees.rate),
            "exponent": str(m.fees.exponent),
            "builder_rate": str(m.fees.builder_rate),
        },
        "volume_24h": str(m.volume_24h),
        "liquidity": str(m.liquidity),
        "neg_risk": m.neg_risk,
        "end_date": m.end_date,
        "gamma_id": m.gamma_id,
        "event_id": m.event_id,
        "event_markets": m.event_markets,
        "event_augmented": m.event_augmented,
    }


def market_from_json(d: dict[str, Any]) -> MarketInfo:
    fees = d.get("fees") or {}
    return MarketInfo(
        condition_id=str(d["condition_id"]),
        question=str(d.get("question", "")),
        slug=str(d.get("slug", "")),
        outcomes=tuple(Outcome(str(t), str(n)) for t, n in d["outcomes"]),
        tick=int(d.get("tick", 100)),
        min_order_size=int(d.get("min_order_size", 5 * 10**SIZE_DIGITS)),
        fees=FeeSchedule(
            _dec(fees.get("rate"), "fees.rate"),
            _dec(fees.get("exponent"), "fees.exponent"),
            _dec(fees.get("builder_rate"), "fees.builder_rate"),
        ),
        volume_24h=_dec(d.get("volume_24h"), "volume_24h"),
        liquidity=_dec(d.get("liquidity"), "liquidity"),
        neg_risk=bool(d.get("neg_risk", False)),
        end_date=str(d.get("end_date", "")),
        gamma_id=str(d.get("gamma_id", "")),
        event_id=str(d.get("event_id", "")),
        event_markets=int(d.get("event_markets", 0)),
        event_augmented=bool(d.get("event_augmented", False)),
    )
