"""``polyterm redeem [--dry-run] [--ledger PATH] [--json]``: redeem resolved positions.

The markets are the ledger's; for each one the venue says resolved and in which the
wallet still holds shares, ``redeem_positions`` is sent through the official SDK (an
on-chain transaction from the wallet), its payout measured (pUSD after less before) and
recorded in the ledger's ``redemptions``. ``--dry-run`` only lists what would be redeemed.
A run holding the ledger refuses it (one writer per ledger): stop the run, or let it
redeem as markets resolve (``execution.auto_redeem``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from polyterm.cli.common import fail, run_command
from polyterm.cli.trading import config_option, credentials, load


@click.command()
@click.option("--dry-run", is_flag=True, help="List what would be redeemed; send nothing.")
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The ledger whose markets to redeem (default: the config's, else the default one).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
@config_option
def redeem(dry_run: bool, ledger: Path | None, as_json: bool, config_path: Path | None) -> None:
    """Redeem resolved positions on chain and record the payout in the ledger."""
    app = load(config_path)
    from polyterm.settings.locations import default_ledger_path

    path = ledger or app.ledger or default_ledger_path()
    if not path.exists():
        fail(f"no ledger at {path}: pass --ledger PATH (the one your live runs write)")
    creds = credentials(app)
    verbose = int((click.get_current_context().find_root().obj or {}).get("verbose", 0))
    lines: list[dict[str, Any]] = []
    code = run_command(lambda: _checked(app, creds, path, dry_run, lines), verbose)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "redemptions": lines}))
    elif not lines:
        click.echo("nothing to redeem: no resolved market holds shares of this wallet")
    for line in [] if as_json else lines:
        verb = "would redeem" if dry_run else "redeemed"
        paid = "" if dry_run else f", paid {line['payout']} pUSD (tx {line['transaction']})"
        click.echo(f"{verb} {line['question']}: {line['shares']} shares{paid}")
    sys.exit(code)


async def _checked(
    app: Any, creds: Any, path: Path, dry_run: bool, lines: list[dict[str, Any]]
) -> int:
    """The venue's refusals as one line (exit 2), never a traceback or a secret."""
    from polyterm.settings.venue_client import VenueError

    try:
        return await _redeem(app, creds, path, dry_run, lines)
    except VenueError as exc:
        fail(str(exc))


async def _redeem(
    app: Any, creds: Any, path: Path, dry_run: bool, lines: list[dict[str, Any]]
) -> int:
    import asyncio

    from engine.adapters.polymarket.live.redeem import held_in_resolved, redeem
    from engine.events import Redeemed
    from engine.fixed import ONE, cash_decimal, size_decimal
    from engine.ledger.reader import LedgerReader
    from engine.ledger.writer import SqliteLedger
    from polyterm.settings.venue_client import VenueUrls, connect, venue_error

    reader = LedgerReader(path)
    markets = await asyncio.to_thread(reader.markets)
    settled = await asyncio.to_thread(reader.settlements)
    winners = {s.event.market: s.event.asset_id for s in settled if s.event.payout_price == ONE}
    questions = {m.condition_id: m.question for m in markets}
    client = await connect(creds, VenueUrls.from_config(app))
    try:
        from polymarket.errors import PolymarketError

        try:
            held = await held_in_resolved(
                client, [(m.condition_id, [o.token_id for o in m.outcomes]) for m in markets]
            )
        except (PolymarketError, OSError) as exc:
            raise venue_error(exc, creds, "reading the wallet's resolved positions") from None
        if dry_run or not held:
            lines.extend(
                {
                    "market": h.condition_id,
                    "question": questions.get(h.condition_id, h.condition_id),
                    "shares": str(size_decimal(h.total)),
                }
                for h in held
            )
            return 0
        ledger = await SqliteLedger(path).open()  # refuses while a run holds it
        try:
            for h in held:
                try:
                    done = await redeem(client, h, winners.get(h.condition_id))
                except (PolymarketError, OSError, TimeoutError) as exc:
                    raise venue_error(exc, creds, f"redeeming {h.condition_id}") from None
                ledger.record(
                    Redeemed(
                        _now(),
                        done.condition_id,
                        done.asset_id,
                        done.shares,
                        done.payout,
                        done.transaction,
                    )
                )
                await ledger.flush()
                lines.append(
                    {
                        "market": done.condition_id,
                        "question": questions.get(done.condition_id, done.condition_id),
                        "shares": str(size_decimal(done.shares)),
                        "payout": str(cash_decimal(done.payout)),
                        "transaction": done.transaction,
                    }
                )
        finally:
            await ledger.close()
    finally:
        await client.close()
    return 0


def _now() -> float:
    from engine.clock import SystemClock

    return SystemClock().time()
