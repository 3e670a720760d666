# written by `python -m lab.clean.fit --write`; do not edit by hand
"""The line model's fitted numbers: its coefficients (in `lines.FEATURES` order), intercept,
keep threshold and outside-the-run threshold, fitted on the extraction benchmark's pages."""

COEFFICIENTS: tuple[float, ...] = (
    0.5688, 0.06022, -0.0092, 0.05459, 0.7168, 0.11471, 0.11167, 0.55117, 0.63197, 0.62982,
    0.48265, 0.42793, 0.73097, -0.16776, -0.74976, 0.17369, -0.22424, -0.14964, -0.34844,
    0.09217, 0.74831, 0.38231, 0.18169,
)
INTERCEPT = -2.2564
THRESHOLD = 0.6
OUTSIDE_THRESHOLD = 0.8
