"""The emulator over real loopback HTTP/WS: shapes, auth, orders, determinism, faults."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import msgspec
import pytest
import websockets
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import SimClock
from engine.fixed import ONE
from polyterm.emulator.auth import hmac_signature
from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator, build_exchange

pytestmark = pytest.mark.integration


def keys_of(path: Path) -> set[str]:
    return set(json.loads(path.read_text()))


async def test_rest_shapes_match_the_recordings(emulator: ExchangeEmulator, recorded: Path) -> None:
    urls = emulator.urls
    assert urls is not None
    async with httpx.AsyncClient(base_url=urls.clob) as c:
        assert (await c.get("/")).json() == {"version": 2}
        markets = (
            await c.get("/gamma/markets", params={"order": "volume24hr", "limit": 10})
        ).json()
        volumes = [m["volume24hr"] for m in markets]
        assert volumes == sorted(volumes, reverse=True)
        assert keys_of(recorded / "gamma" / "gamma_market.json") >= set(markets[0]) - {
            "liquidityNum"
        }
        token = json.loads(markets[0]["clobTokenIds"])[0]
        book = (await c.get("/book", params={"token_id": token})).json()
        assert set(book) >= keys_of(recorded / "http" / "clob_book_response.json")
        page = (await c.get("/markets")).json()
        assert page["next_cursor"] == "LTE="
        assert len(page["data"]) == 4
        cm = (await c.get(f"/clob-markets/{markets[0]['conditionId']}")).json()
        assert {"t", "mts", "nr", "fd"} <= set(cm)
        assert {"r", "e"} <= set(cm["fd"])
        books = (await c.post("/books", json=[{"token_id": token}])).json()
        assert books[0]["asset_id"] == token
        assert (await c.get("/book", params={"token_id": "nope"})).status_code == 404
    # The printed news URL is a NewsAPI-shaped base: it answers, and so do /v2/... under it.
    async with httpx.AsyncClient(base_url=urls.news) as c:
        index = (await c.get("")).json()
        assert index["endpoints"] == ["/v2/everything", "/v2/top-headlines"]
        for endpoint in index["endpoints"]:
            news = (await c.get(f"{urls.news}{endpoint}")).json()
            assert news["status"] == "ok"
            assert isinstance(news["articles"], list)
    # Every other base `polyterm exchange` prints answers too, and says what lives under it.
    async with httpx.AsyncClient() as c:
        gamma = (await c.get(urls.gamma)).json()
        assert gamma["markets"] == 4
        assert "/markets" in gamma["endpoints"]
        admin = (await c.get(urls.admin, headers=urls.admin_headers())).json()
        assert "POST /_admin/news" in admin["routes"]


def test_same_seed_same_flow() -> None:
    """On a SimClock the same seed gives the same messages, timestamps included."""

    def run(seed: int) -> list[bytes]:
        clock = SimClock(1_767_225_600.0)
        exchange, flow = build_exchange(EmulatorOptions(seed=seed, markets=3), clock)
        out: list[bytes] = []
        for i in range(1, 201):
            clock.advance_to(1_767_225_600.0 + i * 0.1)
            flow.step(0.1)
            out.extend(msgspec.json.encode(e) for e in exchange.market_outbox)
            exchange.market_outbox.clear()
        return out

    first = run(5)
    assert first
    assert first == run(5)
    assert first != run(6)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000))
def test_yes_and_no_books_always_sum_to_one(seed: int) -> None:
    exchange, flow = build_exchange(EmulatorOptions(seed=seed, markets=2))
    for _ in range(150):
        flow.step(0.1)
        for m in exchange.markets:
            assert not m.yes.is_crossed()
            assert not m.no.is_crossed()
            if m.detached_no_ask is not None:
                continue  # a YES/NO mispricing is open: the NO book is off the mirror
            assert {p: s for p, s in m.yes.bid_sizes.items()} == {
                ONE - p: s for p, s in m.no.ask_sizes.items()
            }
            if m.yes.best_bid is not None and m.no.best_ask is not None:
                assert m.yes.best_bid + m.no.best_ask == ONE


async def make_account(emulator: ExchangeEmulator) -> tuple[str, dict[str, str]]:
    """L1: sign ClobAuth with a throwaway wallet, as the official client does."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    from polyterm.emulator.auth import clob_auth_typed_data

    wallet = Account.create()
    ts = str(int(time.time()))
    signed = wallet.sign_message(
        encode_typed_data(full_message=clob_auth_typed_data(wallet.address, ts, 0, 137))
    )
    headers = {
        "POLY_ADDRESS": wallet.address,
        "POLY_SIGNATURE": "0x" + signed.signature.hex(),
        "POLY_TIMESTAMP": ts,
        "POLY_NONCE": "0",
    }
    assert emulator.urls is not None
    async with httpx.AsyncClient(base_url=emulator.urls.clob) as c:
        creds = (await c.post("/auth/api-key", headers=headers)).json()
        again = (await c.get("/auth/derive-api-key", headers=headers)).json()
        bad = await c.get("/auth/derive-api-key", headers={**headers, "POLY_NONCE": "1"})
    assert creds == again
    assert bad.status_code == 401
    return wallet.address, creds


def l2(
    address: str, creds: dict[str, str], method: str, path: str, body: str = ""
) -> dict[str, str]:
    """L2 headers built with the official SDK's own HMAC function."""
    from polymarket._internal.hmac import build_hmac_signature

    ts = int(time.time())
    sig = build_hmac_signature(
        secret=creds["secret"], timestamp=ts, method=method, path=path, body=body or None
    )
    assert sig == hmac_signature(creds["secret"], str(ts), method, path, body)
    return {
        "POLY_ADDRESS": address,
        "POLY_API_KEY": creds["apiKey"],
        "POLY_PASSPHRASE": creds["passphrase"],
        "POLY_TIMESTAMP": str(ts),
        "POLY_SIGNATURE": sig,
    }


async def test_l2_hmac_orders_and_user_channel(emulator: ExchangeEmulator) -> None:
    urls = emulator.urls
    assert urls is not None
    address, creds = await make_account(emulator)
    market = emulator.exchange.markets[0]
    token = market.yes.asset_id
    async with (
        websockets.connect(urls.user_ws) as user_ws,
        httpx.AsyncClient(base_url=urls.clob) as c,
    ):
        await user_ws.send(json.dumps({"auth": creds, "type": "user", "markets": []}))
        r = await c.get(
            "/balance-allowance", headers=l2(address, creds, "GET", "/balance-allowance")
        )
        assert r.status_code == 200
        assert int(r.json()["balance"]) == 10_000 * 10**6
        bad = l2(address, creds, "GET", "/balance-allowance")
        bad["POLY_SIGNATURE"] = bad["POLY_SIGNATURE"][:-4] + "AAA="
        assert (await c.get("/balance-allowance", headers=bad)).status_code == 401
        assert (await c.get("/data/orders")).status_code == 401

        # An order without a V2 signature is refused (the SDK tests sign real ones).
        unsigned = {
            "order": {
                "tokenId": token,
                "side": "BUY",
                "makerAmount": str(10 * 10**6 * 500 // ONE),
                "takerAmount": str(10 * 10**6),
            },
            "owner": creds["apiKey"],
            "orderType": "GTC",
        }
        body = json.dumps(unsigned, separators=(",", ":"))
        r = await c.post("/order", content=body, headers=l2(address, creds, "POST", "/order", body))
        assert r.status_code == 400
        assert "invalid order payload" in r.json()["error"]
        open_orders = (
            await c.get("/data/orders", headers=l2(address, creds, "GET", "/data/orders"))
        ).json()
        assert open_orders == {"data": [], "next_cursor": "LTE=", "limit": 100, "count": 0}
        del user_ws  # nothing was placed, so the user channel has nothing to say


async def test_admin_faults_validate(emulator: ExchangeEmulator) -> None:
    assert emulator.urls is not None
    async with httpx.AsyncClient(
        base_url=emulator.urls.admin, headers=emulator.urls.admin_headers()
    ) as c:
        r = await c.post("/faults", json={"explode": 1})
        assert r.status_code == 400
        assert "unknown fault" in r.json()["error"]
        r = await c.post("/faults", json={"http_429": 2, "latency_ms": 5})
        assert r.json()["faults"]["http_429"] == 2
        state = (await c.get("/state")).json()
        assert state["markets"] == 4


async def test_the_admin_api_answers_only_the_runs_token(emulator: ExchangeEmulator) -> None:
    """No token, a wrong one, or one that is not even ASCII: 401 with one line (never a
    500 from comparing it); the run's token in either header: the route."""
    urls = emulator.urls
    assert urls is not None
    async with httpx.AsyncClient(base_url=urls.admin) as c:
        headers: dict[str, str | bytes]
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"X-Admin-Token": "wrong"},
            {"X-Admin-Token": "jeton-\u00e9t\u00e9".encode()},  # as sent, UTF-8 bytes
        ):
            refused = await c.get("/state", headers=headers)
            assert refused.status_code == 401, headers
            assert "admin token" in refused.json()["error"]
        assert (await c.get("/state", headers=urls.admin_headers())).status_code == 200
        given = {"X-Admin-Token": urls.admin_token}
        assert (await c.get("/state", headers=given)).status_code == 200


async def test_port_in_use_is_one_line() -> None:
    async with ExchangeEmulator(EmulatorOptions(markets=1)) as first:
        assert first.urls is not None
        port = int(first.urls.clob.rsplit(":", 1)[1])
        with pytest.raises(OSError, match="pick another --port"):
            await ExchangeEmulator(EmulatorOptions(markets=1, port=port)).start()
