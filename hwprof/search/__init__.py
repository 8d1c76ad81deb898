"""`hwprof search`: hardware-constrained search that never trains a configuration predicted to break a budget."""
