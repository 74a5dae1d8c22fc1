"""`python -m processor` runs the `bounce-processor` command line."""

from processor.cli import main

main()
