"""`hwprof measure`: time layers and networks (and read power) into a dataset.

Imports go down only: models, drivers and the dataset format.
"""
