"""`python -m exposure.app.cli`: the command line without the installed script (tests, workers)."""

from exposure.app.cli import main

main()
