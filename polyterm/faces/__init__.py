"""The faces: what each way of running polyterm plugs into the engine (headless, the
console's live and replay sessions, backtest), and how each is watched and stopped."""
