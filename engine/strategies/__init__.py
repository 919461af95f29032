"""Strategies: each looks at one market at a time and may emit a signal."""
