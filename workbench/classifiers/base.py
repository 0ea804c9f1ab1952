"""What every kind of suggestion model is: the interface the suggester and training use.

A model scores every code of the codebook it was trained with for each text. Training
(``workbench.train``) is the same for every kind: it fits one on known labels, asks for
its own probabilities on held-out documents, and chooses per code how much to trust it
against the codebook's indicators (``blend``) and where to cut (``thresholds``). So a
kind supplies only how it fits, how it turns texts into probabilities (and the features
behind them), and which words explain a score; the blending lives here.
"""

from __future__ import annotations

import io
import pickle
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from ..calibration import document_thresholds
from ..codebook import CodeDef
from ..indicators import Hits, Indicators
from ..tokens import Tokenised

if TYPE_CHECKING:
    from ..store import Store


FIT_WORKERS: int | None = None  # fits at once; None: one per core (bench/train.py sets 1)


def fit_each(fit_one: Callable[[int], Any], n: int, workers: int | None = None) -> list[Any]:
    """``fit_one(j)`` for every code j, several at once: one thread per core, each with
    BLAS held to one thread (the solvers release the GIL; threads share the feature
    matrix where processes would copy it, and two BLAS pools on two cores fight).
    Measured on 2 cores: 1.45x for dense lbfgs fits, 2.06x for sparse liblinear ones."""
    import os

    workers = min(workers or FIT_WORKERS or os.cpu_count() or 1, n)
    if workers <= 1:
        return [fit_one(j) for j in range(n)]
    from joblib import Parallel, delayed
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return list(Parallel(n_jobs=workers, prefer="threads")(
            delayed(fit_one)(j) for j in range(n)))


def fit_per_code(fit_one: Callable[[int], Any], n_codes: int, n_features: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coef, intercept, trained) of one linear classifier per code, fitted by
    ``fit_one(j)`` (a fitted scikit-learn model, or None where the code cannot be learnt:
    its intercept stays -10, so it never fires) several at once (``fit_each``)."""
    coef = np.zeros((n_features, n_codes))
    intercept = np.full(n_codes, -10.0)
    trained = np.zeros(n_codes, dtype=bool)
    for j, clf in enumerate(fit_each(fit_one, n_codes)):
        if clf is not None:
            coef[:, j] = clf.coef_[0]
            intercept[j] = clf.intercept_[0]
            trained[j] = True
    return coef, intercept, trained


class ScoringModel(ABC):
    """A fitted model. ``trained`` is False for a code the model could not learn (one
    class only): the indicators decide for it."""

    kind: ClassVar[str]  # what the model registry stores and looks up
    # (module, name) a pickled class had in earlier versions -> the class today
    moved_from: ClassVar[dict[tuple[str, str], str]] = {}
    # how training cuts its scores into suggestions (``calibration.WAYS``)
    calibration: ClassVar[str] = "per-code-f1"
    # what ``explain``'s strings are, as a suggestion's reason names them
    reason_label: ClassVar[str] = "words"

    codes: list[str]
    params: dict[str, Any]
    trained: np.ndarray  # bool per code
    thresholds: np.ndarray  # per code, chosen by training
    blend: np.ndarray  # per code: weight of the model against the indicators (1 = model)
    # per code, its share of the training segments (``calibration.code_rates``): set by
    # training; models stored before it was kept have none and keep their fixed cut
    rates: np.ndarray | None = None
    indicator_terms: dict[str, list[str]]  # the codebook's terms it was trained with

    @classmethod
    @abstractmethod
    def default_params(cls) -> dict[str, Any]:
        """The parameters a new model of this kind is fitted with."""

    @classmethod
    @abstractmethod
    def fit(cls, texts: Sequence[str], Y: np.ndarray, codes: list[str],
            params: dict[str, Any] | None = None, code_defs: Sequence[CodeDef] = (),
            hits: Hits | None = None) -> Self:
        """Fit on known labels: ``Y`` is 1, 0, or -1 for unknown, texts x codes. A code
        is trained only on the texts where a coder decided on it."""

    @abstractmethod
    def classify(self, texts: Sequence[str], hits: Hits, tok: Tokenised | None = None
                 ) -> tuple[np.ndarray, Any]:
        """The model's own probabilities (texts x codes, before blending) and the
        features behind them, which ``explain`` reads."""

    @abstractmethod
    def explain(self, features: Any, rows: list[int], cols: list[int]
                ) -> dict[tuple[int, int], list[str]]:
        """For each (text, code) pair asked, up to four words that pushed the score up
        the most, strongest first."""

    @classmethod  # noqa: B027 (a hook: most kinds have nothing to prepare)
    def prepare(cls, store: Store, segment_ids: list[int],
                progress: Callable[[int, int], None] | None = None) -> None:
        """Read what the store keeps for these segments' features before they are scored
        or trained on (a kind whose features cost time computes them once and stores
        them). By default there is nothing to read."""

    def warm(self, texts: Sequence[str]) -> None:  # noqa: B027 (a hook, as prepare)
        """Compute what scoring these texts needs that is worth computing once in this
        process (before a batch is split over forked workers). By default nothing."""

    # ------------------------------------------------------------- shared part
    def indicators(self) -> Indicators:
        """The indicators of the codebook the model was trained with."""
        if getattr(self, "_indicators", None) is None:
            self._indicators = Indicators([CodeDef(c, c, "", "", indicators=tuple(t))
                                           for c, t in self.indicator_terms.items()])
        return self._indicators

    def hits(self, texts: Sequence[str], tok: Tokenised | None = None) -> Hits:
        if not self.indicator_terms:
            return [{} for _ in texts]
        return (self.indicators().match_tokens(tok) if tok is not None
                else self.indicators().match(texts))

    def probabilities(self, texts: Sequence[str], hits: Hits | None = None) -> np.ndarray:
        """The model's own probabilities, before blending with the indicators."""
        return self.classify(texts, self.hits(texts) if hits is None else hits)[0]

    def scores(self, texts: Sequence[str], hits: Hits | None = None) -> np.ndarray:
        return self.scores_and_features(texts, hits)[0]

    def scores_and_features(self, texts: Sequence[str], hits: Hits | None = None,
                            tok: Tokenised | None = None) -> tuple[np.ndarray, Any]:
        """Scores blended with the indicators per code, and the features behind them."""
        if hits is None:
            hits = self.hits(texts, tok)
        keyword = self.indicators().scores(hits) if self.indicator_terms else np.zeros(
            (len(texts), len(self.codes)))
        blend = self.blend if self.blend.size else np.ones(len(self.codes))
        probability, features = self.classify(texts, hits, tok)
        mixed = blend * probability + (1 - blend) * keyword
        mixed[:, ~self.trained] = keyword[:, ~self.trained]
        return mixed, features

    def cut_for_document(self, scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        """Per code, where to cut these scores of one document's segments
        (``calibration.document_thresholds``)."""
        return document_thresholds(scores, thresholds, self.rates)

    def cut_for_documents(self, scores: np.ndarray, thresholds: np.ndarray,
                          documents: np.ndarray) -> np.ndarray:
        """Per row, the cut of its document (``documents``: one id per row), each document
        cut on its own rows' scores (``cut_for_document``)."""
        cuts = np.tile(thresholds, (len(scores), 1))
        for document in np.unique(documents):
            rows = documents == document
            cuts[rows] = self.cut_for_document(scores[rows], thresholds)
        return cuts

    def __getstate__(self) -> dict[str, Any]:
        """Caches (names starting with an underscore) are rebuilt on first use."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Self:
        """Artifacts come from this project's own store, written by ``to_bytes``;
        classes that moved since the artifact was written are found where they are now."""
        model = _Unpickler(io.BytesIO(blob), cls.moved_from).load()
        if not isinstance(model, cls):
            raise TypeError(f"the artifact holds a {type(model).__name__}, not a {cls.kind}")
        return model


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, moved: dict[tuple[str, str], str]) -> None:
        super().__init__(file)
        self.moved = moved

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.moved:
            module, name = self.moved[(module, name)].rsplit(".", 1)
        return super().find_class(module, name)
