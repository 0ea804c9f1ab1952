"""Documents, their pages, segments and places: written whole, read for reading and coding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, delete, func, insert, literal, select, update
from sqlalchemy import cast as sa_cast
from sqlalchemy.engine import Connection
from sqlmodel import col

from ..errors import InvalidInput, NotFound
from ..kinds import BODY_KINDS, DOCUMENT_KINDS, CaseOrigin, CodingOrigin, CodingStatus, PlaceKind
from ..parsed import ParsedDocument, PlaceRef
from . import tables as t
from .core import StoreCore, in_chunks

PlaceKey = tuple[str, str, str | None]


@dataclass
class DocumentSummary:
    id: int
    title: str
    kind: str
    source_file: str
    page_count: int
    language: str
    segments: int
    speakers: int
    places: list[str]


class Documents(StoreCore):
    def documents_with_texts(self, texts: list[str]) -> dict[str, int]:
        """SHA-256 of each of ``texts`` the store holds as a document's text -> that
        document's id: how an import finds what it has already, whatever its file or
        GUID. Only documents of the same length are read and hashed."""
        import hashlib

        wanted = {hashlib.sha256(text.encode("utf-8")).hexdigest() for text in texts}
        lengths = sorted({len(text) for text in texts})
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for chunk in in_chunks(lengths):
                for doc_id, text in conn.execute(
                        select(col(t.Document.id), col(t.Document.text))
                        .where(func.length(col(t.Document.text))
                               .in_(chunk))
                        .order_by(col(t.Document.id))):
                    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
                    if digest in wanted:
                        out.setdefault(digest, int(doc_id))
        return out

    def document_by_sha(self, sha256: str) -> t.Document | None:
        with self.session() as s:
            return s.scalars(select(t.Document).where(col(t.Document.sha256) == sha256)).first()

    def add_document(self, doc: ParsedDocument, actor: str | None = None) -> int:
        """Write a parsed document, its pages, segments and places in one transaction."""
        with self.write() as conn:
            doc_id, seg_ids = self._insert_document(conn, doc)
            self._audit(conn, actor, "document.add", "document",
                        str(doc_id), None, {"title": doc.title, "kind": doc.kind,
                                            "source_file": doc.source_file,
                                            "sha256": doc.sha256, "segments": len(seg_ids)})
            return doc_id

    def _insert_document(self, conn: Connection, doc: ParsedDocument) -> tuple[int, list[int]]:
        """The document's rows; returns its id and its segments' ids in order."""
        place_ids = self._upsert_places(conn, {p.key: p for p in doc.all_places()})
        doc_id = conn.execute(
            insert(t.Document).returning(col(t.Document.id)),
            {
                "title": doc.title,
                "kind": doc.kind,
                "source_file": doc.source_file,
                "sha256": doc.sha256,
                "page_count": doc.page_count,
                "language": doc.language,
                "text": doc.text,
                "meta": doc.meta,
                "ingested_at": t.utcnow(),
            },
        ).scalar_one()
        if doc.original:
            conn.execute(insert(t.DocumentFile), {"document_id": doc_id,
                                                  "media_type": "application/pdf",
                                                  "content": doc.original})
        if doc.pages:
            conn.execute(
                insert(t.Page),
                [
                    {
                        "document_id": doc_id,
                        "number": p.number,
                        "width": p.width,
                        "height": p.height,
                        "char_start": p.char_start,
                        "char_end": p.char_end,
                        "ocr_confidence": p.ocr_confidence,
                    }
                    for p in doc.pages
                ],
            )
        seg_ids: list[int] = []
        if doc.segments:
            seg_ids = list(
                conn.execute(
                    insert(t.Segment).returning(col(t.Segment.id), sort_by_parameter_order=True),
                    [
                        {
                            "document_id": doc_id,
                            "order": i,
                            "kind": s.kind,
                            "page_start": s.page_start,
                            "page_end": s.page_end,
                            "char_start": s.char_start,
                            "char_end": s.char_end,
                            "text": s.text,
                            "speaker": s.speaker,
                            "sentences": s.sentences,
                            "time_start": s.time_start,
                            "time_end": s.time_end,
                            "case_place_id": place_ids[s.cases[0].key] if s.cases else None,
                        }
                        for i, s in enumerate(doc.segments)
                    ],
                ).scalars()
            )
        mentions = [
            {
                "segment_id": seg_id,
                "place_id": place_ids[m.place.key],
                "char_start": m.start,
                "char_end": m.end,
                "surface": m.surface,
            }
            for seg_id, seg in zip(seg_ids, doc.segments, strict=True)
            for m in seg.places
        ]
        if mentions:
            conn.execute(insert(t.SegmentPlace), mentions)
        self._insert_further_cases(conn, [(seg_id, seg.cases) for seg_id, seg in
                                          zip(seg_ids, doc.segments, strict=True)], place_ids)
        cases: dict[int, dict[str, Any]] = {}
        for place, origin, count in doc.cases:
            pid = place_ids[place.key]
            cases.setdefault(
                pid,
                {"document_id": doc_id, "place_id": pid, "origin": origin, "mentions": count},
            )
        if cases:
            conn.execute(insert(t.DocumentPlace), list(cases.values()))
        return int(doc_id), seg_ids

    def import_project(self, docs: list[ParsedDocument], codes: list[dict[str, Any]],
                       codings: list[dict[str, Any]], actor: str, note: str) -> list[int]:
        """A project from another QDA tool, all or nothing: new codes, documents, and
        codings that name their document and segment by position in ``docs`` (or, on a
        document the store held already, their ``segment_id``)."""
        now = t.utcnow()
        with self.write() as conn:
            for code in codes:
                conn.execute(insert(t.Code), {**code, "version": 1, "user_defined": True,
                                              "active": True})
                conn.execute(insert(t.CodeVersion), {
                    "code_id": code["id"], "version": 1, "name": code["name"],
                    "definition": code["definition"], "details": code["details"],
                    "created_at": now})
            versions = self._code_versions(conn)  # the new codes' versions included
            inserted = [self._insert_document(conn, doc) for doc in docs]
            segment_ids = [sid for _doc, ids in inserted for sid in ids]
            segment_ids += [c["segment_id"] for c in codings if "segment_id" in c]
            where = self._segment_places(conn, segment_ids)
            # a model version is restored only where this store has it (it came from here)
            models = set(conn.execute(select(col(t.ModelVersion.id))).scalars())
            rows = []
            for c in codings:  # on a new document's segment, or on one the store had
                sid = (c["segment_id"] if "segment_id" in c
                       else inserted[c["doc"]][1][c["segment"]])
                rows.append({
                    "segment_id": sid, **where[sid], "code_id": c["code_id"],
                    "code_version_id": versions.get(c["code_id"]), "coder": c["coder"],
                    "origin": c.get("origin") or CodingOrigin.HUMAN,
                    "status": c.get("status") or CodingStatus.ACCEPTED,
                    "score": c.get("score"),
                    "model_version_id": (c.get("model_version_id")
                                         if c.get("model_version_id") in models else None),
                    "memo": c.get("memo") or "",
                    "span": c["span"], "char_start": c["char_start"], "char_end": c["char_end"],
                    "created_at": c.get("created_at") or now, "updated_at": now})
            for chunk in range(0, len(rows), 5000):
                conn.execute(insert(t.Coding), rows[chunk: chunk + 5000])
            self._audit(conn, actor, "project.import", "project", note, None,
                        {"documents": len(docs), "codes": len(codes), "codings": len(rows)})
            return [doc_id for doc_id, _ids in inserted]

    def _upsert_places(self, conn: Connection, places: dict[PlaceKey, PlaceRef]
                       ) -> dict[PlaceKey, int]:
        ids: dict[PlaceKey, int] = {}
        if not places:
            return ids
        p = t.Place
        existing = conn.execute(
            select(col(p.id), col(p.name), col(p.kind), col(p.country_code))
            .where(col(p.name).in_([k[0] for k in places]))
        ).all()
        for row in existing:
            ids[(row.name, row.kind, row.country_code)] = row.id
        for key, ref in places.items():
            if key in ids:
                continue
            ids[key] = conn.execute(
                insert(p).returning(col(p.id)),
                {"name": ref.name, "kind": ref.kind, "country_code": ref.country_code,
                 "country": ref.country, "region": ref.region, "population": ref.population,
                 "geonameid": ref.geonameid},
            ).scalar_one()
        return ids

    def delete_document(self, document_id: int, actor: str | None = None) -> None:
        with self.write() as conn:
            doc = conn.execute(select(col(t.Document.title), col(t.Document.kind),
                                      col(t.Document.source_file), col(t.Document.sha256))
                               .where(col(t.Document.id) == document_id)).first()
            codings = conn.execute(select(func.count()).where(
                col(t.Coding.document_id) == document_id)).scalar_one()
            self._audit(conn, actor, "document.delete", "document",
                        str(document_id), None if doc is None else {
                            **dict(doc._mapping), "codings": codings}, None)
            seg_ids = select(col(t.Segment.id)).where(col(t.Segment.document_id) == document_id)
            conn.execute(delete(t.SegmentPlace).where(
                col(t.SegmentPlace.segment_id).in_(seg_ids)))
            conn.execute(delete(t.SegmentCase).where(col(t.SegmentCase.segment_id).in_(seg_ids)))
            conn.execute(delete(t.Coding).where(col(t.Coding.segment_id).in_(seg_ids)))
            conn.execute(delete(t.Segment).where(col(t.Segment.document_id) == document_id))
            conn.execute(delete(t.Page).where(col(t.Page.document_id) == document_id))
            conn.execute(delete(t.DocumentFile).where(
                col(t.DocumentFile.document_id) == document_id))
            conn.execute(delete(t.DocumentPlace).where(
                col(t.DocumentPlace.document_id) == document_id))
            conn.execute(delete(t.Document).where(col(t.Document.id) == document_id))

    def update_document(self, document_id: int, actor: str, kind: str | None = None,
                        title: str | None = None, cities: list[str] | None = None,
                        countries: list[str] | None = None) -> None:
        """Edit a document's kind, title and case places (stated by a person: they win);
        its segments' case cities follow the new cities (``places.cases_of``)."""
        from .. import places

        with self.write() as conn:
            doc = conn.execute(select(t.Document).where(col(t.Document.id) == document_id)).first()
            if doc is None:
                raise NotFound(f"no document {document_id}")
            changes: dict[str, Any] = {}
            if kind is not None:
                if kind not in DOCUMENT_KINDS:
                    raise InvalidInput(f"kind must be one of {', '.join(DOCUMENT_KINDS)}")
                changes["kind"] = kind
            if title is not None and title.strip():
                changes["title"] = title.strip()
            if changes:
                conn.execute(update(t.Document).where(col(t.Document.id) == document_id)
                             .values(**changes))
            for wanted, kind_name, lookup in ((cities, PlaceKind.CITY, places.lookup_city),
                                              (countries, PlaceKind.COUNTRY,
                                               places.lookup_country)):
                if wanted is None:
                    continue
                refs = {ref.key: ref for ref in (lookup(n) for n in wanted if n.strip())}
                ids = self._upsert_places(conn, refs)
                old = select(col(t.Place.id)).where(col(t.Place.kind) == kind_name)
                conn.execute(delete(t.DocumentPlace).where(
                    (col(t.DocumentPlace.document_id) == document_id)
                    & col(t.DocumentPlace.place_id).in_(old)))
                if ids:
                    conn.execute(insert(t.DocumentPlace), [
                        {"document_id": document_id, "place_id": pid,
                         "origin": CaseOrigin.OPTION, "mentions": 0} for pid in ids.values()])
                if kind_name == PlaceKind.CITY:
                    self._set_cases(conn, document_id, list(refs.values()), ids)
            self._audit(conn, actor, "document.update", "document", str(document_id),
                        {"kind": doc.kind, "title": doc.title},
                        {"kind": kind, "title": title, "cities": cities,
                         "countries": countries})

    def _set_cases(self, conn: Connection, document_id: int, cities: list[PlaceRef],
                   ids: dict[PlaceKey, int]) -> None:
        """Give the document's segments (and their codings' copies) their case city again,
        after its cities changed; which city is the places module's rule."""
        from .. import places

        rows = conn.execute(select(col(t.Segment.id), col(t.Segment.kind))
                            .where(col(t.Segment.document_id) == document_id)
                            .order_by(col(t.Segment.order))).all()
        named: dict[int, list[PlaceRef]] = {}
        for seg_id, name, kind, code in conn.execute(
            select(col(t.SegmentPlace.segment_id), col(t.Place.name), col(t.Place.kind),
                   col(t.Place.country_code))
            .join(t.Place, col(t.Place.id) == col(t.SegmentPlace.place_id))
            .join(t.Segment, col(t.Segment.id) == col(t.SegmentPlace.segment_id))
            .where(col(t.Segment.document_id) == document_id)
            .order_by(col(t.SegmentPlace.segment_id), col(t.SegmentPlace.char_start))
        ).all():
            named.setdefault(seg_id, []).append(PlaceRef(name=name, kind=kind,
                                                         country_code=code))
        cases = places.cases_of([(kind, named.get(seg_id, [])) for seg_id, kind in rows], cities)
        conn.execute(delete(t.SegmentCase).where(col(t.SegmentCase.segment_id).in_(
            select(col(t.Segment.id)).where(col(t.Segment.document_id) == document_id))))
        for (seg_id, _kind), found in zip(rows, cases, strict=True):
            city = ids[found[0].key] if found else None
            conn.execute(update(t.Segment).where(col(t.Segment.id) == seg_id)
                         .values(case_place_id=city))
            conn.execute(update(t.Coding).where(col(t.Coding.segment_id) == seg_id)
                         .values(case_place_id=city))
        self._insert_further_cases(conn, [(seg_id, found) for (seg_id, _kind), found in
                                          zip(rows, cases, strict=True)], ids)

    @staticmethod
    def _insert_further_cases(conn: Connection, segments: list[tuple[int, list[PlaceRef]]],
                              ids: dict[PlaceKey, int]) -> None:
        """The case cities after each segment's first, as ``SegmentCase`` rows."""
        further = [{"segment_id": seg_id, "place_id": ids[c.key], "rank": rank}
                   for seg_id, cases in segments for rank, c in enumerate(cases) if rank > 0]
        if further:
            conn.execute(insert(t.SegmentCase), further)

    # ------------------------------------------------------------------ reading
    def documents(self) -> list[DocumentSummary]:
        with self.engine.connect() as conn:
            docs = conn.execute(
                select(col(t.Document.id), col(t.Document.title), col(t.Document.kind),
                       col(t.Document.source_file), col(t.Document.page_count),
                       col(t.Document.language)).order_by(col(t.Document.id))
            ).all()
            counts = dict(conn.execute(
                select(col(t.Segment.document_id), func.count())
                .group_by(col(t.Segment.document_id))
            ).all())
            speakers = dict(conn.execute(
                select(col(t.Segment.document_id), func.count(col(t.Segment.speaker).distinct()))
                .group_by(col(t.Segment.document_id))
            ).all())
            places: dict[int, list[str]] = {}
            for doc_id, name in conn.execute(
                select(col(t.DocumentPlace.document_id), col(t.Place.name))
                .join(t.Place, col(t.Place.id) == col(t.DocumentPlace.place_id))
                .where(col(t.Place.kind) == PlaceKind.CITY)
                .order_by(col(t.DocumentPlace.mentions).desc(), col(t.Place.name))
            ).all():
                places.setdefault(doc_id, []).append(name)
        return [
            DocumentSummary(
                id=d.id, title=d.title, kind=d.kind, source_file=d.source_file,
                page_count=d.page_count, language=d.language, segments=counts.get(d.id, 0),
                speakers=speakers.get(d.id, 0), places=places.get(d.id, []),
            )
            for d in docs
        ]

    def document(self, document_id: int) -> t.Document | None:
        with self.session() as s:
            return s.get(t.Document, document_id)

    def page_starts(self, document_id: int) -> list[int]:
        """Where each page of the document starts in its text, in page order."""
        with self.engine.connect() as conn:
            return [int(r[0]) for r in conn.execute(
                select(col(t.Page.char_start)).where(col(t.Page.document_id) == document_id)
                .order_by(col(t.Page.number)))]

    def ocr_pages(self, document_id: int) -> dict[int, float]:
        """Page number -> OCR confidence (0-100) for the pages whose text came from OCR."""
        with self.engine.connect() as conn:
            return {int(n): float(c) for n, c in conn.execute(
                select(col(t.Page.number), col(t.Page.ocr_confidence))
                .where(col(t.Page.document_id) == document_id,
                       col(t.Page.ocr_confidence).is_not(None))) if c is not None}

    def segments(self, document_id: int) -> list[t.Segment]:
        with self.session() as s:
            return list(s.scalars(select(t.Segment).where(col(t.Segment.document_id) == document_id)
                                  .order_by(col(t.Segment.order))))

    def segment(self, segment_id: int) -> t.Segment | None:
        with self.session() as s:
            row = s.get(t.Segment, segment_id)
            if row is not None:
                s.expunge(row)
            return row

    def segment_window(self, document_id: int, order: int) -> list[t.Segment]:
        """The segment at ``order`` with the paragraphs before and after it."""
        return self._detached(
            select(t.Segment).where((col(t.Segment.document_id) == document_id)
                                    & col(t.Segment.order).between(order - 1, order + 1))
            .order_by(col(t.Segment.order)))

    def document_places(self, document_id: int) -> list[tuple[t.Place, str, int]]:
        with self.session() as s:
            rows = s.execute(
                select(t.Place, col(t.DocumentPlace.origin), col(t.DocumentPlace.mentions))
                .join(t.DocumentPlace, col(t.DocumentPlace.place_id) == col(t.Place.id))
                .where(col(t.DocumentPlace.document_id) == document_id)
                .order_by(col(t.Place.kind), col(t.Place.name))
            ).all()
            return [(p, origin, n) for p, origin, n in rows]

    def segment_places(self, document_id: int, kind: str | None = None) -> dict[int, list[str]]:
        """The places each segment names, in order (``kind``: of that kind only)."""
        out: dict[int, list[str]] = {}
        q = (select(col(t.SegmentPlace.segment_id), col(t.Place.name))
             .join(t.Place, col(t.Place.id) == col(t.SegmentPlace.place_id))
             .join(t.Segment, col(t.Segment.id) == col(t.SegmentPlace.segment_id))
             .where(col(t.Segment.document_id) == document_id)
             .order_by(col(t.SegmentPlace.segment_id), col(t.SegmentPlace.char_start)))
        if kind is not None:
            q = q.where(col(t.Place.kind) == kind)
        with self.engine.connect() as conn:
            for seg_id, name in conn.execute(q).all():
                out.setdefault(seg_id, []).append(name)
        return out

    def segment_ids_by_key(self) -> dict[tuple[str, int, int], tuple[int, str]]:
        """(source file, char start, char end) -> (segment id, text): how annotation files
        find their segments."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(col(t.Document.source_file), col(t.Segment.char_start),
                       col(t.Segment.char_end), col(t.Segment.id), col(t.Segment.text))
                .join(t.Document, col(t.Document.id) == col(t.Segment.document_id))
            ).all()
        return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}

    def segments_for_suggestion(self, document_id: int | None = None
                                ) -> list[tuple[int, str, int]]:
        """(id, text, document id) of a document's segments or of all, in order: the
        suggester cuts each document on its own scores."""
        query = select(col(t.Segment.id), col(t.Segment.text),
                       col(t.Segment.document_id)).order_by(col(t.Segment.id))
        if document_id is not None:
            query = query.where(col(t.Segment.document_id) == document_id)
        with self.engine.connect() as conn:
            return [(r[0], r[1], r[2]) for r in conn.execute(query).all()]

    def document_file(self, document_id: int) -> bytes | None:
        """The PDF a document was read from, as it was (None: not kept, e.g. a text file
        or a document ingested before files were kept)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(col(t.DocumentFile.content)).where(
                col(t.DocumentFile.document_id) == document_id)).scalar()
        return None if found is None else bytes(found)

    def segment_texts(self, segment_ids: list[int]) -> dict[int, str]:
        with self.engine.connect() as conn:
            return {sid: text for sid, text in self._segment_rows(conn, segment_ids,
                                                                   col(t.Segment.text))}

    def segment_documents(self, segment_ids: list[int]) -> dict[int, int]:
        """The document of each segment that exists: what cuts a segment's scores."""
        with self.engine.connect() as conn:
            return dict(self._segment_rows(conn, segment_ids, col(t.Segment.document_id)))

    def segment_context(self, segment_ids: list[int]) -> dict[int, tuple[int, str | None]]:
        """Document id and the document's first case city (or None) for each segment:
        what the queue spreads its picks over."""
        city: dict[int, str] = {}
        with self.engine.connect() as conn:
            for doc_id, name in conn.execute(
                select(col(t.DocumentPlace.document_id), col(t.Place.name))
                .join(t.Place, col(t.Place.id) == col(t.DocumentPlace.place_id))
                .where(col(t.Place.kind) == PlaceKind.CITY)
                .order_by(col(t.DocumentPlace.mentions).desc())
            ).all():
                city.setdefault(doc_id, name)
        return {sid: (doc_id, city.get(doc_id))
                for sid, doc_id in self.segment_documents(segment_ids).items()}

    def queue_candidates(self, coder: str, min_chars: int = 40, pool: int | None = None,
                         seed: int | str | None = None) -> list[tuple[int, str, int]]:
        """Segments this coder has not reviewed: (id, text, document id), body text only.

        With ``pool``, a random sample of that many (the usual pool-based active
        learning): scoring every unreviewed segment of a million to pick ten took a
        minute in bench/scale.py; a sample keeps the queue's cost flat as the corpus grows.
        """
        import zlib

        done = select(col(t.Review.segment_id)).where(col(t.Review.coder) == coder)
        open_ = select(col(t.Segment.id)).where(col(t.Segment.kind).in_(BODY_KINDS),
                                                col(t.Segment.id).not_in(done))
        if pool is not None:
            # a random sample drawn in the query itself, the same for the same seed: the
            # ids in the order of a multiplicative hash (Knuth's), a little more than the
            # pool (short segments are dropped next); only the sample's texts are read
            salt = zlib.crc32(str(seed).encode("utf-8"))
            big = sa_cast(col(t.Segment.id), BigInteger)  # the product overflows 32 bits
            open_ = open_.order_by(
                (big * literal(2654435761, BigInteger) + literal(salt, BigInteger))
                % literal(4294967296, BigInteger), col(t.Segment.id)).limit(pool * 5 // 4)
        q = (select(col(t.Segment.id), col(t.Segment.text), col(t.Segment.document_id))
             .where(col(t.Segment.id).in_(open_),
                    func.length(col(t.Segment.text)) >= min_chars)
             .order_by(col(t.Segment.id)))
        with self.engine.connect() as conn:
            rows = [(int(r[0]), r[1], int(r[2])) for r in conn.execute(q).all()]
        return rows[:pool] if pool is not None else rows

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                name: conn.execute(select(func.count()).select_from(tbl)).scalar_one()
                for name, tbl in (
                    ("documents", t.Document), ("pages", t.Page), ("segments", t.Segment),
                    ("places", t.Place), ("segment_places", t.SegmentPlace),
                    ("codings", t.Coding),
                )
            }
