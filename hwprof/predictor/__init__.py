"""Load a predictor file and evaluate it: what a user who only predicts needs.

Nothing here imports the fitting or measuring code, scikit-learn or scipy.optimize,
so loading a predictor inside a search loop stays light.
"""

INTERVAL_CONFIDENCE = 0.9  # the level of the intervals predict, evaluate and report give unless asked otherwise
