"""Textual widgets, one pane per module, rendering engine snapshots.

Widgets import only the engine's public snapshot and command types, never the shell.
The console's panes arrive with the Textual console; the package exists now so the
import boundaries (checked by import-linter) hold from the first commit.
"""
