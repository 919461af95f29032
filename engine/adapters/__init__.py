"""Adapters: all I/O with venues, tapes and news lives here; only runtime and wiring import it."""
