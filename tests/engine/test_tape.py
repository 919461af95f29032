"""Tapes written then replayed, and recorded-message files read back."""

from pathlib import Path

import pytest

from engine.adapters.polymarket.books import BookStore
from engine.adapters.tape.tape import TapeError, TapeFeed, TapeWriter, read_frames
from engine.market.markets import MarketInfo, Outcome
from tests.conftest import FakeClock


@pytest.mark.parametrize("name", ["tape.jsonl", "tape.jsonl.zst"])
async def test_tape_round_trip_rebuilds_the_same_books(
    tmp_path: Path, recorded: Path, name: str
) -> None:
    frames = [
        (recorded / "ws" / f).read_bytes()
        for f in ("legacy_book.json", "legacy_price_change_v2.json", "legacy_last_trade_price.json")
    ]
    path = tmp_path / name
    writer = TapeWriter(path)
    writer.write_markets([MarketInfo("0xc", "Q?", "q", (Outcome("1", "Yes"),))], 1.0)
    for i, raw in enumerate(frames):
        writer.write_frame(raw, 2.0 + i, "ws")
    writer.close()
    direct = BookStore()
    for raw in frames:
        direct.apply_frame(raw)
    replayed = BookStore()

    class Sink:
        markets: list[MarketInfo] = []

        def on_markets(self, markets: list[MarketInfo]) -> None:
            self.markets = markets

        def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
            replayed.apply_frame(raw)

    sink = Sink()
    await TapeFeed(path, FakeClock(), speed=0).run(sink)
    assert sink.markets[0].question == "Q?"
    assert {a: b.to_dict() for a, b in replayed.books.items()} == {
        a: b.to_dict() for a, b in direct.books.items()
    }
    assert len(list(read_frames(path))) == 3


def test_read_frames_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_type": "book", "asset_id": "1"}\nnot json\n')
    with pytest.raises(TapeError, match=r"bad.jsonl:2"):
        list(read_frames(bad))
    with pytest.raises(TapeError, match="no such file"):
        list(read_frames(tmp_path / "missing.jsonl"))
