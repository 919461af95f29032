"""The console's themes: a dark and a light one, registered with Textual by the app.

Colours carry meaning through Textual's variables ($success for gains, $error for losses
and trips, $warning for LIVE and stale feeds); the extra variables name what the panes
colour so the .tcss never hard-codes a colour.
"""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

STYLESHEET = Path(__file__).with_name("polyterm.tcss")

DARK = Theme(
    name="polyterm-dark",
    primary="#4EA1F3",
    secondary="#8B7CF6",
    accent="#F5A524",
    foreground="#D8DEE9",
    background="#0F1419",
    surface="#161C23",
    panel="#1E2630",
    success="#3FB950",
    warning="#E3B341",
    error="#F85149",
    dark=True,
    variables={
        "pnl-up": "#3FB950",
        "pnl-down": "#F85149",
        "bid": "#3FB950",
        "ask": "#F85149",
        "footer-key-foreground": "#4EA1F3",
    },
)

LIGHT = Theme(
    name="polyterm-light",
    primary="#0B5CAD",
    secondary="#5B45C9",
    accent="#B35F00",
    foreground="#1F2328",
    background="#FAFBFC",
    surface="#F0F2F5",
    panel="#E3E7EC",
    success="#1A7F37",
    warning="#9A6700",
    error="#CF222E",
    dark=False,
    variables={
        "pnl-up": "#1A7F37",
        "pnl-down": "#CF222E",
        "bid": "#1A7F37",
        "ask": "#CF222E",
        "footer-key-foreground": "#0B5CAD",
    },
)

THEMES = (DARK, LIGHT)
DEFAULT_THEME = DARK.name
