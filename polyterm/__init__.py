"""polyterm: terminal trading console and bot for Polymarket's CLOB.

This package is the shell: CLI, configuration, the headless runner and the local
exchange emulator. Nothing is imported eagerly, so ``polyterm --help`` stays fast.
"""

__version__ = "0.1.0"
