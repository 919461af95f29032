"""The Exits pane names every kind of exit that happened by its label (never "N other
reasons"), and its worst markets are only markets that lost money, worst first."""

from __future__ import annotations

from decimal import Decimal

from engine.exit_reasons import ExitReason, label
from engine.runtime.snapshot import ExitRow
from tests.kit.snapshots import blank_snapshot
from widgets.exits import WORST_SHOWN, exits_text
from widgets.format import money


def _exit(question: str, realized: str, kind: ExitReason = ExitReason.SIGNAL) -> ExitRow:
    return ExitRow(
        at=0.0,
        asset_id=question,
        question=question,
        outcome="Yes",
        strategy="mean_reversion",
        reason=str(kind),
        shares=Decimal(10),
        entry_price=Decimal("0.50"),
        exit_price=Decimal("0.50"),
        realized=Decimal(realized),
        kind=kind,
    )


def test_every_kind_of_exit_is_named_by_its_label() -> None:
    # Every reason the engine has, each once or more: all of them in words, none summed
    # up as "other".
    kinds = tuple((kind, n + 1) for n, kind in enumerate(ExitReason))
    shown = exits_text(blank_snapshot(exit_kinds=kinds)).plain
    total = sum(n for _, n in kinds)
    assert f"{total} exits" in shown
    for kind, n in kinds:
        assert f"{label(kind)} {n}" in shown, label(kind)
    assert "other" not in shown


def test_the_worst_markets_are_only_losers_worst_first() -> None:
    exits = (
        _exit("Gains market", "5.00"),
        _exit("Small loss market", "-1.00"),
        _exit("Big loss market", "-10.00"),
        _exit("Mixed market", "4.00"),  # lost 3 and gained 4: a gain overall
        _exit("Mixed market", "-3.00"),
        _exit("Middle loss market", "-3.00"),
        _exit("Second loss market", "-4.00"),
    )
    snap = blank_snapshot(exits=exits, exit_kinds=((ExitReason.SIGNAL, len(exits)),))
    lines = exits_text(snap).plain.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("worst markets"))
    worst = lines[at + 1 :]
    assert len(worst) == WORST_SHOWN == 3
    for line, (name, realized) in zip(
        worst,
        (("Big loss market", -10), ("Second loss market", -4), ("Middle loss market", -3)),
        strict=True,
    ):
        assert name in line
        assert money(Decimal(realized), signed=True) in line
    shown = "\n".join(worst)
    for winner in ("Gains market", "Mixed market"):
        assert winner not in shown


def test_no_market_that_lost_says_so_instead_of_listing_gains() -> None:
    exits = (_exit("Gains market", "5.00"), _exit("Flat market", "0"))
    snap = blank_snapshot(exits=exits, exit_kinds=((ExitReason.TAKE_PROFIT, 2),))
    shown = exits_text(snap).plain
    assert "none lost money" in shown
    assert "Gains market" not in shown
    assert "Flat market" not in shown
