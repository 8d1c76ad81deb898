"""Load a predictor file and evaluate it: what a user who only predicts needs.

Nothing here imports the fitting or measuring code, scikit-learn or scipy.optimize,
so loading a predictor inside a search loop stays light.
"""
