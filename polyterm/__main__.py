"""``python -m polyterm``: the same command line as the ``polyterm`` script."""

from polyterm.cli import main

if __name__ == "__main__":
    main(prog_name="polyterm")
