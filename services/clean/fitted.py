# written by `python -m lab.clean.fit --write`; do not edit by hand
"""The line model's fitted numbers: its coefficients (in `lines.FEATURES` order), intercept,
keep threshold and outside-the-run threshold, fitted on the extraction benchmark's pages."""

COEFFICIENTS: tuple[float, ...] = (
    0.53339, 0.03644, -0.04219, 0.01663, 0.6882, 0.08531, 0.05194, 0.53964, 0.6305, 0.59925,
    0.49989, 0.40909, 0.69462, -0.14052, -0.6954, 0.18621, -0.26901, -0.16857, -0.39133,
    0.09034, 0.72488, 0.35429, 0.18983, 0.24194, 0.69111,
)
INTERCEPT = -2.337
THRESHOLD = 0.6
OUTSIDE_THRESHOLD = 0.8
