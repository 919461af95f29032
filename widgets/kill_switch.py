"""The kill switch and risk pane: the switch's state, the day's loss against its limit as
a bar, cooldown left, the next reset, the recovery scale, and the order-rate windows
that are near their caps."""

from __future__ import annotations

from rich.text import Text

from engine.runtime.commands import KillSwitchState
from engine.runtime.snapshot import EngineSnapshot
from widgets.format import DASH, bar, clock, duration, money, palette
from widgets.pane import TextPane

BAR_WIDTH = 20


class KillSwitchPane(TextPane):
    DEFAULT_CSS = """
    KillSwitchPane { height: auto; }
    """

    def show(self, snap: EngineSnapshot) -> None:
        ks = snap.kill_switch
        text = Text(no_wrap=True, overflow="ellipsis")
        bad = ks.state != KillSwitchState.ARMED
        text.append("state     ")
        label = ks.state.upper() + (f" (killed by {ks.killed_by})" if ks.killed_by else "")
        text.append(label, style=f"bold {palette('pnl-down')}" if bad else palette("pnl-up"))
        day = snap.equity - ks.baseline
        used = float(ks.loss / ks.limit) if ks.limit > 0 else 0.0
        text.append("\nday PnL   ")
        text.append(
            f"{money(day, signed=True)}",
            style=palette("pnl-up") if day >= 0 else palette("pnl-down"),
        )
        text.append(f"  limit -{money(ks.limit)}")
        text.append("\nloss used ")
        style = palette("pnl-down") if used >= 0.75 else palette("warn") if used >= 0.5 else ""
        text.append(bar(used, BAR_WIDTH), style=style)
        text.append(f" {used:.0%}")
        cooldown = None if ks.cooldown_until is None else ks.cooldown_until - snap.at
        text.append(f"\ncooldown  {duration(cooldown) if cooldown and cooldown > 0 else DASH}")
        if ks.next_reset is None:
            text.append(f"\nreset     {DASH}")
        else:
            at = clock(ks.next_reset, seconds=False) + " UTC"
            text.append(f"\nreset     {at} (in {duration(ks.next_reset - snap.at)})")
        text.append(f"\nrecovery  ×{ks.recovery_scale:.2f} size")
        text.append("\nrate windows near their caps:")
        if not snap.rate_windows:
            text.append("\n  none at half or more", style="dim")
        for w in snap.rate_windows[:5]:
            full = w.used / w.limit if w.limit else 0.0
            style = palette("pnl-down") if full >= 0.9 else palette("warn")
            key = f"{w.scope}:{w.key}" if w.key else w.scope
            text.append(f"\n  {key[:22]:<22} ")
            text.append(f"{w.used}/{w.limit}", style=style)
            text.append(f" per {w.interval_s:g}s, resets {duration(w.resets_in_s)}")
        self.paint(text)
