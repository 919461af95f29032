"""Execution: the matching core, the paper venue, the portfolio."""
