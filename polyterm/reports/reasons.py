"""An exit row's reason id: the stored ``exits.kind`` where the ledger has one, else
the engine's ``classify()`` of its detail text (rows written before ids existed)."""

from __future__ import annotations

from engine.execution.exit_reasons import ExitReason, classify


def reason_id(kind: str | None, reason: str | None) -> ExitReason:
    if kind:
        try:
            return ExitReason(kind)
        except ValueError:
            pass  # an id this polyterm does not know: fall back to the text
    return classify(reason or "")
