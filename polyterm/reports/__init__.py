"""Reports over a ledger: the kinds, each one module under ``kinds/``, and their formats.

Adding a kind is one module with ``build(ctx) -> Report`` (or, for kinds over several
ledgers, ``build_many(paths, scope) -> Report``) and one line in :data:`KINDS`; ``drift``
(live fills against the paper model) arrives that way once live trading records it.
"""

from __future__ import annotations

from polyterm.reports.catalog import FORMATS, KINDS, KindSpec

__all__ = ["FORMATS", "KINDS", "KindSpec"]
