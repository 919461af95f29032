"""``polyterm order buy|sell TOKEN_OR_SLUG SIZE --price P``: a person's order, sent to a
running instance (console or headless) over its control socket, through the same risk
gate and gateway as a strategy's order (the ledger records it as ``manual``, by ctl).

TOKEN_OR_SLUG is a token id, or a market (its condition id or slug) with ``--outcome``.
``--price`` is the limit, the worst the order may fill at: ``0.523`` (dollars, as the
venue's API writes prices) or ``52.3c`` (cents). ``--preview`` asks the risk gate and the
book without sending. A refusal (a risk rule, a bad field) is one line and exit 2; with
``--json`` the answer is the ``ctl`` document (the status summary and ``command``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from polyterm.cli.common import fail
from polyterm.cli.ctl import ask, target_options


@click.command()
@click.argument("side", type=click.Choice(["buy", "sell"], case_sensitive=False))
@click.argument("token", metavar="TOKEN_OR_SLUG")
@click.argument("size")
@click.option(
    "--price",
    required=True,
    help="Limit price, the worst it may fill at: 0.523 (dollars) or 52.3c (cents).",
)
@click.option(
    "--type",
    "order_type",
    type=click.Choice(["FAK", "GTC", "GTD", "FOK"], case_sensitive=False),
    default="FAK",
    show_default=True,
    help="FAK takes what the book shows and cancels the rest; GTC rests; GTD rests until "
    "--expires-in; FOK fills whole or not at all.",
)
@click.option("--outcome", help="The outcome (Yes, No, ...) when TOKEN_OR_SLUG is a market.")
@click.option("--post-only", is_flag=True, help="Rest only: refused if it would take.")
@click.option(
    "--expires-in",
    type=click.FloatRange(min=0, min_open=True),
    help="GTD: seconds until it expires.",
)
@click.option("--preview", is_flag=True, help="Ask the risk gate and the book; send nothing.")
@target_options
@click.pass_context
def order(
    ctx: click.Context,
    side: str,
    token: str,
    size: str,
    price: str,
    order_type: str,
    outcome: str | None,
    post_only: bool,
    expires_in: float | None,
    preview: bool,
    as_json: bool,
    ledger: Path | None,
    socket_path: Path | None,
) -> None:
    """Send a buy or sell to a running polyterm through its risk gate."""
    from polyterm.faces.order_input import OrderInputError, size_units, wire_price_units

    try:
        size_units(size, field="SIZE")
        units = wire_price_units(price)
    except OrderInputError as exc:
        fail(str(exc))
    args: dict[str, Any] = {
        "side": side.lower(),
        "token": token,
        "size": size,
        "price": str(Decimal(units).scaleb(-4)),  # dollars on the wire: plain decimals
        "type": order_type.upper(),
        "post_only": post_only,
        "preview": preview,
    }
    if outcome is not None:
        args["outcome"] = outcome
    if expires_in is not None:
        args["expires_in"] = expires_in
    result = ask(ctx, "order", args, as_json, ledger, socket_path)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(order_lines(result["command"]))


def order_lines(command: dict[str, Any]) -> str:
    """The order's answer in words (prices in cents, shares and money with 2 decimals)."""
    from widgets.format import market_label, money, price, size

    what = market_label(str(command["question"]), str(command["outcome"]), 60)
    line = (
        f"{command['side'].lower()} {size(Decimal(command['size']))} {what} at "
        f"{price(Decimal(command['price']))} or better ({command['type']})"
    )
    expected = (
        f"fills now {size(Decimal(command['expected_filled']))} for "
        f"{money(Decimal(command['expected_cost']))}, fee {money(Decimal(command['expected_fee']))}"
    )
    if command.get("preview"):
        verdict = (
            "approved"
            if command.get("approved")
            else f"refused by {command.get('rule')}: {command.get('reason')}"
        )
        return f"preview: {line}\n  risk gate: {verdict}\n  {expected}"
    status = str(command.get("status", "")).replace("_", " ")
    filled = size(Decimal(str(command.get("filled", "0"))))
    return f"order {command['order_id']} sent: {line}\n  {status}: {filled} filled"
