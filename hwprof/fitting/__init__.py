"""`hwprof fit` and `hwprof evaluate`: datasets in, a predictor document out."""
