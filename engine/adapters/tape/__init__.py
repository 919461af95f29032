"""Tapes: recorded frames with receive times, written and replayed."""
