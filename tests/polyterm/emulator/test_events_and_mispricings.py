"""Neg-risk events and seeded mispricings, on the model itself (no sockets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.clock import SimClock
from engine.fixed import ONE, PRICE_SCALE
from polyterm.emulator.mispricing import KINDS, fee_per_share
from polyterm.emulator.server import EmulatorOptions, build_exchange
from polyterm.emulator.state import EmuMarket, Exchange

START = 1_767_225_600.0


def yes_no_edge(m: EmuMarket) -> float:
    """1 - (YES best ask + NO best ask) - both taker fees: > 0 is a YES/NO arbitrage."""
    ya, na = m.yes.best_ask, m.no.best_ask
    assert ya is not None
    assert na is not None
    return 1 - (ya + na) / PRICE_SCALE - fee_per_share(m, ya) - fee_per_share(m, na)


def basket_edge(members: list[EmuMarket], yes_side: bool) -> float:
    """Edge of buying every outcome's YES (or NO) at its best ask, after fees."""
    asks = [(m, (m.yes if yes_side else m.no).best_ask) for m in members]
    assert all(a is not None for _, a in asks)
    cost = sum(a for _, a in asks if a is not None) / PRICE_SCALE
    fees = sum(fee_per_share(m, a) for m, a in asks if a is not None)
    payout = 1 if yes_side else len(members) - 1
    return payout - cost - fees


def test_recorded_event_is_a_basket_of_four(recorded: Path) -> None:
    exchange, flow = build_exchange(EmulatorOptions(seed=3, markets=8, recorded=recorded))
    assert list(exchange.events) == ["30829"]  # the recorded Gamma event's id
    slug, title, members = exchange.events["30829"]
    assert title == "Democratic Presidential Nominee 2028"
    assert len(members) == 4
    assert all(m.info.neg_risk and m.info.event_id == "30829" for m in members)
    questions = [m.info.question for m in members]
    assert questions[:2] == [
        "Will Stephen A. Smith win the 2028 Democratic presidential nomination?",
        "Will Gretchen Whitmer win the 2028 Democratic presidential nomination?",
    ]
    binaries = [m for m in exchange.markets if m not in members]
    assert len(binaries) == 4
    assert not any(m.info.neg_risk for m in binaries)
    assert len({m.info.event_id for m in binaries}) == 4  # each its own event


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_event_fairs_stay_mutually_exclusive(seed: int) -> None:
    exchange, flow = build_exchange(
        EmulatorOptions(seed=seed, markets=40, news_per_hour=3600.0 * 20)
    )
    assert len(exchange.events) == 2  # one per 16 markets, seeded (no recordings)
    for _, _, members in exchange.events.values():
        assert 3 <= len(members) <= 6
    before = {eid: [m.fair for m in ms] for eid, (_, _, ms) in exchange.events.items()}
    for _ in range(300):
        flow.step(0.1)
        for _, _, members in exchange.events.values():
            assert sum(m.fair for m in members) == pytest.approx(1.0, abs=1e-9)
            assert all(0 < m.fair < 1 for m in members)
        for m in exchange.markets:
            assert not m.yes.is_crossed()
            assert not m.no.is_crossed()
    after = {eid: [m.fair for m in ms] for eid, (_, _, ms) in exchange.events.items()}
    assert after != before  # they move
    assert exchange.headlines  # news jumps on outcomes come with headlines


def run_model(seed: int, seconds: float, **options: object) -> tuple[Exchange, list[str]]:
    """Step a seeded exchange; check every mispricing at the step it opens."""
    clock = SimClock(START)
    opts = EmulatorOptions(seed=seed, markets=8, **options)  # type: ignore[arg-type]
    exchange, flow = build_exchange(opts, clock)
    mp = flow.mispricings
    seen: list[str] = []
    for i in range(1, int(seconds / 0.1) + 1):
        clock.advance_to(START + i * 0.1)
        known = {id(x) for x in mp.active}
        flow.step(0.1)
        for opened in [x for x in mp.active if id(x) not in known]:
            seen.append(opened.kind)
            members = [leg[0] for leg in opened.legs]
            if opened.kind == "yes_no":
                assert yes_no_edge(members[0]) >= opened.margin - 1e-9
            else:
                edge = basket_edge(members, opened.kind == "basket_yes")
                assert edge >= opened.margin - 1e-9
            assert opened.closes_at - opened.opened_at <= 5.0
        for m in exchange.markets:
            assert not m.yes.is_crossed()
            assert not m.no.is_crossed()
            if m.detached_no_ask is None:
                assert m.yes.best_bid is None or m.no.best_ask == ONE - m.yes.best_bid
    return exchange, seen


def test_a_minute_at_default_options_sees_each_kind_and_they_close() -> None:
    exchange, seen = run_model(seed=5, seconds=60.0)
    for kind in KINDS:
        assert seen.count(kind) >= 2, seen
    mp_closed = sum(1 for k in seen) - len(
        [1 for m in exchange.markets if m.detached_no_ask is not None]
    )
    assert mp_closed > 0


def test_same_seed_same_mispricings() -> None:
    a, seen_a = run_model(seed=9, seconds=30.0)
    b, seen_b = run_model(seed=9, seconds=30.0)
    c, seen_c = run_model(seed=10, seconds=30.0)
    assert seen_a == seen_b
    logs = [[(e["kind"], e["opened_at"], e["markets"]) for e in x.markets[0:0]] for x in (a, b)]
    assert logs[0] == logs[1]
    assert seen_a


def test_mispricings_close_within_seconds_and_mirror_returns() -> None:
    clock = SimClock(START)
    exchange, flow = build_exchange(EmulatorOptions(seed=4, markets=8), clock)
    market = exchange.markets[0]
    opened = flow.mispricings.open("yes_no", flow.time, market.info.condition_id)
    assert opened is not None
    assert market.detached_no_ask is not None
    assert yes_no_edge(market) > 0
    for i in range(1, 61):  # 6 s: past the longest life (5 s)
        clock.advance_to(START + i * 0.1)
        flow.step(0.1)
    assert market.detached_no_ask is None
    assert market.yes.bid_sizes == {ONE - p: s for p, s in market.no.ask_sizes.items()}
    assert market.yes.ask_sizes == {ONE - p: s for p, s in market.no.bid_sizes.items()}
    assert yes_no_edge(market) < 0


def test_no_mispricings_when_switched_off() -> None:
    _, seen = run_model(seed=5, seconds=30.0, mispricings_per_hour=0.0)
    assert seen == []
