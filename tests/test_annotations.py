from __future__ import annotations

import json

import pytest

from workbench import annotations
from workbench.codebook import load as load_codebook
from workbench.train import labelled_segments

from .conftest import CORPUS


def test_starter_annotations_cover_the_corpus(demo_store):
    rows = annotations.read(CORPUS / "annotations" / "starter.jsonl")
    assert len(rows) >= 400
    assert {r["document"][:3] for r in rows} == {"000", "001", "002", "004"}
    coded = [r for r in rows if r["codes"]]
    assert len(coded) >= 250 and len(rows) - len(coded) >= 100  # "none fits" is recorded too
    labelled = labelled_segments(demo_store)
    assert len(labelled) == len(rows)
    assert all(r["reviewed"] for r in labelled)
    # a reviewed segment is negative for every code it lacks
    some = next(r for r in labelled if sum(r["labels"].values()) == 1)
    assert len(some["labels"]) == 36 and sorted(some["labels"].values()).count(0) == 35


def test_offsets_that_moved_are_found_by_text(store, generated, tmp_path):
    from workbench.ingest import ingest_file

    store.load_codebook(load_codebook())
    ingest_file(store, generated["text"])
    seg = store.segments(1)[1]
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"document": "notes.txt", "char_start": seg.char_start + 5,
                                "char_end": seg.char_end + 5, "text": seg.text,
                                "codes": ["FP01", "FP08"], "coder": "ana"}) + "\n")
    report = annotations.load(store, path)
    assert report.matched == 1 and report.codings == 2
    assert {c.code_id for c in store.codings_for(seg.id)} == {"FP01", "FP08"}


def test_unknown_codes_write_nothing(store, generated, tmp_path):
    from workbench.ingest import ingest_file

    store.load_codebook(load_codebook())
    ingest_file(store, generated["text"])
    seg = store.segments(1)[0]
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"document": "notes.txt", "char_start": seg.char_start,
                                "char_end": seg.char_end, "codes": ["FP01", "ZZ99"]}) + "\n")
    with pytest.raises(annotations.AnnotationError, match="ZZ99"):
        annotations.load(store, path)
    assert store.counts()["codings"] == 0
