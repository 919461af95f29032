"""``polyterm book``: the books a tape rebuilds, as tables or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from polyterm.cli.common import EXIT_INCOMPLETE, fail

if TYPE_CHECKING:
    from engine.adapters.polymarket.books import BookStore


@click.command()
@click.argument("tape", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the books as one JSON document.")
@click.option(
    "--levels", default=0, type=click.IntRange(min=0), help="Levels per side to print (0 = all)."
)
def book(tape: Path, as_json: bool, levels: int) -> None:
    """Rebuild books from a tape or recorded messages and print each token's final book.

    A tape cut short (a recorder killed mid-write) still prints the books its whole
    frames rebuild, then one warning line on stderr, and exits 1: the output is real but
    incomplete. A file that cannot be read as frames at all is one error line, exit 2.
    """
    from engine.adapters.polymarket.books import BookStore
    from engine.adapters.tape.tape import TapeError, TapeTruncated, read_frames

    problems: list[str] = []
    store = BookStore(on_problem=problems.append)
    truncated: TapeTruncated | None = None
    try:
        for frame in read_frames(tape):
            store.apply_frame(frame)
    except TapeTruncated as exc:
        truncated = exc
    except TapeError as exc:
        fail(str(exc))
    for line in problems:
        click.echo(f"polyterm: {line}", err=True)
    _print_books(store, as_json, levels)
    if truncated is not None:
        sys.stdout.flush()
        click.echo(f"polyterm: warning: {truncated}", err=True)
        sys.exit(EXIT_INCOMPLETE)


def _print_books(store: BookStore, as_json: bool, levels: int) -> None:
    books = [b.to_dict(levels or None) for b in store.books.values()]
    if as_json:
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

    console = Console()
    for b in books:
        table = Table(title=f"{b['asset_id']}  (tick {b['tick_size']})", title_justify="left")
        for col in ("bid size", "bid", "ask", "ask size"):
            table.add_column(col, justify="right")
        bids, asks = b["bids"], b["asks"]
        assert isinstance(bids, list)
        assert isinstance(asks, list)
        for i in range(max(len(bids), len(asks))):
            bid = bids[i] if i < len(bids) else {"price": "", "size": ""}
            ask = asks[i] if i < len(asks) else {"price": "", "size": ""}
            table.add_row(bid["size"], bid["price"], ask["price"], ask["size"])
        console.print(table)
        console.print(
            f"best bid {b['best_bid']}  best ask {b['best_ask']}  spread {b['spread']}  "
            f"last trade {b['last_trade_price']} ({b['last_trade_side']})"
            + ("  [needs re-snapshot]" if b["needs_snapshot"] else "")
        )
