"""The sentence-vector model kind, on the real encoder and the real codebook."""

from __future__ import annotations

import numpy as np
import pytest

from workbench import codebook, encoder
from workbench.classifiers.minilm import EmbeddingModel, codebook_rows
from workbench.suggest import Suggester

HOUSING = ["Rents in the town have doubled and newcomers cannot find a flat.",
           "Landlords refuse tenants with foreign names; families share overcrowded rooms."]
VOLUNTEERS = ["Volunteers from the parish run the welcome desk every afternoon.",
              "A network of local associations and volunteers mentors new arrivals."]
OTHER = ["The report was written in 2019 by the project team.",
         "Table 3 lists the interviews conducted for this study."]


def _defs():
    book = codebook.load()
    return [book.get(c) for c in ("OB09", "FP08", "OB02")]


def _fit(**params):
    texts = HOUSING + VOLUNTEERS + OTHER
    Y = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]])
    return texts, EmbeddingModel.fit(texts, Y, ["OB09", "FP08", "OB02"], params,
                                     code_defs=_defs())


def test_a_code_nobody_coded_learns_from_the_codebook_alone():
    """OB02 (funding) has no positive segment: its codebook texts carry it."""
    _texts, model = _fit()
    assert model.trained.all()
    new = ["The grant expired after one year and the city could not pay the staff.",
           "Social housing waiting lists are years long for refugees."]
    p = model.probabilities(new)
    assert p[0, 2] > p[0, 0] and p[0, 2] > p[0, 1]  # funding for the funding text
    assert p[1, 0] > p[1, 2] and p[1, 0] > p[1, 1]  # housing for the housing text


def test_the_reason_names_the_nearest_evidence():
    _texts, model = _fit()
    suggester = Suggester(_defs(), model)
    [row] = suggester.suggest(["Volunteers of the local association help families settle."])
    reasons = {s.code: s.reason for s in row}
    assert "nearest: " in reasons["FP08"]
    assert '"' in reasons["FP08"].split("nearest: ")[1]  # a quote, codebook or excerpt


def test_a_model_round_trips_through_bytes_and_refuses_another_encoder():
    texts, model = _fit()
    back = EmbeddingModel.from_bytes(model.to_bytes())
    assert np.allclose(back.scores(texts), model.scores(texts))
    back.encoder_name = "some-other-encoder@0"
    with pytest.raises(encoder.EncoderError, match="trained on vectors of some-other-encoder"):
        back.scores(texts)


def test_every_code_text_of_the_codebook_is_a_training_row():
    defs = _defs()
    rows = codebook_rows(defs)
    for j, code in enumerate(defs):
        mine = [text for text, k, _what in rows if k == j]
        assert any(code.definition in text for text in mine)
        assert all(example in mine for example in code.examples)


def test_vectors_of_texts_already_seen_are_not_encoded_again(monkeypatch):
    texts = [f"A sentence about rents number {i}." for i in range(5)]
    first = encoder.vectors(texts)
    calls = []
    real = encoder.Encoder.encode
    monkeypatch.setattr(encoder.Encoder, "encode",
                        lambda self, t, **kw: calls.append(len(t)) or real(self, t, **kw))
    again = encoder.vectors([*texts, texts[0], "A new one."])
    assert calls == [1]  # only the new text, once
    assert np.array_equal(again[:5], first) and np.array_equal(again[5], first[0])
    assert np.allclose(again[6], encoder.encoder().encode(["A new one."])[0])


def test_empty_and_very_long_texts_get_a_defined_score():
    _texts, model = _fit()
    scores = model.scores(["", "housing " * 200_000])
    assert scores.shape == (2, 3) and np.isfinite(scores).all()
