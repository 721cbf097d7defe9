"""`python -m doccontrol`: the command line, as the `doccontrol` script runs it."""

from .cli import main

main()
