"""`hwprof report`: one self-contained HTML page of what datasets (and a predictor) say.

`figures` draws each view from the tables, `page` puts them into the HTML with
every image embedded, so the file opens offline and can be mailed or archived
as it is. It reads datasets, traces and predictors; it measures and fits nothing.
"""
