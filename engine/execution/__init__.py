"""Execution: the order manager, accounting, flatten, the matching core, the paper exchange."""
