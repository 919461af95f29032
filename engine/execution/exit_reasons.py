"""Exit reasons live in the engine's vocabulary (:mod:`engine.exit_reasons`), where every
layer may use them; this name stays for the faces and reports that import it here."""

from engine.exit_reasons import LABELS, ORDER, ExitReason, classify, label

__all__ = ["LABELS", "ORDER", "ExitReason", "classify", "label"]
