"""The runtime: the steppable core, snapshots, and the live and backtest runners."""
