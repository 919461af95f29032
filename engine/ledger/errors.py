"""The one error the ledger raises to its callers."""

from __future__ import annotations


class LedgerError(RuntimeError):
    """The ledger cannot be opened, read or written; the message names the file and the fix."""
