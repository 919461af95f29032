"""Reading provider timestamps: ISO 8601 (NewsAPI, X, JSONL) or epoch seconds (JSONL)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: object) -> float | None:
    """Epoch seconds from an ISO 8601 string (naive means UTC) or a number; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
