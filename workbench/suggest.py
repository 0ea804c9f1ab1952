"""Code suggestions: the codebook's indicators and the active model, with reasons.

Every suggestion has a score in [0, 1], whether it passes that code's threshold
(tuned per code by cross-validation in ``train``, not a fixed 0.5), and a reason a
researcher can read: the indicator terms found, and the words that pushed the
model's score up. With no trained model, or for a code the model has no data
for, the indicators alone decide. Any kind of model (``classifiers``) serves.
"""

from __future__ import annotations

import copy
import functools
import gc
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np

from . import jsonl, tokens
from .classifiers.base import ScoringModel
from .codebook import CodeDef
from .errors import WorkbenchError
from .indicators import KEYWORD_THRESHOLD, Hits, Indicators

if TYPE_CHECKING:
    from .store import CodingRow, Store


class Suggestion(NamedTuple):
    """One code for one text. A named tuple: a batch makes one per code per text, and
    a frozen dataclass costs several times as much to build."""

    code: str
    score: float
    suggested: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "score": int(_score_units(np.array(self.score))) / 10_000,
                "suggested": self.suggested, "reason": self.reason}


# ----------------------------------------------------------------- suggester
Method = TypeVar("Method", bound=Callable[..., Any])


def _without_gc(method: Method) -> Method:
    """Pause the garbage collector for a batch: it makes hundreds of thousands of
    short-lived strings, lists and tuples and no reference cycles, and the collections
    they trigger walk every object the process holds (a fifth of the time or more)."""

    @functools.wraps(method)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return method(*args, **kwargs)
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            gc.enable()

    return paused  # type: ignore[return-value]


class Suggester:
    """Scores every code of the active codebook for each text, with reasons."""

    def __init__(self, codes: Sequence[CodeDef], model: ScoringModel | None = None) -> None:
        self.codes = [c.id for c in codes]
        self.indicators = Indicators(codes)
        self.model = model if model is not None and model.codes == self.codes else None
        self.version: int | None = None
        self.cut: np.ndarray | None = None  # per code, set for one document (for_document)

    def prepare(self, store: Store, segment_ids: list[int],
                progress: Callable[[int, int], None] | None = None) -> None:
        """Read the stored features of segments about to be scored (``ScoringModel.prepare``);
        ``progress`` hears of the features computed now (segments never encoded)."""
        if self.model is not None:
            self.model.prepare(store, segment_ids, progress)

    def for_document(self, texts: Sequence[str]) -> Suggester:
        """This suggester with every code's cut set for one document, whose segments are
        ``texts`` (all of them, stored features prepared): where its scores sit as a whole
        moves the cut (``calibration.document_thresholds``). The app, stored suggestions
        and evaluation all cut a document so; a text on its own (the batch contract, one
        new segment) keeps the trained cut."""
        other = copy.copy(self)
        other.cut = None
        if self.model is not None and texts:
            _scores, other.cut, _hits, _X = other._score(texts, whole_document=True)
        return other

    def uncut(self) -> Suggester:
        """This suggester without a document's cut: what cuts many documents, each on its
        own scores, must start from (a cut set for one would be applied to all)."""
        if self.cut is None:
            return self
        other = copy.copy(self)
        other.cut = None
        return other

    @_without_gc
    def score_matrix(self, texts: Sequence[str], whole_document: bool = False
                     ) -> tuple[np.ndarray, np.ndarray, Hits]:
        """Scores and thresholds (texts x codes) and the indicator hits behind them;
        ``whole_document`` as in ``suggest``."""
        scores, thresholds, hits, _X = self._score(texts, whole_document)
        return scores, thresholds, hits

    def _score(self, texts: Sequence[str], whole_document: bool = False
               ) -> tuple[np.ndarray, np.ndarray, Hits, Any]:
        """Scores, cuts, hits and features; with ``whole_document`` the texts are all the
        segments of one document and are cut on their own scores, as ``for_document``
        would, without scoring them a second time."""
        tok = tokens.cache().tokenise(texts)
        hits = self.indicators.match_tokens(tok)
        keyword = self.indicators.scores(hits)
        thresholds = np.full(len(self.codes), KEYWORD_THRESHOLD)
        if self.model is None:
            return keyword, thresholds, hits, None
        same_terms = list(self.model.indicator_terms) == self.codes
        scores, X = self.model.scores_and_features(texts, hits if same_terms else None, tok)
        trained = self.model.trained
        scores[:, ~trained] = keyword[:, ~trained]
        thresholds = np.where(trained, self.model.thresholds, KEYWORD_THRESHOLD)
        if self.cut is not None:
            thresholds = self.cut
        elif whole_document:
            thresholds = self.cut_of(scores, thresholds)
        return scores, thresholds, hits, X

    def cut_of(self, scores: np.ndarray, thresholds: np.ndarray,
               documents: np.ndarray | None = None) -> np.ndarray:
        """The cut for segments of one document given their scores (``score_matrix``):
        where the document's scores sit as a whole, as ``for_document`` would set it;
        with ``documents`` (one id per row), per row the cut of its own document. A random
        share of a document's segments gives an estimate of it."""
        if self.model is None or self.cut is not None or not len(scores):
            return thresholds
        if documents is not None:
            return self.model.cut_for_documents(scores, thresholds, documents)
        return self.model.cut_for_document(scores, thresholds)

    def _ranked(self, texts: Sequence[str], reasons_for_top: int, whole_document: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[tuple[int, int], str]]:
        """Scores, passes and the codes in rank order for each text, and a reason for
        every code shown with one: those over their threshold and the top few."""
        scores, thresholds, hits, X = self._score(texts, whole_document)
        order = np.argsort(-scores, axis=1, kind="stable")
        passed = scores >= thresholds
        shown = passed.copy()
        shown[np.arange(len(texts))[:, None], order[:, :reasons_for_top]] = True
        rows, cols = (a.tolist() for a in np.nonzero(shown))
        words = self._model_terms(X, rows, cols)
        codes = self.codes
        reasons = {(i, j): self._reason(codes[j], hits[i].get(codes[j], []),
                                        words.get((i, j), []), j)
                   for i, j in zip(rows, cols, strict=True)}
        return scores, passed, order, reasons

    @_without_gc
    def suggest(self, texts: Sequence[str], reasons_for_top: int = 3,
                whole_document: bool = False) -> list[list[Suggestion]]:
        """Every code for each text in rank order; ``whole_document``: the texts are one
        document's segments, all of them, and are cut as that document (``for_document``)."""
        scores, passed, order, reasons = self._ranked(texts, reasons_for_top, whole_document)
        scores, passed, codes = scores.tolist(), passed.tolist(), self.codes
        return [[Suggestion(codes[j], scores[i][j], passed[i][j], reasons.get((i, j), ""))
                 for j in row_order] for i, row_order in enumerate(order.tolist())]

    @_without_gc
    def json_lines(self, rows: Sequence[tuple[Any, str]], reasons_for_top: int = 3
                   ) -> list[str]:
        """The batch contract's output lines, the same content as ``suggest`` gives, written
        straight to JSON text. Every code of every line is one cell of a numpy array of
        strings, put in rank order at once: building a Suggestion and a dict per code
        cost more than the scoring itself."""
        scores, passed, order, reasons = self._ranked([text for _id, text in rows],
                                                      reasons_for_top)
        ids = [_json_value(rid) for rid, _text in rows]
        if not self.codes:
            return [f'{{"id": {rid}, "codes": []}}' for rid in ids]
        units = _score_units(scores)
        head = self._json_heads()
        # every cell in rank order at once, as if no code had a reason ...
        ranked_units = np.take_along_axis(units, order, axis=1)
        cells = head[order] + _score_texts(', "suggested": false, "reason": ""}')[ranked_units]
        # ... then the cells that have one
        if reasons:
            pi, pj = (np.array(a) for a in zip(*reasons, strict=True))
            position = np.empty_like(order)
            np.put_along_axis(position, order, np.arange(order.shape[1])[None, :], axis=1)
            texts = _score_texts("")[units[pi, pj]].tolist()
            flags = passed[pi, pj].tolist()
            for (i, j), at, score, flag, reason in zip(
                    reasons, position[pi, pj].tolist(), texts, flags, reasons.values(),
                    strict=True):
                cells[i, at] = (f'{head[j]}{score}, "suggested": {"true" if flag else "false"}, '
                                f'"reason": {_json_string(reason)}}}')
        return [f'{{"id": {rid}, "codes": [{", ".join(row)}]}}'
                for rid, row in zip(ids, cells.tolist(), strict=True)]

    def _json_heads(self) -> np.ndarray:
        if getattr(self, "_heads", None) is None:
            self._heads = np.array([f'{{"code": {_json_string(c)}, "score": '
                                    for c in self.codes], dtype=object)
        return self._heads

    def _reason(self, code: str, indicators: list[str], words: list[str], j: int) -> str:
        parts = []
        if indicators:
            parts.append("indicators: " + ", ".join(indicators[:4]))
        if words:
            label = self.model.reason_label if self.model is not None else "words"
            parts.append(f"{label}: " + ", ".join(words[:4]))
        if not parts:
            trained = self.model is not None and bool(self.model.trained[j])
            return "model score, no single word stands out" if trained else \
                "no indicator term found"
        return "; ".join(parts)

    def _model_terms(self, X: Any, rows: list[int], cols: list[int]
                     ) -> dict[tuple[int, int], list[str]]:
        """The words behind each shown (text, code) pair, as the model explains them."""
        if self.model is None or X is None or not rows:
            return {}
        return self.model.explain(X, rows, cols)


SUGGESTION_LANGUAGE = "en"  # the codebook's indicator terms and the sentence encoder


def language_note(language: str) -> str | None:
    """Why a document's suggestions will be few and weak, when it is in another language
    than the one they read (None otherwise, or when its language is unknown): the app and
    the CLI say so rather than leave a researcher wondering why nothing is suggested."""
    code = language.lower().replace("_", "-").split("-")[0]
    if code in (SUGGESTION_LANGUAGE, "und", ""):
        return None
    try:
        from spacy.util import get_lang_class

        name = get_lang_class(code).__name__
    except (ImportError, KeyError, AttributeError):
        name = code
    return (f"this document reads as {name} ({code}), but suggestions read English (the "
            "codebook's indicator terms and the sentence encoder): expect few and weak "
            "suggestions, and code it by hand")


def load_active(store: Store) -> tuple[ScoringModel | None, int | None]:
    """The active model version as a model, and its version id (None, None: no model)."""
    from . import classifiers

    active = store.active_model()
    if active is None or active.artifact is None:
        return None, None
    try:
        return classifiers.load(active.kind, active.artifact), active.id
    except WorkbenchError:
        raise
    except Exception as exc:  # a damaged artifact: pickle can fail in many ways
        raise WorkbenchError(f"model version {active.id} cannot be loaded ({type(exc).__name__}:"
                             f" {exc}); activate another with `workbench models activate N` "
                             "or train a new one") from exc


def active_suggester(store: Store, code_defs: Sequence[CodeDef] | None = None) -> Suggester:
    """A suggester with the active model, or the indicators alone if there is none."""
    from .codebook import codebook_of

    model, version = load_active(store)
    suggester = Suggester(codebook_of(store) if code_defs is None else code_defs, model)
    suggester.version = version if suggester.model is not None else None
    return suggester


def document_suggester(store: Store, suggester: Suggester, document_id: int) -> Suggester:
    """The suggester cut for one stored document (``Suggester.for_document``), the stored
    features of its segments read first."""
    segments = store.segments_for_suggestion(document_id)
    suggester.prepare(store, [i for i, _t, _d in segments])
    return suggester.for_document([t for _i, t, _d in segments])


def scored_documents(store: Store, suggester: Suggester, segments: list[tuple[int, str, int]],
                     preparing: Callable[[int, int], None] | None = None
                     ) -> Iterator[tuple[list[tuple[int, str]], np.ndarray, np.ndarray]]:
    """Each document's (segment id, text) rows among ``segments`` (all of its segments:
    ``store.segments_for_suggestion``), with their scores and cuts: every document scored
    once, whole, and cut on its own scores, as its reader shows it. ``preparing`` hears
    of the segments whose features are computed first."""
    suggester = suggester.uncut()  # a cut set for one document is not every document's
    suggester.prepare(store, [i for i, _t, _d in segments], preparing)
    by_document: dict[int, list[tuple[int, str]]] = {}
    for seg_id, text, doc_id in segments:
        by_document.setdefault(doc_id, []).append((seg_id, text))
    for part in by_document.values():
        scores, thresholds, _hits = suggester.score_matrix([t for _i, t in part],
                                                           whole_document=True)
        yield part, scores, thresholds


def store_suggestions(store: Store, suggester: Suggester, document_id: int | None = None,
                      progress: Callable[[int, int], None] | None = None,
                      actor: str | None = None,
                      preparing: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """The suggester's suggestions (codes over their threshold) for a document's segments,
    or every segment, stored with their score and model version in place of the pending
    ones; decisions already made stay. Returns (suggestions stored, segments scored).
    ``preparing`` hears of segments whose features are computed first (never encoded:
    minutes on a large new corpus), ``progress`` of the scoring."""
    from .errors import NotFound

    if document_id is not None and store.document(document_id) is None:
        raise NotFound(f"no document {document_id}")
    segments = store.segments_for_suggestion(document_id)
    rows: list[CodingRow] = []
    done = 0
    codes = suggester.codes
    for part, scores, thresholds in scored_documents(store, suggester, segments, preparing):
        rows_, cols = np.nonzero(scores >= thresholds)
        ranked = np.lexsort((-scores[rows_, cols], rows_))  # a segment's codes, best first
        for i, j in zip(rows_[ranked].tolist(), cols[ranked].tolist(), strict=True):
            rows.append({"segment_id": part[i][0], "code_id": codes[j], "coder": "model",
                         "score": round(float(scores[i, j]), 4),
                         "model_version_id": suggester.version})
        done += len(part)
        if progress:
            progress(done, len(segments))
    return (store.replace_suggestions(rows, [i for i, _t, _d in segments], actor=actor),
            len(segments))


_json_string = json.encoder.encode_basestring  # json.dumps(s, ensure_ascii=False), less overhead


def _json_value(value: Any) -> str:
    if type(value) is str:
        return _json_string(value)
    if type(value) is int:
        return str(value)
    return json.dumps(value, ensure_ascii=False)


@functools.cache
def _score_texts(suffix: str) -> np.ndarray:
    """JSON text of every score a line can show (scores have four decimals), each with
    what follows it in the cell."""
    return np.array([repr(k / 10_000) + suffix for k in range(10_001)], dtype=object)


def _score_units(scores: np.ndarray) -> np.ndarray:
    """Scores in ten-thousandths, rounded half to even like ``round``."""
    units: np.ndarray = np.rint(np.clip(scores, 0.0, 1.0) * 10_000).astype(np.int64)
    return units


_WORKER: Suggester | None = None


def _json_block(rows: list[tuple[Any, str]]) -> bytes:
    assert _WORKER is not None
    return "".join(line + "\n" for line in _WORKER.json_lines(rows)).encode("utf-8")


def batch_json_blocks(suggester: Suggester, rows: list[tuple[Any, str]],
                      processes: int | None = None, chunk: int = 2000
                      ) -> Iterable[tuple[int, bytes]]:
    """The batch contract's output, in input order, computed on every core: for each
    chunk of rows, how many and their lines as UTF-8 (newline after each).

    Workers are forked with the suggester already in memory, and send back finished
    bytes, one block a chunk: a line-by-line hand-over would keep the parent process,
    which shares the cores, busier than the writing needs.
    """
    global _WORKER
    _WORKER = suggester
    if suggester.model is not None:  # vectors on every core here, not once per worker
        suggester.model.warm([text for _id, text in rows])
    chunks = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    processes = processes or os.cpu_count() or 1
    if processes < 2 or len(chunks) < 2:
        for part in chunks:
            yield len(part), _json_block(part)
        return
    import multiprocessing

    _json_block(rows[:1])  # build the lazy tables (vocabulary, JSON pieces) once, before forking
    # keep the collector off the parent's objects in the workers: touching them would
    # copy every page of the parent's heap into each worker (the use gc.freeze is for)
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for part, block in zip(chunks, pool.imap(_json_block, chunks), strict=True):
                yield len(part), block
    finally:
        gc.unfreeze()


class BatchError(WorkbenchError):
    """A batch file cannot be read or written; the message names the file (and line)."""


def read_batch(source: Path) -> list[tuple[Any, str]]:
    """The (id, text) rows of a batch input, every line checked before any work."""
    rows = []
    for n, row in jsonl.read_lines(source, BatchError):
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("text"), str):
            raise BatchError(f'{source}:{n}: each line needs "id" and a "text" string')
        rows.append((row["id"], row["text"]))
    return rows


def write_batch(suggester: Suggester, rows: list[tuple[Any, str]], target: Path,
                progress: Callable[[int], None] | None = None) -> None:
    """The output lines, in input order. The file appears under its name only when
    complete: a failed or stopped run leaves no half-written output behind."""
    partial = target.with_name(f".{target.name}.partial")
    done = 0
    try:
        with partial.open("wb") as fh:
            for n, block in batch_json_blocks(suggester, rows):
                fh.write(block)
                done += n
                if progress:
                    progress(done)
        partial.replace(target)
    except OSError as exc:
        raise BatchError(f"{target}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


def uncertainty(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How close a segment's scores sit to their thresholds (1 = on a threshold).

    The segments whose answer teaches the model most are those it cannot place.
    """
    if scores.size == 0:
        return np.zeros(scores.shape[0])
    logit = np.log(np.clip(scores, 1e-6, 1 - 1e-6) / np.clip(1 - scores, 1e-6, 1))
    at = np.log(np.clip(thresholds, 1e-6, 1 - 1e-6) / np.clip(1 - thresholds, 1e-6, 1))
    distance = np.min(np.abs(logit - at), axis=1)
    closeness: np.ndarray = np.exp(-distance)
    return closeness


