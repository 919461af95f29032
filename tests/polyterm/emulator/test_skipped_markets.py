"""The emulator lists only markets a client can trade: a recorded market without token
ids is skipped and counted, never served with empty ids (which made a selecting feed
re-snapshot it for ever)."""

from __future__ import annotations

from pathlib import Path

from polyterm.emulator.server import EmulatorOptions, build_exchange


def test_a_recorded_market_without_token_ids_is_skipped_and_counted(recorded: Path) -> None:
    exchange, _ = build_exchange(EmulatorOptions(markets=200, recorded=recorded))
    assert exchange.skipped == {"no token ids": 1}  # "Will the clob strapi integration work?"
    assert len(exchange.markets) == 200  # a made-up market takes its place
    assert all(all(m.info.token_ids) for m in exchange.markets)
    assert all("strapi" not in m.info.question for m in exchange.markets)
