"""What a live start says when it cannot start, light enough for every command to import
(the gateway and the SDK load only when a live run starts)."""

from __future__ import annotations

CONFIRM_WORD = "live"  # what a person types to start a live run


class LiveError(Exception):
    """A live run cannot start; ``str()`` is one line with the fix and no secret."""
