"""`python -m hwprof` is the `hwprof` command."""

from hwprof.cli import main

main(prog_name="hwprof")  # usage lines and --version name the command, not "python -m hwprof"
