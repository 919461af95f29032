"""A local exchange emulator that speaks Polymarket's CLOB REST, market/user WebSocket,
Gamma and a NewsAPI-shaped headline feed on loopback.

It is the embedded default for ``--offline`` and the target of integration tests: the
same adapters that talk to Polymarket talk to it. All of its time comes from an
``engine.clock.Clock`` (the system clock unless given one), so on a ``SimClock`` a seeded
run is reproducible byte for byte; :mod:`polyterm.emulator.export` uses that to write
synthetic tapes without a network.
"""
