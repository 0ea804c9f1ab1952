"""A document's page rendered from the PDF the store keeps, the passage outlined."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from workbench.ingest import ingest_file
from workbench.page_image import PageImageError, render

from .conftest import CORPUS


def test_a_passage_is_outlined_on_its_page(store, tmp_path):
    source = next(CORPUS.rglob("*.pdf"))
    doc = ingest_file(store, source).document_id
    pdf = store.document_file(doc)
    assert pdf == source.read_bytes()  # kept as it was
    seg = next(s for s in store.segments(doc) if s.kind == "paragraph" and len(s.text) > 200)
    shown = render(pdf, seg.page_start, seg.text)
    assert shown.outlined
    image = Image.open(io.BytesIO(shown.png)).convert("RGB")
    assert image.size[0] > 500
    pixels = np.asarray(image)
    assert int((pixels == (220, 40, 40)).all(axis=2).sum()) > 200  # the outline
    assert not render(pdf, seg.page_start, "words that are on no page at all").outlined
    with pytest.raises(PageImageError, match="has no page 999"):
        render(pdf, 999, name=source.name)
    with pytest.raises(PageImageError, match="cannot be rendered"):
        render(b"%PDF-1.4 not really", 1)
    store.delete_document(doc)
    assert store.document_file(doc) is None


def test_a_text_file_keeps_no_file(store, generated):
    doc = ingest_file(store, generated["text"]).document_id
    assert store.document_file(doc) is None
