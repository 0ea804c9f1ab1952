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


def test_a_document_cut_is_half_way_to_the_codes_training_share_on_that_document():
    from workbench.calibration import MAX_DOCUMENT_SHIFT, document_thresholds

    rng = np.random.default_rng(3)
    scores = rng.random((80, 3))
    thresholds = np.array([0.5, 0.5, 0.9])
    rates = np.array([0.25, 0.0, 1.0])
    cut = document_thresholds(scores, thresholds, rates)
    share = np.array([np.quantile(scores[:, j], 1 - max(r, 1e-3))
                      for j, r in enumerate(rates)])
    half_way = np.sqrt(share * thresholds)
    assert np.allclose(cut, np.clip(half_way, thresholds / MAX_DOCUMENT_SHIFT,
                                    thresholds * MAX_DOCUMENT_SHIFT))
    assert np.isclose(cut[0], half_way[0])  # within the bound: half-way exactly
    assert np.isclose(cut[2], 0.9 / MAX_DOCUMENT_SHIFT) and half_way[2] < cut[2]
    # a code given to a quarter of the training segments: its cut lands between the
    # trained one and the one a quarter of this document reaches
    assert min(0.5, share[0]) <= cut[0] <= max(0.5, share[0])


def test_a_document_scored_low_as_a_whole_still_gets_suggestions():
    """Another kind of report whose scores all sit lower: the trained cut gives it
    nothing, the document's cut gives it suggestions for the codes coders use."""
    from workbench.calibration import document_thresholds

    rng = np.random.default_rng(4)
    scores = rng.random((60, 2)) * 0.45  # every score under the trained cut
    thresholds = np.array([0.5, 0.5])
    assert not (scores >= thresholds).any()
    cut = document_thresholds(scores, thresholds, np.array([0.3, 0.05]))
    passed = (scores >= cut).sum(axis=0)
    assert (cut < thresholds).all()
    assert passed[0] > 0 and passed[0] > passed[1]  # the commoner code comes up more
    assert passed[0] < 0.3 * len(scores)  # half-way: fewer than the training share


def test_a_document_about_something_else_moves_the_cut_only_so_far():
    """A court transcript in a store of policy reports: every score is near nothing, and
    the scores its top segments happen to reach mean nothing either. Its cut comes down
    by the bound at most, so it gets next to no suggestions, as with the trained cut."""
    from workbench.calibration import MAX_DOCUMENT_SHIFT, document_thresholds

    rng = np.random.default_rng(6)
    scores = rng.random((200, 3)) * 0.1
    scores[:4] += 0.2  # a few segments brush against the topic
    thresholds = np.array([0.5, 0.45, 0.6])
    rates = np.array([0.3, 0.2, 0.1])
    cut = document_thresholds(scores, thresholds, rates)
    assert np.allclose(cut, thresholds / MAX_DOCUMENT_SHIFT)
    assert not (scores >= cut).any()
    half_way = np.sqrt(np.quantile(scores, 1 - rates, axis=0).diagonal() * thresholds)
    assert (scores[:4] >= half_way).all()  # unbounded, those few would all be suggested


def test_a_short_document_or_an_older_model_keeps_the_trained_cut():
    from workbench.calibration import MIN_DOCUMENT_SEGMENTS, document_thresholds

    thresholds = np.array([0.4, 0.6])
    few = np.random.default_rng(5).random((MIN_DOCUMENT_SEGMENTS - 1, 2))
    assert document_thresholds(few, thresholds, np.array([0.5, 0.5])) is thresholds
    many = np.random.default_rng(5).random((50, 2))
    assert document_thresholds(many, thresholds, None) is thresholds  # no rates kept
    assert document_thresholds(many, thresholds, np.array([0.5])) is thresholds  # other codes


def test_a_codes_share_counts_only_the_segments_decided_on_for_it():
    from workbench.calibration import code_rates

    Y = np.array([[1, -1], [0, -1], [1, 1], [-1, 0]])
    assert code_rates(Y).tolist() == [2 / 3, 1 / 2]
    assert code_rates(np.full((2, 1), -1)).tolist() == [0.0]
