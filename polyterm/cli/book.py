"""``polyterm book``: the books a tape rebuilds, as tables or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from polyterm.cli.common import EXIT_INCOMPLETE, fail
from polyterm.reports.printable import printable

PROBLEM_LINES = 20  # a hostile tape can hold millions: the first ones, then a count

if TYPE_CHECKING:
    from engine.adapters.polymarket.books import BookStore
    from engine.market.markets import MarketInfo


@click.command()
@click.argument("tape", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the books as one JSON document.")
@click.option(
    "--levels", default=0, type=click.IntRange(min=0), help="Levels per side to print (0 = all)."
)
def book(tape: Path, as_json: bool, levels: int) -> None:
    """Rebuild books from a tape or recorded messages and print each token's final book.

    A frame that is not a market message (not JSON, wrong types, prices outside (0, 1),
    nested too deep, ...) is counted as a bad frame, named on stderr, and the replay goes
    on, as the live engine does. A tape cut short (a recorder killed mid-write) still
    prints the books its whole frames rebuild, then one warning line on stderr, and exits
    1: the output is real but incomplete. A file that holds no frames, or no market
    message at all, is one error line, exit 2.
    """
    from engine.adapters.polymarket.books import BookStore
    from engine.adapters.tape.tape import FrameReader, TapeError, TapeTruncated

    problems: list[str] = []
    store = BookStore(on_problem=problems.append)
    truncated: TapeTruncated | None = None
    reader = FrameReader(tape)
    try:
        # One parse per frame: the reader hands message lines on as bytes, and the
        # decoder's verdict on a line that is not JSON is counted under the reader's
        # FILE:LINE for it.
        store.apply_frames(reader, reader.bad_frame)
    except TapeTruncated as exc:
        truncated = exc
    except TapeError as exc:
        fail(str(exc))
    frames = store.counts["frames"]
    if frames == 0:  # empty, or cut before its first frame: nothing to show
        fail(f"{tape}: no frames (an empty recording?); pass a tape from `polyterm record`")
    if frames and sum(store.counts.values()) == frames:  # not one event in any frame
        fail(
            f"{tape}: no market messages in its {frames} frames (the first: "
            f"{problems[0] if problems else 'unknown'}); pass a tape or market messages"
        )
    for line in problems[:PROBLEM_LINES]:
        click.echo(f"polyterm: {line}", err=True)
    if len(problems) > PROBLEM_LINES:
        click.echo(
            f"polyterm: ... and {len(problems) - PROBLEM_LINES} more problems "
            '(counted under "problems" with --json)',
            err=True,
        )
    _print_books(store, as_json, levels, reader.markets)
    if truncated is not None:
        sys.stdout.flush()
        click.echo(f"polyterm: warning: {truncated}", err=True)
        sys.exit(EXIT_INCOMPLETE)


def _print_books(
    store: BookStore, as_json: bool, levels: int, markets: dict[str, MarketInfo]
) -> None:
    by_token = {t: m for m in markets.values() for t in m.token_ids}
    books = [b.to_dict(levels or None) for b in store.books.values()]
    if as_json:
        for b in books:
            market = by_token.get(str(b["asset_id"]))
            if market is not None:  # added fields only: the existing ones stay as they were
                b["question"] = market.question
                b["outcome"] = market.outcome_of(str(b["asset_id"]))
        click.echo(
            json.dumps(
                {
                    "books": books,
                    "frames": store.counts["frames"],
                    "events": {k: v for k, v in store.counts.items() if k != "frames"},
                    "problems": dict(store.problems),
                }
            )
        )
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    for b in books:
        asset = str(b["asset_id"])
        market = by_token.get(asset)
        # The title is its own line, not the table's: a table wraps its title to the
        # table's width, and a question is longer than four narrow columns.
        console.print(
            Text.assemble(
                (_title(asset, str(b["market"] or ""), market), "bold"),
                f"  token {short_id(asset)} · tick {b['tick_size']}",
            )
        )
        table = Table()
        for col in ("bid size", "bid", "ask", "ask size"):
            table.add_column(col, justify="right")
        bids, asks = b["bids"], b["asks"]
        assert isinstance(bids, list)
        assert isinstance(asks, list)
        for i in range(max(len(bids), len(asks))):
            bid = bids[i] if i < len(bids) else {"price": "", "size": ""}
            ask = asks[i] if i < len(asks) else {"price": "", "size": ""}
            table.add_row(bid["size"], bid["price"], ask["price"], ask["size"])
        if not bids and not asks:
            table.add_row("", "(empty)", "", "")
        console.print(table)
        console.print(_summary(b), highlight=False)


def short_id(ident: str, keep: int = 6) -> str:
    """A long token or condition id as its ends ("483310…965732"): enough to tell apart."""
    return ident if len(ident) <= 2 * keep + 1 else f"{ident[:keep]}…{ident[-keep:]}"


def _title(asset: str, market_id: str, market: MarketInfo | None) -> str:
    if market is not None:
        # The venue's (or a shared tape's) words: no escape sequence reaches the terminal.
        return printable(f"{market.question} · {market.outcome_of(asset)}")
    if market_id:
        return f"market {short_id(market_id)}"
    return "unknown market"


def _summary(b: dict[str, object]) -> str:
    def shown(value: object) -> str:
        return "—" if value is None else str(value)

    line = (
        f"best bid {shown(b['best_bid'])}  best ask {shown(b['best_ask'])}  "
        f"spread {shown(b['spread'])}"
    )
    if b["last_trade_price"] is not None:
        side = f" {b['last_trade_side']}" if b["last_trade_side"] else ""
        line += f"  last trade {b['last_trade_price']} × {b['last_trade_size']}{side}"
    if b["needs_snapshot"]:
        line += "  [needs re-snapshot]"
    return line
