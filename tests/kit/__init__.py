"""What tests share: clocks, rigs, builders, processes, the console and browser drivers.

No test module imports another test module; whatever two of them need lives here.
"""
