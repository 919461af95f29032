"""The emulator takes every timestamp from its Clock: SimClock runs are reproducible."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import httpx
import msgspec
import pytest
import websockets

from engine.clock import SimClock
from polyterm.emulator.faults import Faults
from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator, build_exchange

START = 1_767_225_600.0


def run_sim(seed: int, steps: int = 150, markets: int = 3) -> list[bytes]:
    """Encoded market outbox after each step of an exchange on its own SimClock."""
    clock = SimClock(START)
    exchange, flow = build_exchange(
        EmulatorOptions(seed=seed, markets=markets, news_per_hour=3600.0), clock
    )
    out: list[bytes] = []
    for i in range(1, steps + 1):
        clock.advance_to(START + i * 0.1)
        flow.step(0.1)
        out.append(msgspec.json.encode(exchange.market_outbox))
        exchange.market_outbox.clear()
    out.append(msgspec.json.encode(list(exchange.headlines)))
    return out


def test_same_seed_on_simclocks_gives_identical_bytes() -> None:
    first = run_sim(5)
    assert any(frame != b"[]" for frame in first)
    assert first == run_sim(5)  # timestamps included
    assert first != run_sim(6)


def test_every_timestamp_is_the_clock() -> None:
    clock = SimClock(START)
    exchange, flow = build_exchange(
        EmulatorOptions(seed=2, markets=2, news_per_hour=36_000.0), clock
    )
    seen = 0
    for i in range(1, 101):
        now = START + i * 0.25
        clock.advance_to(now)
        flow.step(0.25)
        for event in exchange.market_outbox:
            assert event["timestamp"] == str(int(now * 1000))
            seen += 1
        exchange.market_outbox.clear()
    assert seen
    market = exchange.markets[0]
    book = market.book_message(market.yes)
    assert book["timestamp"] == str(int(clock.time() * 1000))
    assert all(START <= ts <= clock.time() for ts, _ in market.history)
    assert exchange.headlines
    for headline in exchange.headlines:
        published = datetime.fromisoformat(headline["publishedAt"])  # ...Z: aware, UTC
        assert published.tzinfo is not None
        assert START <= published.timestamp() <= clock.time()


def test_ws_stall_runs_on_the_clock() -> None:
    clock = SimClock(100.0)
    faults = Faults(clock=clock)
    faults.apply({"ws_stall": 2.0})
    assert faults.stalled()
    assert faults.describe()["ws_stall_remaining_s"] == 2.0
    clock.advance_to(101.5)
    assert faults.stalled()
    clock.advance_to(102.0)
    assert not faults.stalled()
    assert "clock" not in faults.describe()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
async def test_refuses_non_loopback_hosts(host: str) -> None:
    emu = ExchangeEmulator(EmulatorOptions(markets=1, host=host))
    with pytest.raises(ValueError, match="loopback"):
        await emu.start()
    assert emu.urls is None


def test_options_reject_a_zero_step() -> None:
    with pytest.raises(ValueError, match="step_seconds"):
        EmulatorOptions(step_seconds=0)


async def settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_server_on_a_simclock_steps_only_when_driven() -> None:
    clock = SimClock(START)
    emu = ExchangeEmulator(EmulatorOptions(markets=2, step_seconds=0.5), clock=clock)
    urls = await emu.start()
    try:
        await settle()
        assert emu.flow.steps == 1  # the first step at start, then it waits for the clock
        await asyncio.sleep(0.05)  # wall time passes; simulated time does not
        assert emu.flow.steps == 1
        async with httpx.AsyncClient(base_url=urls.clob) as c:
            assert (await c.get("/time")).json() == int(START)
            state = (await c.get(f"{urls.admin}/state", headers=urls.admin_headers())).json()
            assert state["time"] == START
        tokens = list(emu.exchange.by_token)
        # max_queue=None: the test leaves most frames unread, and a websockets client
        # whose queue is full stops reading, so it would not see the close frame for 10 s.
        async with websockets.connect(urls.market_ws, max_queue=None) as ws:
            await ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
            # One message per frame, as the venue frames them: a book per token.
            dump = [json.loads(await ws.recv()) for _ in tokens]
            assert {m["event_type"] for m in dump} == {"book"}
            assert {m["timestamp"] for m in dump} == {str(int(START * 1000))}
            for i in range(1, 5):
                clock.advance_to(START + i * 0.5)
                await settle()
            assert emu.flow.steps == 5
            message = json.loads(await asyncio.wait_for(ws.recv(), 2.0))
            assert isinstance(message, dict)
            stamps = {int(message["timestamp"])}
            assert stamps <= {int((START + i * 0.5) * 1000) for i in range(1, 5)}
    finally:
        await emu.stop()


async def test_auth_checks_use_the_emulator_clock() -> None:
    """L1 accepts a timestamp near the emulator's (simulated) time, not the wall's."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    from polyterm.emulator.auth import clob_auth_typed_data

    clock = SimClock(START)
    wallet = Account.create()

    def headers(ts: int) -> dict[str, str]:
        signed = wallet.sign_message(
            encode_typed_data(full_message=clob_auth_typed_data(wallet.address, str(ts), 0, 137))
        )
        return {
            "POLY_ADDRESS": wallet.address,
            "POLY_SIGNATURE": "0x" + signed.signature.hex(),
            "POLY_TIMESTAMP": str(ts),
            "POLY_NONCE": "0",
        }

    async with ExchangeEmulator(EmulatorOptions(markets=1), clock=clock) as emu:
        assert emu.urls is not None
        async with httpx.AsyncClient(base_url=emu.urls.clob) as c:
            ok = await c.post("/auth/api-key", headers=headers(int(START) + 10))
            assert ok.status_code == 200, ok.text
            wall = await c.get("/auth/derive-api-key", headers=headers(int(START) + 10_000))
            assert wall.status_code == 401
            assert "too far" in wall.json()["error"]
