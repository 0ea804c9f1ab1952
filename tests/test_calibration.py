"""Cutting scores into suggestions at the coders' rate."""

from __future__ import annotations

import numpy as np

from workbench.calibration import coder_rate


def test_suggestions_come_as_often_as_coders_gave_codes():
    rng = np.random.default_rng(1)
    Y = (rng.random((200, 4)) < [0.4, 0.2, 0.1, 0.0]).astype(int)
    scores = np.clip(Y * 0.3 + rng.random(Y.shape) * 0.7, 0, 1)
    keyword = np.zeros_like(scores)
    for mix in (0.0, 1.0):
        blend, th = coder_rate(scores, keyword, Y, {"blend": 1.0, "rate_mix": mix})
        passed = scores >= th
        if mix == 1.0:  # one cut for all codes: as many suggestions as codes given
            assert abs(int(passed.sum()) - int(Y.sum())) <= 1
        else:  # a cut per code: each code as often as coders gave it
            assert np.all(np.abs(passed.sum(axis=0) - Y.sum(axis=0)) <= 1)
        assert np.all(blend == 1.0)
    # a code nobody gave is cut above every score when it has its own cut only
    _b, th = coder_rate(scores, keyword, Y, {"blend": 1.0, "rate_mix": 0.0})
    assert th[3] == 1.0


def test_unknown_labels_are_left_out_of_the_rate():
    Y = np.array([[1], [0], [-1], [-1]])
    scores = np.array([[0.9], [0.1], [0.95], [0.97]])
    _b, th = coder_rate(scores, np.zeros_like(scores), Y, {"blend": 1.0, "rate_mix": 1.0})
    assert th[0] == 0.9  # the best known score: one code given among the known
