from __future__ import annotations

import numpy as np

from workbench.train import tune_thresholds


def test_thresholds_tuned_per_code_not_fixed():
    scores = np.array([[0.9, 0.2], [0.8, 0.15], [0.3, 0.1], [0.25, 0.05], [0.7, 0.3]])
    Y = np.array([[1, 1], [1, 1], [0, 0], [0, 0], [1, 1]])
    th = tune_thresholds(scores, Y)
    assert th[0] == (0.7 + 0.3) / 2  # midway between the last positive and first negative
    assert th[1] == (0.15 + 0.1) / 2  # far below 0.5: this code's scores run low
    pred = scores >= th
    assert (pred == (Y == 1)).all()


def test_too_few_positives_keep_default():
    scores = np.array([[0.9], [0.1], [0.2]])
    Y = np.array([[1], [0], [-1]])
    assert tune_thresholds(scores, Y)[0] == 0.5
