"""Risk: every intent is approved, resized or rejected here before it becomes an order."""
