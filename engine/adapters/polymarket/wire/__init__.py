"""Typed wire schemas for Polymarket messages, decoded with msgspec."""
