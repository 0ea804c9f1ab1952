"""The codebook: a diff-friendly TOML file, validated, and versioned in the store.

Code ids and names are stable (exports, models and evaluation data refer to
them), so validation checks them against the specification. Every change of a
code's content makes a new code version; a coding records the version it used.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import WorkbenchError

DEFAULT_CODEBOOK = Path(__file__).resolve().parent.parent / "codebook" / "codebook.toml"
CODE_ID = re.compile(r"^[A-Z]{2,4}\d{2,3}$")
REQUIRED = ("id", "name", "group", "definition", "when_to_use", "when_not_to_use",
            "indicators", "examples")

# The stable ids and names (shared/codebook-spec.md); the file must keep them.
SPEC: dict[str, str] = {
    "FP01": "Integration from day one",
    "FP02": "Mainstreaming and long-term integration",
    "FP03": "Non-discrimination",
    "FP04": "Social investment and infrastructure",
    "FP05": "Knowledge base and evaluation",
    "FP06": "Trust and community building",
    "FP07": "Participation",
    "FP08": "Volunteerism and civil society",
    "FP09": "Transnational links",
    "FP10": "Neighbourhood empowerment",
    "OB01": "Limited local capacity",
    "OB02": "Scarce or inaccessible funding",
    "OB03": "Isolation from networks",
    "OB04": "Fragmented competences",
    "OB05": "Small places overlooked",
    "OB06": "One-way view of integration",
    "OB07": "Politicisation",
    "OB08": "Hostile or misread public opinion",
    "OB09": "Housing barriers",
    "OB10": "Onward movement",
    "OB11": "Legal and administrative barriers",
    "OB12": "Barriers to decent work",
    "OB13": "Discrimination and social distance",
    "OB14": "Missing local data",
    "RE01": "Include small places in governance",
    "RE02": "Tailor and simplify funding",
    "RE03": "Build local capacity",
    "RE04": "Promote two-way integration",
    "RE05": "Depoliticise and foster contact",
    "RE06": "Evidence on public attitudes",
    "RE07": "Local integration strategies",
    "RE08": "Local data and monitoring",
    "RE09": "Share practice and cooperate",
    "RE10": "Partner with civil society",
    "RE11": "Coordinate services and levels",
    "RE12": "Secure housing and basic services",
}


@dataclass(frozen=True)
class CodeDef:
    id: str
    name: str
    group: str
    definition: str
    when_to_use: str = ""
    when_not_to_use: str = ""
    confused_with: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    parent: str | None = None

    def details(self) -> dict[str, Any]:
        return {
            "when_to_use": self.when_to_use,
            "when_not_to_use": self.when_not_to_use,
            "confused_with": list(self.confused_with),
            "indicators": list(self.indicators),
            "examples": list(self.examples),
        }

    def fingerprint(self) -> str:
        """What makes two versions of a code the same: every field that means something."""
        parts = [self.name, self.group, self.definition, repr(sorted(self.details().items()))]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class Codebook:
    name: str
    version: str
    groups: dict[str, str]
    codes: list[CodeDef]
    source: str = ""
    sha256: str = ""
    rules: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.codes]

    def get(self, code_id: str) -> CodeDef:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)


class CodebookError(WorkbenchError):
    """The codebook file cannot be used; the message lists every problem."""


def load(path: Path | str = DEFAULT_CODEBOOK) -> Codebook:
    """Parse a codebook file; raise CodebookError listing every problem found."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodebookError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CodebookError(f"{path}: not valid TOML ({exc})") from exc
    book = from_dict(raw, source=str(path))
    book.sha256 = hashlib.sha256(data).hexdigest()
    problems = validate(book)
    if problems:
        raise CodebookError(f"{path}: " + "; ".join(problems))
    return book


def from_dict(raw: dict[str, Any], source: str = "") -> Codebook:
    meta = raw.get("codebook", {})
    groups = {g.get("id", ""): g.get("name", "") for g in raw.get("group", [])}
    codes = []
    for entry in raw.get("code", []):
        codes.append(CodeDef(
            id=str(entry.get("id", "")),
            name=str(entry.get("name", "")),
            group=str(entry.get("group", "")),
            definition=str(entry.get("definition", "")),
            when_to_use=str(entry.get("when_to_use", "")),
            when_not_to_use=str(entry.get("when_not_to_use", "")),
            confused_with=tuple(entry.get("confused_with", [])),
            indicators=tuple(entry.get("indicators", [])),
            examples=tuple(entry.get("examples", [])),
            parent=entry.get("parent"),
        ))
    return Codebook(name=str(meta.get("name", "")), version=str(meta.get("version", "")),
                    groups=groups, codes=codes, source=source, rules=str(meta.get("rules", "")),
                    raw=raw)


def validate(book: Codebook) -> list[str]:
    """Every problem with the codebook, each a short sentence; empty when it is sound."""
    problems: list[str] = []
    raw_codes = book.raw.get("code", [])
    seen: set[str] = set()
    for i, entry in enumerate(raw_codes):
        ident = entry.get("id", f"code #{i + 1}")
        missing = [k for k in REQUIRED if not entry.get(k)]
        if missing:
            problems.append(f"{ident} lacks {', '.join(missing)}")
        if ident in seen:
            problems.append(f"{ident} is defined twice")
        seen.add(ident)
        if not CODE_ID.match(str(ident)):
            problems.append(f"{ident} is not a code id like FP01")
    for code in book.codes:
        if code.group not in book.groups:
            problems.append(f"{code.id} is in unknown group {code.group!r}")
        for other in code.confused_with:
            if other not in seen:
                problems.append(f"{code.id} names unknown code {other} in confused_with")
        if code.id in SPEC and code.name != SPEC[code.id]:
            problems.append(f"{code.id} is named {code.name!r}, the specification says "
                            f"{SPEC[code.id]!r}")
        if len(code.indicators) != len({t.lower() for t in code.indicators}):
            problems.append(f"{code.id} repeats an indicator")
    for code_id in SPEC:
        if code_id not in seen:
            problems.append(f"{code_id} ({SPEC[code_id]}) is missing")
    return problems


def defs_from_rows(rows: Iterable[Any]) -> list[CodeDef]:
    """The store's current codes (``models.Code`` rows) as definitions."""
    return [CodeDef(id=r.id, name=r.name, group=r.group, definition=r.definition,
                    when_to_use=r.details.get("when_to_use", ""),
                    when_not_to_use=r.details.get("when_not_to_use", ""),
                    confused_with=tuple(r.details.get("confused_with", [])),
                    indicators=tuple(r.details.get("indicators", [])),
                    examples=tuple(r.details.get("examples", []))) for r in rows]


def codebook_of(store: Any) -> list[CodeDef]:
    """The store's active codes as definitions: what suggestions and training work with."""
    from .errors import NotFound

    rows = store.codes()
    if not rows:
        raise NotFound("the store has no codebook: run `workbench codebook load`")
    return defs_from_rows(rows)


def user_code(code_id: str, name: str, group: str, definition: str,
              indicators: list[str] | None = None) -> CodeDef:
    """A researcher's own code: any id of the usual shape that is not in the specification."""
    code_id = code_id.strip().upper()
    if not CODE_ID.match(code_id):
        raise CodebookError(f"code id {code_id!r} must look like XX01 (letters then digits)")
    if code_id in SPEC:
        raise CodebookError(f"{code_id} is a codebook code; choose another id")
    if not name.strip() or not definition.strip():
        raise CodebookError("a code needs a name and a definition")
    return CodeDef(id=code_id, name=name.strip(), group=group.strip().upper(),
                   definition=definition.strip(), indicators=tuple(indicators or []))


def _plain(text: str) -> str:
    return " ".join(re.sub(r"\W+", " ", text.lower()).split())


def without_examples_in(code_defs: Iterable[CodeDef], texts: Iterable[str]) -> list[CodeDef]:
    """The codes with every example quoted from these texts taken out. The codebook's
    examples are verbatim from the demo documents: a model judged on a document must
    not have been taught with quotes from it (a quote counts when its first 80 letters
    and digits, in order, occur in one of the texts)."""
    corpus = "\n".join(_plain(t) for t in texts)
    out = []
    for code in code_defs:
        kept = tuple(e for e in code.examples if _plain(e)[:80] not in corpus)
        out.append(code if kept == code.examples else replace(code, examples=kept))
    return out
