"""`python -m hwprof` is the `hwprof` command."""

from hwprof.cli import main

main()
