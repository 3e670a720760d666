# written by `python -m lab.cluster.fit --write`; do not edit by hand
"""The cluster core's fitted numbers: the join score's weights (in `config.FEATURES` order)
and its thresholds, fitted on ECB+ dev topics."""

FITTED_WEIGHTS: tuple[float, ...] = (
    -2.3817, 4.7618, -0.084, 1.6409, 0.435, -0.4278, -0.0522, -0.0159, -0.9876, -3.0686, 0.0,
    4.2321, 4.2427, -0.7808, -0.8999, 2.9998,
)
FITTED_JOIN_THRESHOLD = -1.75
FITTED_MERGE_THRESHOLD = -0.5
FITTED_SPLIT_THRESHOLD = 0.09
