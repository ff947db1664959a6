"""``python -m recloop.cli``: the same command line as the ``recloop`` entry point."""

from recloop.cli import main

main()
