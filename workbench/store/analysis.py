"""What comparing cities, listing excerpts and exporting read: codings under filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from ..kinds import GENERAL, CodingStatus
from ..sizes import UNKNOWN, SizeLimits
from . import tables as t
from .core import StoreCore

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
    title: str
    document_kind: str
    code_name: str
    code_group: str
    city: str
    city_country: str | None
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
        """The filters as conditions on the coding row alone (its copies of document and
        case city), so the matrix needs no join; names are resolved in subqueries."""
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
        if f.cities:
            named = col(t.Coding.case_place_id).in_(select(col(t.Place.id))
                                               .where(col(t.Place.name).in_(f.cities)))
            conds.append(named | col(t.Coding.case_place_id).is_(None) if GENERAL in f.cities
                         else named)
        if f.sizes:  # the size class of the case city, from the gazetteer's population
            conds.append(col(t.Coding.case_place_id).in_(
                select(col(t.Place.id)).where(self._size_label(f.size_limits).in_(f.sizes))))
        if f.countries:  # the country of the case city, not of the whole document
            country: Any = col(t.Place.country).in_(f.countries)
            if UNKNOWN_COUNTRY in f.countries:  # case cities the gazetteer gives none
                country = country | col(t.Place.country).is_(None)
            conds.append(col(t.Coding.case_place_id).in_(select(col(t.Place.id)).where(country)))
        return conds

    @staticmethod
    def _size_label(limits: SizeLimits) -> Any:
        """A place's size class in SQL, as ``SizeLimits.classify`` gives it."""
        population = col(t.Place.population)
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
                   col(t.Coding.span), col(t.Segment.speaker), col(t.Document.title),
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

    def _rows_label(self, rows: str, f: CodingFilter) -> Any:
        """What a matrix row is: the case city's id (``city``), its size class or its
        country; general (no case city) rows are NULL here and named by the caller."""
        if rows == "city":
            return col(t.Coding.case_place_id)
        label = self._size_label(f.size_limits) if rows == "size" else func.coalesce(
            col(t.Place.country), UNKNOWN_COUNTRY)
        return case((col(t.Coding.case_place_id).is_(None), None), else_=label)

    def _counts(self, f: CodingFilter, rows: str, by_code: bool
                ) -> list[tuple[str, str, int, int]]:
        """(row name, code or "", coded segments, documents) under the filters, per row
        and (``by_code``) code; the case city's place joined only when the rows are
        size classes or countries, so the city matrix stays one pass over its index."""
        label = self._rows_label(rows, f)
        keys = [label, col(t.Coding.code_id)] if by_code else [label]
        q = select(*keys, func.count(col(t.Coding.segment_id).distinct()),
                   func.count(col(t.Coding.document_id).distinct()))
        if rows != "city":
            q = q.outerjoin(t.Place, col(t.Place.id) == col(t.Coding.case_place_id))
        q = q.where(*self._conditions(f)).group_by(*keys)
        with self.engine.connect() as conn:
            names = self._city_names(conn) if rows == "city" else {}
            return [(names[r[0]] if rows == "city" else (r[0] or GENERAL),
                     r[1] if by_code else "", int(r[-2]), int(r[-1]))
                    for r in conn.execute(q).all()]

    def matrix_counts(self, f: CodingFilter, rows: str = "city"
                      ) -> list[tuple[str, str, int, int]]:
        """(row, code, coded segments, documents) under the filters; rows are case cities,
        their size classes or their countries."""
        out: dict[tuple[str, str], list[int]] = {}
        for name, code, segments, documents in self._counts(f, rows, by_code=True):
            # two places of the same name share a row (a segment has one case city)
            cell = out.setdefault((name, code), [0, 0])
            cell[0] += segments
            cell[1] += documents
        return [(city, code, n, d) for (city, code), (n, d) in out.items()]

    def city_totals(self, f: CodingFilter, rows: str = "city") -> dict[str, tuple[int, int]]:
        """row -> (coded segments, documents with coded segments) under the filters."""
        out: dict[str, tuple[int, int]] = {}
        for name, _code, segments, documents in self._counts(f, rows, by_code=False):
            n, d = out.get(name, (0, 0))
            out[name] = (n + segments, d + documents)
        return out

    def coded_rows(self, f: CodingFilter, limit: int | None = None) -> list[CodedRow]:
        """The codings under the filters, with everything an excerpt needs."""
        q = self._filtered(f).order_by(col(t.Segment.document_id), col(t.Segment.order),
                                       col(t.Coding.code_id))
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [cast(CodedRow, dict(r._mapping)) for r in conn.execute(q).all()]

    def segment_code_pairs(self, f: CodingFilter) -> list[tuple[int, str]]:
        """Distinct (segment, code) under the filters: what co-occurrence is counted from
        (a self-join in SQL is quadratic per segment and slow at a million codings)."""
        q = (select(col(t.Coding.segment_id), col(t.Coding.code_id))
             .where(*self._conditions(f)).distinct())
        with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(q).all()]

    def facet_values(self) -> Facets:
        """What the filters can choose from."""
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
                        col(t.Place.id).in_(select(col(t.Segment.case_place_id)).distinct())
                        & col(t.Place.country).is_not(None))
                    .distinct().order_by(col(t.Place.country))),
                "groups": column(select(col(t.Code.group)).distinct().order_by(col(t.Code.group))),
                "cities": [*column(
                    select(col(t.Place.name)).where(col(t.Place.id).in_(
                        select(col(t.Segment.case_place_id)).distinct()))
                    .distinct().order_by(col(t.Place.name))), GENERAL],
            }
