"""Polymarket: wire schemas, the book builder, the feed (Gamma, CLOB REST, market WS)."""
