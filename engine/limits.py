"""Bounds one run is built and measured for, shared by the config, the CLI and benchmarks.

A light module (no imports): the command line reads it before any configuration loads.
"""

# Markets one run trades (and the emulator lists): the socket shards, the decision loop
# and the console were measured up to it (README, Benchmarks).
MAX_MARKETS = 1000
