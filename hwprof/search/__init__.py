"""`hwprof search`: hardware-constrained search that never trains a configuration predicted to break a budget."""

# finished trials a study runs to, for `hwprof search --trials` and SearchOptions alike: here, where the command
# line reads it without importing the study (and torch)
DEFAULT_TRIALS = 30
