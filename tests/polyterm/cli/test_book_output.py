"""`polyterm book` reads like a book: titled with the market's question and outcome,
short ids, no `None (None)`; `--json` keeps every field it had and adds names."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from engine.adapters.tape.tape import TapeWriter
from engine.market.markets import MarketInfo, Outcome
from polyterm.cli.book import book

YES = "48331043336612883890938759509493159234755048973500640148014422747788308965732"
NO = "52114319501245915516055106046884209969926127482827954674443846427813813222426"


def _tape(
    path: Path, named: bool = True, question: str = "Will it rain in Lisbon on Friday?"
) -> None:
    writer = TapeWriter(path)
    if named:
        market = MarketInfo(
            "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917",
            question,
            "rain-lisbon",
            (Outcome(YES, "Yes"), Outcome(NO, "No")),
        )
        writer.write_markets([market], 1.0)
    for asset, bid, ask in ((YES, "0.51", "0.53"), (NO, "0.47", "0.49")):
        writer.write_frame(
            json.dumps(
                {
                    "event_type": "book",
                    "asset_id": asset,
                    "market": "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917",
                    "timestamp": "1",
                    "hash": "h",
                    "bids": [{"price": bid, "size": "10"}],
                    "asks": [{"price": ask, "size": "12.5"}],
                }
            ),
            2.0,
            "ws",
        )
    writer.close()


def test_tables_are_titled_with_question_and_outcome(tmp_path: Path) -> None:
    tape = tmp_path / "t.jsonl.zst"
    _tape(tape)
    result = CliRunner().invoke(book, [str(tape)], terminal_width=100)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Will it rain in Lisbon on Friday? · Yes" in out
    assert "Will it rain in Lisbon on Friday? · No" in out
    assert YES not in out
    assert NO not in out
    assert "483310…965732" in out
    assert "None" not in out
    assert "last trade" not in out  # no trade seen: nothing to say, not `None (None)`


def test_a_question_never_writes_escape_sequences_to_the_terminal(tmp_path: Path) -> None:
    """A market's question is the venue's (or a shared tape's) text: an OSC 52 sequence in
    it would write the reader's clipboard, a CSI clear their screen."""
    tape = tmp_path / "t.jsonl.zst"
    _tape(tape, question="Rain?\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J")
    result = CliRunner().invoke(book, [str(tape)], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert "Rain?" in result.output


def test_an_unnamed_book_says_what_it_knows(tmp_path: Path) -> None:
    tape = tmp_path / "t.jsonl"
    _tape(tape, named=False)
    result = CliRunner().invoke(book, [str(tape)], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "market 0xdd22…110917  token 483310…965732" in result.output
    assert "None" not in result.output


def test_json_keeps_its_fields_and_adds_names(tmp_path: Path) -> None:
    tape = tmp_path / "t.jsonl.zst"
    _tape(tape)
    result = CliRunner().invoke(book, [str(tape), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    first = doc["books"][0]
    assert set(first) >= {
        "asset_id",
        "market",
        "tick_size",
        "best_bid",
        "best_ask",
        "spread",
        "last_trade_price",
        "last_trade_size",
        "last_trade_side",
        "timestamp",
        "hash",
        "needs_snapshot",
        "bids",
        "asks",
    }
    assert (first["asset_id"], first["question"], first["outcome"]) == (
        YES,
        "Will it rain in Lisbon on Friday?",
        "Yes",
    )
    assert first["best_bid"] == "0.51"
    assert first["asks"] == [{"price": "0.53", "size": "12.5"}]
    assert doc["frames"] == 2


def test_a_line_that_is_not_json_is_a_bad_frame_named_and_the_replay_goes_on(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"event_type": "book", "asset_id": "1"}\nnot json\n'
        '{"event_type": "book", "asset_id": "2"}\n'
    )
    result = CliRunner().invoke(book, [str(bad), "--json"])
    assert result.exit_code == 0
    assert f"polyterm: bad_frame: {bad}:2: not JSON (" in result.stderr
    doc = json.loads(result.stdout)
    assert [b["asset_id"] for b in doc["books"]] == ["1", "2"]
    assert doc["problems"] == {"bad_frame": 1}
