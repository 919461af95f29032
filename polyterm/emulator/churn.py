"""Rate mode: cheap, real L2 size churn so the emulator is a load source (``rate``).

Most of a busy venue's ``price_change`` traffic is size changes at levels that already
exist. The churn generator makes exactly that, fast: each message resizes one existing
level of one market's YES book (and its NO mirror), so prices, best bid and best ask stay
put and only two dict entries change; the books stay consistent with every message sent,
and REST ``/book`` agrees with the stream. Choices come from tables drawn once from the
seed (no RNG call per message), price and size strings are precomputed, the ``hash`` is a
counter mixed into 160 bits (cheap, unique per change), and message bytes are assembled
from per-market byte templates, never through a JSON encoder.

Markets with a user order resting, a detached NO book (a YES/NO mispricing) or a
resolution are skipped: churn never moves a level a user's queue position depends on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from engine.fixed import ONE, SHARE_STEP, format_price, format_size
from polyterm.emulator.state import EmuMarket

_PRICES = [format_price(p).encode() for p in range(ONE + 1)]
_MIX = 0x9E3779B97F4A7C15F39CC0605CEDC8341082276B  # an odd 160-bit constant
_MASK = (1 << 160) - 1
_TABLE = 4096


class _Template:
    """Byte pieces of one market's churn message, YES entry then NO entry."""

    __slots__ = ("head", "yes", "no", "tail")

    def __init__(self, market: EmuMarket) -> None:
        cid = market.info.condition_id
        self.head = (
            b'{"event_type":"price_change","market":"' + cid.encode() + b'","price_changes":['
        )
        self.yes = b'{"asset_id":"' + market.yes.asset_id.encode() + b'","price":"'
        self.no = b'{"asset_id":"' + market.no.asset_id.encode() + b'","price":"'
        self.tail = b'],"timestamp":"'


def _entry(
    head: bytes, price: bytes, size: bytes, side: bytes, h: bytes, bb: bytes, ba: bytes
) -> bytes:
    return b"".join(
        (
            head,
            price,
            b'","size":"',
            size,
            b'","side":"',
            side,
            b'","hash":"',
            h,
            b'","best_bid":"',
            bb,
            b'","best_ask":"',
            ba,
            b'"}',
        )
    )


class Churn:
    def __init__(self, markets: Sequence[EmuMarket], seed: int) -> None:
        rng = random.Random(f"churn:{seed}")
        self.markets = list(markets)
        self.templates = [_Template(m) for m in self.markets]
        self.picks = [rng.random() for _ in range(_TABLE)]
        self.depths = [min(int(rng.expovariate(0.25)), 30) for _ in range(_TABLE)]
        sizes = [
            max(100, int(rng.lognormvariate(4.5, 0.9) * 100)) * SHARE_STEP for _ in range(_TABLE)
        ]
        self.sizes = [(s, format_size(s).encode()) for s in sizes]
        self.i = 0
        self.seq = 0
        self.generated = 0

    def add_market(self, market: EmuMarket) -> None:
        self.markets.append(market)
        self.templates.append(_Template(market))

    def generate(self, n: int, timestamp_ms: int) -> list[tuple[int, bytes, bytes, bytes]]:
        """`n` messages: (market index, message bytes, YES entry, NO entry).

        The entries let :meth:`variant` build the message for a connection that serves
        only one of the market's tokens.
        """
        out: list[tuple[int, bytes, bytes, bytes]] = []
        markets, templates = self.markets, self.templates
        count = len(markets)
        if not count or n <= 0:
            return out
        picks, depths, sizes = self.picks, self.depths, self.sizes
        prices = _PRICES
        stamp = str(timestamp_ms).encode() + b'"}'
        i, seq = self.i, self.seq
        tries = 0
        while len(out) < n and tries < 4 * n + 16:
            tries += 1
            j = i & (_TABLE - 1)
            k = (i * 7 + 3) & (_TABLE - 1)
            i += 1
            m = int(picks[j] * count)
            market = markets[m]
            if market.resting or market.detached_no_ask is not None or market.resolved:
                continue
            yes, no = market.yes, market.no
            is_bid = picks[k] < 0.5
            levels = yes.bid_prices if is_bid else yes.ask_prices
            if not levels:
                continue
            depth = min(depths[j], len(levels) - 1)
            price = levels[-1 - depth] if is_bid else levels[depth]
            size, size_text = sizes[k]
            # Existing prices only: the sorted price lists and the touch never change.
            (yes.bid_sizes if is_bid else yes.ask_sizes)[price] = size
            (no.ask_sizes if is_bid else no.bid_sizes)[ONE - price] = size
            seq += 1
            h = b"%040x" % (((m + 1) << 100 ^ seq * _MIX) & _MASK)
            yes.hash = no.hash = h.decode()
            bids, asks = yes.bid_prices, yes.ask_prices
            ybb = prices[bids[-1]] if bids else b"0"
            yba = prices[asks[0]] if asks else b"1"
            nbb = prices[ONE - asks[0]] if asks else b"0"
            nba = prices[ONE - bids[-1]] if bids else b"1"
            t = templates[m]
            yes_entry = _entry(
                t.yes, prices[price], size_text, b"BUY" if is_bid else b"SELL", h, ybb, yba
            )
            no_entry = _entry(
                t.no, prices[ONE - price], size_text, b"SELL" if is_bid else b"BUY", h, nbb, nba
            )
            out.append(
                (m, t.head + yes_entry + b"," + no_entry + t.tail + stamp, yes_entry, no_entry)
            )
        self.i, self.seq = i, seq
        self.generated += len(out)
        return out

    def variant(self, m: int, entry: bytes, timestamp_ms: int) -> bytes:
        """The message for a connection that serves only one of market `m`'s tokens."""
        t = self.templates[m]
        return t.head + entry + t.tail + str(timestamp_ms).encode() + b'"}'
