"""What the pages share: the store, who is coding, what their role allows, safe text.

Document text is always shown as text: through ``st.text`` or Markdown in which every
punctuation character is escaped (``literal``), so a PDF holding ``<script>`` or
Markdown shows those characters literally.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any, cast

import streamlit as st

from workbench import accounts, agreement, sizes, suggest
from workbench import codebook as cb
from workbench.config import resolve_db_url
from workbench.errors import WorkbenchError
from workbench.store import CodingFilter, Store
from workbench.store.analysis import Facets
from workbench.suggest import Suggester, active_suggester

PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~\"'$&%:;=?@^,/])")


def literal(text: str) -> str:
    """Markdown that renders as exactly ``text``: every punctuation mark escaped."""
    return PUNCT.sub(r"\\\1", text).replace("\n", "  \n")


def highlighted(text: str, terms: list[str]) -> str:
    """Literal text with the search terms in bold."""
    if not terms:
        return literal(text)
    from workbench.search_query import loose_pattern

    # accents as the search folds them: "Malmo" marks "Malmö"
    pattern = re.compile("|".join(loose_pattern(t) for t in terms if t), re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(literal(text[last:m.start()]))
        out.append(f"**{literal(m.group(0))}**")
        last = m.end()
    out.append(literal(text[last:]))
    return "".join(out)


@st.cache_resource
def get_store(url: str) -> Store:
    """One store (engine and connection pool) per database for the whole server."""
    return Store(url)


class LiveCounts:
    """One store's agreement counts for the whole server. Read in the background from
    the first time the server opens the store (a team's million codings take a second),
    so the Agreement page rarely waits on them; then kept current from the audit log,
    under a lock, by whichever session asks. The figures of the last few choices of
    coders and codes are kept for the latest change only (each holds its disputes)."""

    KEPT = 4  # choices of coders and codes whose figures are kept

    def __init__(self, url: str) -> None:
        self.lock = threading.Lock()
        self.counts: agreement.Counts | None = None
        self.kept: dict[Any, tuple[tuple[int, int], Any]] = {}
        threading.Thread(target=self._fill, args=(url,), name="workbench-agreement",
                         daemon=True).start()

    def _fill(self, url: str) -> None:
        with self.lock:
            if self.counts is None:
                try:
                    self.counts = agreement.Counts(get_store(url))
                except Exception:  # the page reads them itself and shows what fails
                    logging.getLogger(__name__).exception("reading the agreement counts")

    def figures(self, store: Store, coders: tuple[str, ...], codes: tuple[str, ...]
                ) -> tuple[agreement.AgreementReport, agreement.Disputes]:
        """The figures as of the store's latest change; read-only for the caller."""
        with self.lock:
            if self.counts is None:
                self.counts = agreement.Counts(store)
            else:
                self.counts.refresh()
            token, key = self.counts.token, (coders, codes)
            hit = self.kept.get(key)
            if hit is not None and hit[0] == token:
                return cast(tuple[agreement.AgreementReport, agreement.Disputes], hit[1])
            result = self.counts.figures(codes, coders)
            fresh = {k: v for k, v in self.kept.items() if v[0] == token}
            self.kept = {**dict(list(fresh.items())[-(self.KEPT - 1):]), key: (token, result)}
            return result


@st.cache_resource(show_spinner=False)  # 30 MB at 100,000 segments x 36 codes
def live_counts(url: str) -> LiveCounts:
    return LiveCounts(url)


def current_store() -> Store:
    """The store this server works on (``WORKBENCH_DB``)."""
    return get_store(resolve_db_url())


def suggester(store: Store) -> Suggester:
    """The active model's suggester, rebuilt only when the active version changes, or
    when the model has been refitted on the coders' latest decisions (``learn``)."""
    active = store.active_model()
    refit = adapted(store.url)
    key = (active.id if active else None, tuple(c.id for c in store.codes()), refit.refits)
    cached = st.session_state.get("_suggester")
    if cached is None or cached[0] != key:
        sugg = active_suggester(store, code_defs(store))
        with refit.lock:
            if refit.model is not None and refit.base == sugg.version \
                    and refit.model.codes == sugg.codes:
                sugg.model = refit.model
        st.session_state["_suggester"] = (key, sugg)
    return st.session_state["_suggester"][1]  # type: ignore[no-any-return]


def document_suggester(store: Store, sugg: Suggester, document_id: int) -> Suggester:
    """``sugg`` cut for the document being coded (where its scores sit as a whole moves
    each code's cut), worked out once per document and model."""
    key = (st.session_state.get("_suggester", (None,))[0], id(sugg), document_id)
    cached = st.session_state.get("_document_suggester")
    if cached is None or cached[0] != key:
        cached = (key, suggest.document_suggester(store, sugg, document_id))
        st.session_state["_document_suggester"] = cached
    return cached[1]


LEARN_EVERY = 5  # decisions between two refits of the model in the background


@dataclass
class Adapted:
    """The active model refitted on every decision so far, for the whole server: a
    researcher's accepted and rejected codes count for the rest of the document within
    seconds, without a new model version (a maintainer still decides what goes live)."""

    model: Any = None
    base: int | None = None  # the active version it was refitted from
    refits: int = 0
    decisions: int = 0  # decisions seen since the last refit started
    running: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@st.cache_resource
def adapted(url: str) -> Adapted:
    return Adapted()


def learn(store: Store, sugg: Suggester) -> bool:
    """Count a decision; every ``LEARN_EVERY`` of them refit the model in the background.
    Returns whether a refit was started."""
    refit = adapted(store.url)
    with refit.lock:
        refit.decisions += 1
        if sugg.model is None or refit.running or refit.decisions < LEARN_EVERY:
            return False
        refit.running, refit.decisions = True, 0
    base, model, defs = sugg.version, sugg.model, code_defs(store)

    def work() -> None:
        from workbench.train import adapt

        try:
            fresh = adapt(store, model, defs)
        except Exception:  # the next refit tries again; suggestions go on
            fresh = None
        with refit.lock:
            if fresh is not None:
                refit.model, refit.base, refit.refits = fresh, base, refit.refits + 1
            refit.running = False

    threading.Thread(target=work, name="workbench-learn", daemon=True).start()
    return True


def code_defs(store: Store) -> list[cb.CodeDef]:
    return cb.defs_from_rows(store.codes())


def coder_name() -> str | None:
    """Asked once, in the sidebar of every page (in team mode: the signed-in account);
    recorded on every coding."""
    signed_in = st.session_state.get("account")
    if signed_in is not None:
        return str(signed_in.name)
    return str(st.session_state.get("coder", "")).strip() or None


def actor() -> str:
    """Who the audit log names for a change made in the app."""
    return coder_name() or "app"


def allowed(action: str | None) -> bool:
    """What the signed-in role may do; everything in single-user mode."""
    if action is None:
        return True
    signed_in = st.session_state.get("account")
    return accounts.can(signed_in.role if signed_in is not None else None, action)


def offer_codebook(store: Store) -> None:
    st.info("No codebook in this store yet.")
    if st.button("Load the default codebook (36 codes)", key="load_codebook"):
        version, changed = store.load_codebook(cb.load(), actor=actor())
        st.success(f"Codebook version {version}: {len(changed)} codes loaded.")
        st.rerun()


def facet_values(store: Store) -> Facets:
    """What the filters can choose from, read once per change to the store: at a team's
    100,000 segments the distinct cities and coders take a few hundred milliseconds."""
    return _facet_values(store.url, store.change_token())


@st.cache_data(max_entries=8, show_spinner=False)
def _facet_values(url: str, token: tuple[int, int]) -> Facets:
    return get_store(url).facet_values()


def filters(store: Store, prefix: str, every: bool = False) -> CodingFilter:
    """The filters of a comparison or an export; ``every``: all an excerpt can be chosen
    by (the export), not only those a comparison needs."""
    facets = facet_values(store)
    with st.expander("Filters", expanded=False):
        groups = st.multiselect("Code group", facets["groups"], key=f"{prefix}_groups")
        kinds = st.multiselect("Document kind", facets["kinds"], key=f"{prefix}_kinds")
        countries = st.multiselect("Country", facets["countries"], key=f"{prefix}_countries")
        try:
            limits = sizes.limits_from_env()
        except WorkbenchError as exc:
            st.error(f"{exc}; the default thresholds are used")
            limits = sizes.SizeLimits()
        size = st.multiselect("City size", list(sizes.SIZES), key=f"{prefix}_sizes",
                              help=limits.describe())
        coders = st.multiselect("Coder", facets["coders"], key=f"{prefix}_coders")
        statuses = st.multiselect("Status", ["accepted", "suggested", "rejected"],
                                  default=["accepted"], key=f"{prefix}_statuses")
        codes: list[str] = []
        cities: list[str] = []
        origins: list[str] = []
        documents: list[int] = []
        if every:
            codes = st.multiselect("Code", [c.id for c in store.codes()], key=f"{prefix}_codes")
            cities = st.multiselect("City", facets["cities"], key=f"{prefix}_cities")
            origins = st.multiselect("Origin", ["human", "model"], key=f"{prefix}_origins")
            docs = {d.id: d.title for d in store.documents()}
            documents = st.multiselect("Document", list(docs),
                                       format_func=lambda i: f"{i}: {docs[i]}",
                                       key=f"{prefix}_docs")
    return CodingFilter(statuses=tuple(statuses) or ("accepted",), groups=tuple(groups),
                        kinds=tuple(kinds), countries=tuple(countries), coders=tuple(coders),
                        codes=tuple(codes), cities=tuple(cities), origins=tuple(origins),
                        documents=tuple(documents), sizes=tuple(size), size_limits=limits)


@dataclass
class Job:
    """Work running in the background for the whole server (one training at a time):
    its state survives reruns and is seen by every session."""

    status: str = "idle"  # idle | running | done | failed
    step: str = ""
    done: int = 0
    total: int = 1
    message: str = ""
    result: Any = None  # what a finished job hands to the page
    started: float = 0.0  # time.monotonic() when it started, where a page shows it
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **changes: Any) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(self, key, value)


@st.cache_resource
def background_job(name: str, url: str) -> Job:
    """The server's job of that name on that store."""
    return Job()


def start_embedding(store: Store) -> None:
    """Encode, in the background, the segments that have no stored vector yet (a new
    upload's), so that suggesting and training never wait on the encoder."""
    job = background_job("embedding", store.url)
    if claim(job):
        threading.Thread(target=embed_now, args=(job, store), name="workbench-embed",
                         daemon=True).start()


def claim(job: Job) -> bool:
    """Mark the job running unless it already is: one run of a job at a time, even when
    two sessions start it at once."""
    with job.lock:
        if job.status == "running":
            return False
        job.status, job.step, job.done, job.total, job.message = "running", "", 0, 1, ""
        return True


def embed_now(job: Job, store: Store) -> None:
    """The encoding a claimed job stands for, in the calling thread."""
    from workbench import encoder

    try:
        n = encoder.embed_segments(
            store, progress=lambda done, total: job.update(done=done, total=total))
        job.update(status="done", message=f"{n} segments encoded for suggestions")
    except Exception as exc:  # shown on the page; what was stored stays
        job.update(status="failed", message=f"encoding stopped: {exc}")


def embedding_status(store: Store) -> None:
    """The background encoding's progress, refreshed while it runs."""
    job = background_job("embedding", store.url)

    @st.fragment(run_every=1.0 if job.status == "running" else None)
    def status() -> None:
        if job.status == "running":
            st.progress(min(job.done / max(job.total, 1), 1.0),
                        text=f"encoding segments for suggestions: {job.done} of {job.total}")
        elif job.status == "failed":
            st.warning(job.message)

    status()
