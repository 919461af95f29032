"""Network plumbing shared by adapters: paced HTTP, backoff, the loopback guard."""
