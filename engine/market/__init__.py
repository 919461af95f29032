"""Market state: markets, L2 books, fees, feed health."""
