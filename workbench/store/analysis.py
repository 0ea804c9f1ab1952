"""What comparing cities, listing excerpts and exporting read: codings under filters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import and_, case, func, literal, select, union
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlmodel import col

from ..kinds import GENERAL, CodingStatus
from ..sizes import UNKNOWN, SizeLimits
from . import tables as t
from .core import StoreCore, in_chunks

UNKNOWN_COUNTRY = "country unknown"


@dataclass
class CodingFilter:
    """What the city comparison, excerpt lists and exports are restricted to."""

    statuses: tuple[str, ...] = (CodingStatus.ACCEPTED,)
    groups: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    coders: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    documents: tuple[int, ...] = ()
    sizes: tuple[str, ...] = ()  # of the case city: small, medium, large (sizes.SIZES)
    size_limits: SizeLimits = field(default_factory=SizeLimits)


class CodedRow(TypedDict):
    """One coding with everything an excerpt needs: its quote, where it stands, who
    coded it and how. Offsets are those of the coded span (the segment's, for a coding
    of the whole segment)."""

    coding_id: int
    segment_id: int
    code_id: str
    coder: str
    origin: str
    status: str
    score: float | None
    model_version_id: int | None
    memo: str
    created_at: datetime
    updated_at: datetime
    document_id: int
    text: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    span: str
    speaker: str | None
    time_start: float | None  # seconds into the recording (subtitle files)
    time_end: float | None
    title: str
    document_kind: str
    code_name: str
    code_group: str
    city: str  # its case cities, "; " between them (the general case: GENERAL)
    cities: list[str]  # the same, the first it names first
    city_country: str | None  # their countries, "; " between them
    document_meta: dict[str, Any] | None


class Facets(TypedDict):
    """What the filters can choose from."""

    kinds: list[str]
    coders: list[str]
    countries: list[str]
    groups: list[str]
    cities: list[str]


class Analysis(StoreCore):
    def _conditions(self, f: CodingFilter) -> list[Any]:
        """The filters as conditions on the coding row: on its copies of document and
        first case city, so the matrix needs no join, or, for a segment about several
        cities, on any of them (``SegmentCase``)."""
        conds = self._coding_conditions(f)
        first = self._case_conditions(f, further=False)
        if first:
            further = self._case_conditions(f, further=True)
            conds.append(and_(*first) | col(t.Coding.segment_id).in_(
                select(col(t.SegmentCase.segment_id)).where(*further)))
        return conds

    @staticmethod
    def _coding_conditions(f: CodingFilter) -> list[Any]:
        """The filters on what was coded, how and by whom; names resolved in subqueries."""
        conds: list[Any] = [col(t.Coding.status).in_(f.statuses)]
        for wanted, column in ((f.codes, col(t.Coding.code_id)), (f.coders, col(t.Coding.coder)),
                               (f.origins, col(t.Coding.origin)),
                               (f.documents, col(t.Coding.document_id))):
            if wanted:
                conds.append(column.in_(wanted))
        if f.groups:
            conds.append(col(t.Coding.code_id).in_(select(col(t.Code.id)).where(col(t.Code.group).in_(f.groups))))
        if f.kinds:
            conds.append(col(t.Coding.document_id).in_(select(col(t.Document.id))
                                                  .where(col(t.Document.kind).in_(f.kinds))))
        return conds

    def _case_conditions(self, f: CodingFilter, further: bool) -> list[Any]:
        """The filters on a case city: its name, the size class of its population, its
        country; on the coding's copy of the first, or (``further``) on a ``SegmentCase``
        row, which is never the general case."""
        case_city: Any = col(t.SegmentCase.place_id) if further else col(t.Coding.case_place_id)
        # its own alias: a subquery on ``place`` would be correlated with the place a
        # query joins (the first case city), and ask of that one instead
        place: Any = aliased(t.Place)
        conds: list[Any] = []
        if f.cities:
            named = case_city.in_(select(place.id).where(place.name.in_(f.cities)))
            conds.append(named | case_city.is_(None) if GENERAL in f.cities and not further
                         else named)
        if f.sizes:  # the size class of the case city, from the gazetteer's population
            conds.append(case_city.in_(
                select(place.id).where(self._size_label(f.size_limits, place).in_(f.sizes))))
        if f.countries:  # the country of the case city, not of the whole document
            country: Any = place.country.in_(f.countries)
            if UNKNOWN_COUNTRY in f.countries:  # case cities the gazetteer gives none
                country = country | place.country.is_(None)
            conds.append(case_city.in_(select(place.id).where(country)))
        return conds

    @staticmethod
    def _size_label(limits: SizeLimits, place: Any = t.Place) -> Any:
        """A place's size class in SQL, as ``SizeLimits.classify`` gives it."""
        population = col(place.population)
        return case((population.is_(None), UNKNOWN),
                    (population < limits.small_below, "small"),
                    (population < limits.large_from, "medium"), else_="large")

    def _filtered(self, f: CodingFilter) -> Any:
        """Codings joined to segment, document, code and case city, with the filters."""
        # a coding of a span quotes that span of the document, not its whole segment
        quoted = case((col(t.Coding.char_start).is_(None), col(t.Segment.text)),
                      else_=func.substr(col(t.Document.text), col(t.Coding.char_start) + 1,
                                        col(t.Coding.char_end) - col(t.Coding.char_start)))
        q: Any = (
            select(col(t.Coding.id).label("coding_id"), col(t.Coding.segment_id),
                   col(t.Coding.code_id), col(t.Coding.coder), col(t.Coding.origin),
                   col(t.Coding.status), col(t.Coding.score), col(t.Coding.model_version_id),
                   col(t.Coding.memo), col(t.Coding.created_at), col(t.Coding.updated_at),
                   col(t.Segment.document_id), quoted.label("text"),
                   col(t.Segment.page_start), col(t.Segment.page_end),
                   func.coalesce(col(t.Coding.char_start),
                                 col(t.Segment.char_start)).label("char_start"),
                   func.coalesce(col(t.Coding.char_end), col(t.Segment.char_end)).label("char_end"),
                   col(t.Coding.span), col(t.Segment.speaker), col(t.Segment.time_start),
                   col(t.Segment.time_end), col(t.Document.title),
                   col(t.Document.meta).label("document_meta"),
                   col(t.Document.kind).label("document_kind"), col(t.Code.name).label("code_name"),
                   col(t.Code.group).label("code_group"),
                   func.coalesce(col(t.Place.name), GENERAL).label("city"),
                   col(t.Place.country).label("city_country"))
            .join(t.Segment, col(t.Segment.id) == col(t.Coding.segment_id))
            .join(t.Document, col(t.Document.id) == col(t.Segment.document_id))
            .join(t.Code, col(t.Code.id) == col(t.Coding.code_id))
            .outerjoin(t.Place, col(t.Place.id) == col(t.Coding.case_place_id))
        )
        return q.where(*self._conditions(f))

    @staticmethod
    def _city_names(conn: Connection) -> dict[int | None, str]:
        names: dict[int | None, str] = {None: GENERAL}
        names.update((r[0], r[1]) for r in conn.execute(select(col(t.Place.id), col(t.Place.name))))
        return names

    def _rows_label(self, rows: str, f: CodingFilter, further: bool = False) -> Any:
        """What a matrix row is: the case city's id (``city``), its size class or its
        country; of the coding's first case city, or (``further``) of a ``SegmentCase``
        row. General (no case city) rows are NULL here and named by the caller."""
        city: Any = col(t.SegmentCase.place_id) if further else col(t.Coding.case_place_id)
        if rows == "city":
            return city
        label = self._place_label(rows, f, t.Place)
        return label if further else case((city.is_(None), None), else_=label)

    def _place_label(self, rows: str, f: CodingFilter, place: Any) -> Any:
        """A place's size class (``size``) or country (``country``) row, in SQL."""
        return self._size_label(f.size_limits, place) if rows == "size" else func.coalesce(
            col(place.country), UNKNOWN_COUNTRY)

    @staticmethod
    def _count_keys(label: Any, by_code: bool, with_documents: bool
                    ) -> tuple[list[Any], list[Any]]:
        """What a count selects beside its segments, and what it groups by: (row, code),
        (row, document) when documents are counted per row, else the row alone."""
        if by_code:
            keys = [label, col(t.Coding.code_id)]
        elif with_documents:
            keys = [label, col(t.Coding.document_id)]
        else:
            return [label, literal("")], [label]
        return keys, keys

    @staticmethod
    def _fold(rows: Any, by_code: bool, segments: dict[tuple[Any, str], int],
              documents: dict[Any, set[int]] | None) -> None:
        """Add counted rows (row, code or document, segments) into ``segments`` and,
        given ``documents``, each row's documents."""
        for r in rows:
            key, code_or_document, n = r[0], r[1], r[2]
            cell = (key, code_or_document if by_code else "")
            segments[cell] = segments.get(cell, 0) + int(n)
            if documents is not None:
                documents.setdefault(key, set()).add(code_or_document)

    @staticmethod
    def _any_further(conn: Connection) -> bool:
        """Whether any segment is about more than one case city (most stores: none)."""
        return conn.execute(select(col(t.SegmentCase.segment_id)).limit(1)).first() is not None

    def _counts(self, f: CodingFilter, rows: str, by_code: bool, with_documents: bool = False
                ) -> dict[tuple[str, str], tuple[int, int]]:
        """(row name, code or "") -> (coded segments, documents) under the filters, per
        row and (``by_code``) code; documents only per row and when asked (else 0). Each
        case city of a segment counts it: the first in one pass over the coding rows'
        copies (the case city's place joined only for size classes or countries), the
        further ones (``SegmentCase``, few) added on top, in SQL, without counting a
        segment or document twice in a row."""
        # per row, its documents are counted as (row, document) groups, so that those
        # of further case cities can join them without counting a document twice
        keys, groups = self._count_keys(self._rows_label(rows, f), by_code, with_documents)
        first = [*self._coding_conditions(f), *self._case_conditions(f, further=False)]
        q = select(*keys, func.count(col(t.Coding.segment_id).distinct()))
        if rows != "city":
            q = q.outerjoin(t.Place, col(t.Place.id) == col(t.Coding.case_place_id))
        q = q.where(*first).group_by(*groups)
        segments: dict[tuple[Any, str], int] = {}
        documents: dict[Any, set[int]] = {}
        per_row = documents if with_documents and not by_code else None
        with self.engine.connect() as conn:
            self._fold(conn.execute(q).all(), by_code, segments, per_row)
            if self._any_further(conn):
                self._add_further_cases(conn, f, rows, by_code, segments, per_row)
            names = self._city_names(conn) if rows == "city" else {}
        out: dict[tuple[str, str], tuple[int, int]] = {}
        for (key, code), n in segments.items():
            # two places of the same name share a row
            name = names[key] if rows == "city" else (key or GENERAL)
            old = out.get((name, code), (0, 0))
            out[(name, code)] = (old[0] + n, old[1] + len(documents.get(key, ())))
        return out

    def _further(self, rows: str, f: CodingFilter, *columns: Any) -> Any:
        """Codings joined to their segments' further case cities (and, for size or
        country rows, those cities' places), under the filters on those cities."""
        q = (select(*columns).select_from(t.Coding)
             .join(t.SegmentCase, col(t.SegmentCase.segment_id) == col(t.Coding.segment_id)))
        if rows != "city":
            q = q.join(t.Place, col(t.Place.id) == col(t.SegmentCase.place_id))
        return q.where(*self._coding_conditions(f), *self._case_conditions(f, further=True))

    def _add_further_cases(self, conn: Connection, f: CodingFilter, rows: str, by_code: bool,
                           segments: dict[tuple[Any, str], int],
                           documents: dict[Any, set[int]] | None) -> None:
        """Count into ``segments`` (and, given ``documents``, each row's documents) the
        segments about several case cities for their further ones. A segment is added
        to a row only where its first case city did not count it there already (two
        German cities of one paragraph: one passage about Germany)."""
        label = self._rows_label(rows, f, further=True)
        keys, groups = self._count_keys(label, by_code, documents is not None)
        q = self._further(rows, f, *keys, func.count(col(t.Coding.segment_id).distinct()))
        if rows != "city":
            first_place = aliased(t.Place)
            first_label = self._place_label(rows, f, first_place)
            first_counted = self._case_conditions(f, further=False)
            elsewhere = (col(t.Coding.case_place_id).is_(None)) | (first_label != label)
            if first_counted:
                elsewhere = elsewhere | ~and_(*first_counted)
            q = q.outerjoin(first_place, first_place.id == col(t.Coding.case_place_id)
                            ).where(elsewhere)
        self._fold(conn.execute(q.group_by(*groups)).all(), by_code, segments, None)
        if documents is None:
            return
        for key, document in conn.execute(
                self._further(rows, f, label, col(t.Coding.document_id)).distinct()).all():
            documents.setdefault(key, set()).add(document)

    def matrix_counts(self, f: CodingFilter, rows: str = "city") -> list[tuple[str, str, int]]:
        """(row, code, coded segments) under the filters; rows are case cities, their
        size classes or their countries."""
        return [(row, code, n) for (row, code), (n, _d) in self._counts(f, rows, True).items()]

    def city_totals(self, f: CodingFilter, rows: str = "city", documents: bool = True
                    ) -> dict[str, tuple[int, int]]:
        """row -> (coded segments, documents with coded segments) under the filters;
        documents 0 unless asked (counting them costs a pass more where segments are
        about several cities)."""
        return {row: counts for (row, _code), counts in
                self._counts(f, rows, False, with_documents=documents).items()}

    def count_coded(self, f: CodingFilter) -> int:
        """How many codings the filters match: on the coding rows alone (the filters are
        conditions on them), not on the joined excerpts ``coded_rows`` reads."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.Coding)
                                    .where(*self._conditions(f))).scalar_one())

    def coded_rows(self, f: CodingFilter, limit: int | None = None) -> list[CodedRow]:
        """The codings under the filters, with everything an excerpt needs."""
        q = self._excerpts_query(f)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            found = [cast(CodedRow, dict(r._mapping)) for r in conn.execute(q).all()]
            self._with_further_cases(conn, found)
        return found

    def _excerpts_query(self, f: CodingFilter) -> Any:
        """The codings under the filters in document order: what both readers page."""
        return self._filtered(f).order_by(col(t.Segment.document_id), col(t.Segment.order),
                                          col(t.Coding.code_id))

    def coded_rows_in_batches(self, f: CodingFilter, size: int = 5000
                              ) -> Iterator[list[CodedRow]]:
        """``coded_rows`` a batch at a time, in the same order, read as they are written
        out (a server-side cursor on PostgreSQL): a million codings export in the memory
        of one batch."""
        q = self._excerpts_query(f)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=size).execute(q)
            for part in result.partitions(size):
                found = [cast(CodedRow, dict(r._mapping)) for r in part]
                self._with_further_cases(conn, found)
                yield found

    def _with_further_cases(self, conn: Connection, found: list[CodedRow]) -> None:
        further = self._further_cases(conn, [r["segment_id"] for r in found])
        for r in found:
            more = further.get(r["segment_id"], [])
            r["cities"] = [r["city"], *(name for name, _country in more)]
            countries = [r["city_country"], *(country for _name, country in more)]
            r["city"] = "; ".join(r["cities"])
            r["city_country"] = "; ".join(dict.fromkeys(c for c in countries if c)) or None

    @staticmethod
    def _further_cases(conn: Connection, segment_ids: list[int]
                       ) -> dict[int, list[tuple[str, str | None]]]:
        """(name, country) of each further case city of these segments, in rank order."""
        out: dict[int, list[tuple[str, str | None]]] = {}
        if not Analysis._any_further(conn):
            return out
        unique = sorted(set(segment_ids))
        for chunk in in_chunks(unique):
            for segment, name, country in conn.execute(
                select(col(t.SegmentCase.segment_id), col(t.Place.name), col(t.Place.country))
                .join(t.Place, col(t.Place.id) == col(t.SegmentCase.place_id))
                .where(col(t.SegmentCase.segment_id).in_(chunk))
                .order_by(col(t.SegmentCase.segment_id), col(t.SegmentCase.rank))
            ).all():
                out.setdefault(segment, []).append((name, country))
        return out

    def code_totals(self, f: CodingFilter) -> tuple[dict[str, int], int]:
        """Coded segments per code and in all under the filters, each segment once
        however many case cities it is about: the corpus a row is set against."""
        conds = self._conditions(f)
        segments = func.count(col(t.Coding.segment_id).distinct())
        with self.engine.connect() as conn:
            per_code = {code: int(n) for code, n in conn.execute(
                select(col(t.Coding.code_id), segments).where(*conds)
                .group_by(col(t.Coding.code_id))).all()}
            total = int(conn.execute(select(segments).where(*conds)).scalar_one())
        return per_code, total

    def segment_code_pairs(self, f: CodingFilter) -> list[tuple[int, str]]:
        """Distinct (segment, code) under the filters: what co-occurrence is counted from
        (a self-join in SQL is quadratic per segment and slow at a million codings)."""
        q = (select(col(t.Coding.segment_id), col(t.Coding.code_id))
             .where(*self._conditions(f)).distinct())
        with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(q).all()]

    def facet_values(self) -> Facets:
        """What the filters can choose from."""
        cases: Any = union(select(col(t.Segment.case_place_id)),
                           select(col(t.SegmentCase.place_id)))
        with self.engine.connect() as conn:
            def column(q: Any) -> list[str]:
                return [r[0] for r in conn.execute(q)]

            return {
                "kinds": column(select(col(t.Document.kind)).distinct()
                                .order_by(col(t.Document.kind))),
                "coders": column(select(col(t.Coding.coder)).distinct()
                                 .order_by(col(t.Coding.coder))),
                "countries": column(
                    select(col(t.Place.country)).where(
                        col(t.Place.id).in_(cases) & col(t.Place.country).is_not(None))
                    .distinct().order_by(col(t.Place.country))),
                "groups": column(select(col(t.Code.group)).distinct().order_by(col(t.Code.group))),
                "cities": [*column(
                    select(col(t.Place.name)).where(col(t.Place.id).in_(cases))
                    .distinct().order_by(col(t.Place.name))), GENERAL],
            }
