"""The model registry: kinds found by name, stored models of earlier versions still load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench import classifiers, codebook
from workbench.classifiers.base import ScoringModel
from workbench.classifiers.minilm import EmbeddingModel
from workbench.classifiers.tfidf import TfidfModel
from workbench.errors import InvalidInput
from workbench.suggest import Suggester

from .conftest import ROOT
from .suggest_data import CODES, corpus_texts

DATA = ROOT / "tests" / "data"


def test_every_kind_is_registered_by_its_stored_name():
    kinds = classifiers.kinds()
    assert kinds[classifiers.DEFAULT_KIND] is EmbeddingModel
    assert kinds["tfidf-logreg-ovr"] is TfidfModel
    assert all(issubclass(k, ScoringModel) and k.kind == name for name, k in kinds.items())
    assert classifiers.get("tfidf-ovr") is TfidfModel  # the name older rows carry
    with pytest.raises(InvalidInput, match="unknown model kind 'nope'"):
        classifiers.get("nope")


def test_a_model_pickled_before_the_classifiers_package_loads_and_scores_the_same():
    """Artifacts written when the class was ``workbench.suggest.Model`` (tests/data/README.md)
    come back as TfidfModel and suggest exactly what they suggested then."""
    blob = (DATA / "legacy-tfidf-model.pickle").read_bytes()
    assert b"workbench.suggest" in blob
    model = classifiers.load("tfidf-logreg-ovr", blob)
    assert isinstance(model, TfidfModel)
    expected = json.loads((DATA / "legacy-tfidf-model.json").read_text(encoding="utf-8"))
    book = codebook.load()
    suggester = Suggester([book.get(c) for c in model.codes], model)
    assert suggester.model is model
    got = suggester.suggest(expected["texts"])
    for row, want in zip(got, expected["suggestions"], strict=True):
        assert [(s.code, s.suggested, s.reason) for s in row] == \
            [(c, flag, reason) for c, _score, flag, reason in want]
        assert np.allclose([s.score for s in row], [score for _c, score, _f, _r in want],
                           atol=1e-6)


def test_a_model_round_trips_through_bytes():
    book = codebook.load()
    defs = [book.get(c) for c in ("FP08", "OB09")]
    texts = ["Volunteers run the desk.", "Rents are high.", "Volunteers and NGOs help.",
             "Housing is scarce and rents rise."] * 3
    Y = np.array([[1, 0], [0, 1], [1, 0], [0, 1]] * 3)
    model = TfidfModel.fit(texts, Y, ["FP08", "OB09"], {"min_df": 1}, code_defs=defs)
    scores = model.scores(texts)  # builds the model's caches
    back = TfidfModel.from_bytes(model.to_bytes())
    assert not any(k.startswith("_") for k in back.__dict__)  # caches are not stored
    assert np.allclose(back.scores(texts), scores)


def test_word_features_from_token_arrays_equal_the_vectorizer():
    from workbench import tokens

    texts = corpus_texts()
    Y = np.zeros((len(texts), 3), dtype=int)
    Y[::3, 0] = 1
    Y[1::3, 1] = 1
    Y[2::3, 2] = 1
    model = TfidfModel.fit(texts[:400], Y[:400], [c.id for c in CODES], code_defs=CODES)
    assert model.reads_tokens()
    probe = [*texts[400:], "", "Unseen zyzzyva words only", "two  spaces\nand a line"]
    fast = model.word_tfidf(tokens.TokenCache().tokenise(probe))
    slow = model.vectorizer.transformer_list[0][1].transform(probe)
    assert fast.shape == slow.shape and fast.nnz == slow.nnz > 0
    assert np.allclose(fast.toarray(), slow.toarray())


def test_fits_at_once_are_the_fits_one_after_another():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from workbench.classifiers.base import fit_each

    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(300, 20)), (rng.random((300, 7)) < 0.2).astype(int)
    Y[:, 6] = 0  # one class only: no fit

    def fit_one(j):
        if len(set(Y[:, j].tolist())) < 2:
            return None
        return LogisticRegression(max_iter=500).fit(X, Y[:, j])

    one, two = fit_each(fit_one, 7, workers=1), fit_each(fit_one, 7, workers=2)
    assert [m is None for m in two] == [False] * 6 + [True]
    for a, b in zip(one[:6], two[:6], strict=True):
        assert np.allclose(a.coef_, b.coef_) and np.allclose(a.intercept_, b.intercept_)
