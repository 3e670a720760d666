# written by `python -m lab.clean.fit --write`; do not edit by hand
"""The line model's fitted numbers: its coefficients (in `lines.FEATURES` order), intercept,
keep threshold and outside-the-run threshold, fitted on the extraction benchmark's pages."""

COEFFICIENTS: tuple[float, ...] = (
    0.55332, 0.0454, -0.06167, 0.03469, 0.71504, 0.08928, 0.07135, 0.52966, 0.63019, 0.62728,
    0.47278, 0.41858, 0.72802, -0.18088, -0.73752, 0.16257, -0.22568, -0.15194, -0.37891,
    0.1217, 0.7478, 0.38522, 0.18368,
)
INTERCEPT = -2.11804
THRESHOLD = 0.6
OUTSIDE_THRESHOLD = 0.8
