"""A local exchange emulator that speaks Polymarket's CLOB REST, market/user WebSocket,
Gamma and a NewsAPI-shaped headline feed on loopback.

It is the embedded default for ``--offline`` and the target of integration tests: the
same adapters that talk to Polymarket talk to it.
"""
