"""Judging suggestions on documents the model did not see."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench import codebook
from workbench.evaluate import top_recall

from .cli import run


def test_top_recall_counts_the_coders_codes_among_the_best_scored():
    Y = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0]])
    scores = np.array([[0.9, 0.0, 0.8, 0.7, 0.6, 0.5], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                       [0.5] * 6])
    # first segment: one of its two codes in the top 5; second: its one; third: no code
    assert top_recall(scores, Y) == pytest.approx((0.5 + 1.0) / 2)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_evaluate_reports_every_held_out_document_beside_keywords(tmp_path, demo_url):
    out = tmp_path / "figures.json"
    res = run("evaluate", "--step", "60", "--json", str(out), cwd=tmp_path,
              env={"WORKBENCH_DB": demo_url})
    assert res.returncode == 0, res.stderr
    figures = json.loads(out.read_text())
    assert figures["kind"] == "minilm-logreg-ovr"
    docs = figures["documents"]
    assert len(docs) == 4 and sum(d["segments"] for d in docs) == figures["segments"]
    for row in [*docs, figures["overall"]]:
        for who in ("model", "keyword_baseline"):
            assert set(row[who]) == {"macro_f1", "micro_f1", "lrap", "top5_recall",
                                     "per_segment"}
            assert all(0 <= v <= 1 for k, v in row[who].items() if k != "per_segment")
        assert row["title"][:20] in res.stdout
    # the sentence model ranks the coders' codes above keywords on the held-out documents
    overall = figures["overall"]
    assert overall["model"]["lrap"] > overall["keyword_baseline"]["lrap"] + 0.1
    assert overall["model"]["top5_recall"] > overall["keyword_baseline"]["top5_recall"]
    # the simulation: one curve per document, from 0 coded, every 60 segments
    curves = figures["simulation"]
    assert len(curves) == 4
    for curve, doc in zip(curves, docs, strict=True):
        coded = [p["coded"] for p in curve["points"]]
        assert coded == list(range(0, doc["segments"], 60))
        assert all(p["rest"] == doc["segments"] - p["coded"] for p in curve["points"])
    assert "simulation" in res.stdout and "segments coded -> macro-F1" in res.stdout


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_evaluate_refuses_what_it_cannot_judge(tmp_path, demo_url, store):
    bad = run("evaluate", "--step", "0", cwd=tmp_path, env={"WORKBENCH_DB": demo_url})
    assert bad.returncode == 1 and "step must be 1 segment or more" in bad.stderr
    empty = run("evaluate", "--db", store.url, cwd=tmp_path)
    assert empty.returncode == 1 and "no codebook" in empty.stderr
    store.load_codebook(codebook.load())
    empty = run("evaluate", "--db", store.url, cwd=tmp_path)
    assert empty.returncode == 1 and "at least two documents" in empty.stderr
    assert empty.stderr.count("\n") == 1
