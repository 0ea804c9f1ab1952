"""An experiment, not a product path: does tuning the sentence encoder on coded segments
lift suggestions on a document it never saw? (docs/benchmarks.md, "Suggestions on unseen
documents": thresholds chosen on the held-out document itself stay under 0.60, so the
ranking, that is the vectors, is what falls short.)

Three steps, in two environments: the product's venv has no torch (the encoder runs on
ONNX Runtime), and tuning needs it.

    python bench/tune_encoder.py dump DIR            # the project's venv
    python -m venv /tmp/tune && /tmp/tune/bin/pip install torch sentence-transformers
    /tmp/tune/bin/python bench/tune_encoder.py tune DIR [--folds 1,3] [--epochs 1]
    python bench/tune_encoder.py score DIR [--folds 1,3]   # the project's venv again

``dump`` builds the demo store (corpus, codebook, starter annotations, as
bench/suggest.py), checks and unpacks the weights the encoder uses, and writes the
labelled segments and, per held-out document, the codebook texts without the examples
quoted from it. ``tune`` fine-tunes all-MiniLM-L6-v2 once per held-out document on the
other documents (pairs of texts sharing a code, or sharing none; cosine loss, as SetFit
does) and writes the tuned vectors. ``score`` runs the default model kind over those
vectors, one document left out at a time, beside the same over the stock vectors.
Measured 2026-12-03 on 2 cores: 11-24 minutes a fold.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def dump(out: Path) -> None:
    from suggest import build_store

    from workbench import encoder
    from workbench.classifiers.minilm import codebook_rows
    from workbench.codebook import codebook_of
    from workbench.train import dataset_from_store, without_examples_in

    out.mkdir(parents=True, exist_ok=True)
    store = build_store(Path(tempfile.mkdtemp(prefix="tune-encoder-")))
    data = dataset_from_store(store, codebook_of(store))
    files = encoder.verified_files()  # refused unless they are the official revision's
    with zipfile.ZipFile(encoder.weights_zip()) as z:
        z.extractall(out / "minilm")
    books: dict[str, list[tuple[str, str]]] = {}
    for d in sorted(set(data.groups.tolist())):
        held = [t for t, g in zip(data.texts, data.groups, strict=True) if g == d]
        defs = without_examples_in(data.code_defs, held)
        books[str(d)] = [(t, defs[j].id) for t, j, _w in codebook_rows(defs)]
    books["all"] = [(t, data.code_defs[j].id) for t, j, _w in codebook_rows(data.code_defs)]
    (out / "data.json").write_text(json.dumps({
        "texts": list(data.texts), "groups": data.groups.tolist(), "Y": data.Y.tolist(),
        "codes": data.codes, "book": books}), encoding="utf-8")
    print(f"{len(data)} labelled segments, {len(files)} checked weight files -> {out}")


def tune(out: Path, folds: list[str] | None, epochs: float, per: int, lr: float,
         loss_kind: str = "cosine", tag: str = "") -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    data = json.loads((out / "data.json").read_text(encoding="utf-8"))
    texts, codes = data["texts"], data["codes"]
    groups, Y = np.array(data["groups"]), np.array(data["Y"])
    all_book = [t for t, _c in data["book"]["all"]]
    for d in folds or [str(g) for g in sorted(set(groups.tolist()))]:
        # "1" leaves document 1 out; "1+2" leaves out both (for the inner folds that set
        # the thresholds of held-out 1 without tuning on the document they are set on)
        without = [int(g) for g in d.split("+")]
        started = time.perf_counter()
        rnd = random.Random(0)
        torch.manual_seed(0)
        model = SentenceTransformer(str(out / "minilm"), device="cpu")
        model.max_seq_length = 256
        items = [(texts[i], set(np.flatnonzero(Y[i] == 1).tolist()))
                 for i in np.flatnonzero(~np.isin(groups, without))]
        kept = set.intersection(*({t for t, _c in data["book"][str(g)]} for g in without))
        items += [(t, {codes.index(c)}) for t, c in data["book"]["all"] if t in kept]
        by_code: dict[int, list[int]] = {}
        for n, (_t, cs) in enumerate(items):
            for c in cs:
                by_code.setdefault(c, []).append(n)
        pairs = []
        for n, (t, cs) in enumerate(items):
            if not cs:
                continue
            for _ in range(per):
                m = rnd.choice(by_code[rnd.choice(sorted(cs))])
                if m != n:
                    pairs.append((t, items[m][0], 1.0))
                while items[m := rnd.randrange(len(items))][1] & cs:
                    pass
                pairs.append((t, items[m][0], 0.0))
        rnd.shuffle(pairs)
        if loss_kind == "mnrl":
            _contrastive(model, items, by_code, rnd, epochs, per, lr)
            _save(out, model, texts, all_book, f"{tag}fold-{d}")
            print(f"held-out {d}: mnrl, {time.perf_counter() - started:.0f} s", flush=True)
            continue
        steps, batch = int(len(pairs) * epochs), 16
        optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
        model.train()
        for s in range(0, steps, batch):
            chunk = [pairs[k % len(pairs)] for k in range(s, min(s + batch, steps))]
            a = model(model.tokenize([p[0] for p in chunk]))["sentence_embedding"]
            b = model(model.tokenize([p[1] for p in chunk]))["sentence_embedding"]
            loss = torch.nn.functional.mse_loss(torch.nn.functional.cosine_similarity(a, b),
                                                torch.tensor([p[2] for p in chunk]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval()
        _save(out, model, texts, all_book, f"{tag}fold-{d}")
        print(f"held-out {d}: {len(pairs)} pairs, {time.perf_counter() - started:.0f} s",
              flush=True)


def _contrastive(model: Any, items: list[tuple[str, set[int]]], by_code: dict[int, list[int]],
                 rnd: random.Random, epochs: float, per: int, lr: float) -> None:
    """In-batch contrastive loss (MultipleNegativesRankingLoss with the batch's texts that
    share a code masked out, plus one unlike text per anchor): each coded text is pulled
    to a text of one of its codes and pushed from everything that shares none."""
    import torch

    model.max_seq_length = 128  # training at the length the model was trained at: faster
    anchors = [n for n, (_t, cs) in enumerate(items) if cs] * per
    rnd.shuffle(anchors)
    steps, batch = int(len(anchors) * epochs), 16
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for s in range(0, steps, batch):
        chunk = [anchors[k % len(anchors)] for k in range(s, min(s + batch, steps))]
        pos = [rnd.choice([m for m in by_code[rnd.choice(sorted(items[n][1]))] if m != n]
                          or [n]) for n in chunk]
        neg = []
        for n in chunk:
            while items[m := rnd.randrange(len(items))][1] & items[n][1]:
                pass
            neg.append(m)
        others = pos + neg
        a = model(model.tokenize([items[n][0] for n in chunk]))["sentence_embedding"]
        b = model(model.tokenize([items[m][0] for m in others]))["sentence_embedding"]
        a = torch.nn.functional.normalize(a, dim=1)
        b = torch.nn.functional.normalize(b, dim=1)
        logits = 20.0 * a @ b.T
        mask = torch.tensor([[k != i and bool(items[n][1] & items[m][1])
                              for k, m in enumerate(others)] for i, n in enumerate(chunk)])
        logits = logits.masked_fill(mask, float("-inf"))
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(chunk)))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    model.max_seq_length = 256


def _save(out: Path, model: Any, texts: list[str], book: list[str], name: str) -> None:
    import torch

    with torch.no_grad():
        np.save(out / f"{name}-segments.npy",
                model.encode(texts, batch_size=16, normalize_embeddings=True))
        np.save(out / f"{name}-book.npy",
                model.encode(book, batch_size=16, normalize_embeddings=True))


def score(out: Path, folds: list[int] | None, tag: str = "") -> None:
    from suggest import build_store

    from workbench import classifiers, encoder, evaluate
    from workbench.classifiers.minilm import codebook_rows
    from workbench.codebook import codebook_of
    from workbench.indicators import Indicators
    from workbench.train import dataset_from_store, held_out_predictions

    store = build_store(Path(tempfile.mkdtemp(prefix="tune-encoder-")))
    data = dataset_from_store(store, codebook_of(store))
    kind = classifiers.get("minilm-logreg-ovr")
    kind.prepare(store, data.segment_ids)
    params = kind.default_params()
    keyword = Indicators(data.code_defs).scores(data.hits)
    book = [t for t, _j, _w in codebook_rows(data.code_defs)]
    stock = encoder.vectors

    def tuned_vectors(d: int) -> Any:
        table = {encoder._key(t): v for t, v in zip(
            data.texts, np.load(out / f"{tag}fold-{d}-segments.npy"), strict=True)}
        table.update({encoder._key(t): v for t, v in zip(
            book, np.load(out / f"{tag}fold-{d}-book.npy"), strict=True)})
        return lambda texts, *_a, **_k: np.array([table[encoder._key(t)] for t in texts],
                                                 dtype=np.float32)

    for d in folds or sorted(set(data.groups.tolist())):
        train, test = np.flatnonzero(data.groups != d), np.flatnonzero(data.groups == d)
        for name, vectors in (("stock", stock), ("tuned", tuned_vectors(d))):
            encoder.vectors = vectors
            try:
                s, p = held_out_predictions(data, [(train, test)], params, kind.kind, keyword)
            finally:
                encoder.vectors = stock
            m = evaluate._held_out(data, test, d, str(d), s, p, keyword)
            fig, kw = m["model"], m["keyword_baseline"]
            print(f"held-out {d} {name}: macro-F1 {fig['macro_f1']:.3f} (keywords "
                  f"{kw['macro_f1']:.3f}), LRAP {fig['lrap']:.3f}, top-5 recall "
                  f"{fig['top5_recall']:.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["dump", "tune", "score"])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--folds", help="held-out document ids, comma-separated (all)")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--pairs", type=int, default=4, help="like and unlike pairs per text")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--loss", choices=["cosine", "mnrl"], default="cosine")
    ap.add_argument("--tag", default="", help="prefix of the vector files written or read")
    args = ap.parse_args()
    folds = args.folds.split(",") if args.folds else None
    if args.step == "dump":
        dump(args.dir)
    elif args.step == "tune":
        tune(args.dir, folds, args.epochs, args.pairs, args.lr, args.loss, args.tag)
    else:
        score(args.dir, [int(f) for f in folds] if folds else None, args.tag)


if __name__ == "__main__":
    main()
