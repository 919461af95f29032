"""Market data adapters: Polymarket (Gamma + CLOB REST + market WS) and tapes."""
