"""Codings and reviews: suggestions stored, decisions made (and undone), agreed codes.

Every decision goes to the audit log with the row before and after, which is what undo
replays. A decision on a suggestion keeps where it came from: the model's score and
version stay on the row, so exports and the audit log can tell a code the model proposed
from one a coder found.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any, TypedDict

from sqlalchemy import case, delete, func, insert, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from ..errors import Conflict, InvalidInput
from ..kinds import AGREED, BODY_KINDS, DECIDED, CodingOrigin, CodingStatus
from . import tables as t
from .core import StoreCore, in_chunks, row_dict

if TYPE_CHECKING:
    import numpy as np


# log entries about one segment's decisions, with the segment in the row they keep
_ONE_SEGMENT = frozenset({"coding.accepted", "coding.rejected", "coding.suggested",
                          "coding.memo", "coding.remove", "review.add"})
# log entries that change no decision and no code: a model, a user, a document added or
# described, the model's pending suggestions
_NO_DECISION = frozenset({"model.add", "model.activate", "user.add", "user.update",
                          "document.add", "document.update", "suggestions.replace"})


class _Taken(Exception):
    """The row a decision was about changed under it; the decision is made again."""


class CodingRow(TypedDict, total=False):
    """A coding to record (``record_codings``) or a suggestion to store
    (``replace_suggestions``): segment, code and coder are required."""

    segment_id: int
    code_id: str
    coder: str
    origin: str
    status: str
    memo: str
    score: float | None
    model_version_id: int | None
    span: str
    char_start: int | None
    char_end: int | None


class TrainingDecisions(TypedDict):
    """The raw human decisions training labels are made from (see ``train.labels``)."""

    codings: list[tuple[int, str, str]]  # (segment, code, accepted | rejected)
    reviewed: set[int]  # segments some coder marked as coded completely
    codes: list[str]  # the active codes, in id order


class Codings(StoreCore):
    def record_codings(self, rows: Iterable[CodingRow], reviews: list[tuple[int, str]],
                       actor: str | None = None, note: str = "") -> int:
        """Insert or update codings (one per segment, code, coder and origin) and reviews,
        in one transaction. Returns the number of coding rows written."""
        rows = list(rows)
        now = t.utcnow()
        with self.write() as conn:
            versions = self._code_versions(conn)
            where = self._segment_places(conn, [row["segment_id"] for row in rows])
            for row in rows:
                values = {
                    **where[row["segment_id"]],
                    "segment_id": row["segment_id"], "code_id": row["code_id"],
                    "coder": row["coder"], "origin": row.get("origin", CodingOrigin.HUMAN),
                    "status": row.get("status", CodingStatus.ACCEPTED),
                    "memo": row.get("memo", ""), "score": row.get("score"),
                    "model_version_id": row.get("model_version_id"),
                    "code_version_id": versions.get(row["code_id"]), "updated_at": now,
                    "span": row.get("span", ""), "char_start": row.get("char_start"),
                    "char_end": row.get("char_end"),
                }
                existing = conn.execute(
                    select(col(t.Coding.id)).where(
                        (col(t.Coding.segment_id) == values["segment_id"])
                        & (col(t.Coding.code_id) == values["code_id"])
                        & (col(t.Coding.coder) == values["coder"])
                        & (col(t.Coding.origin) == values["origin"])
                        & (col(t.Coding.span) == values["span"]))
                ).scalar()
                if existing is None:
                    conn.execute(insert(t.Coding), {**values, "created_at": now})
                else:
                    conn.execute(update(t.Coding).where(col(t.Coding.id) == existing)
                                 .values(**values))
            self._audit(conn, actor, "codings.record", "coding", note, None,
                        {"codings": len(rows), "reviews": len(set(reviews)),
                         "coders": sorted({r["coder"] for r in rows})})
            have = set(conn.execute(select(col(t.Review.segment_id), col(t.Review.coder))).all())
            fresh = [{"segment_id": s, "coder": c, "created_at": now}
                     for s, c in dict.fromkeys(reviews) if (s, c) not in have]
            if fresh:
                conn.execute(insert(t.Review), fresh)
        return len(rows)

    def replace_suggestions(self, rows: list[CodingRow], segment_ids: list[int],
                            actor: str | None = None) -> int:
        """Model suggestions for these segments replace earlier pending ones; decisions
        (accepted or rejected suggestions) are kept."""
        with self.write() as conn:
            for chunk in range(0, len(segment_ids), 500):
                ids = segment_ids[chunk: chunk + 500]
                conn.execute(delete(t.Coding).where(
                    col(t.Coding.segment_id).in_(ids) & (col(t.Coding.origin) == CodingOrigin.MODEL)
                    & (col(t.Coding.status) == CodingStatus.SUGGESTED)))
            decided = set(conn.execute(
                select(col(t.Coding.segment_id), col(t.Coding.code_id))
                .where(col(t.Coding.origin) == CodingOrigin.MODEL)).all())
            fresh = [r for r in rows if (r["segment_id"], r["code_id"]) not in decided]
            now = t.utcnow()
            where = self._segment_places(conn, [r["segment_id"] for r in fresh])
            if fresh:
                conn.execute(insert(t.Coding), [
                    {**r, **where[r["segment_id"]], "origin": CodingOrigin.MODEL,
                     "status": CodingStatus.SUGGESTED, "memo": "", "created_at": now,
                     "updated_at": now}
                    for r in fresh])
            self._audit(conn, actor, "suggestions.replace", "coding", "",
                        None, {"segments": len(segment_ids), "suggestions": len(fresh),
                               "model_version": rows[0].get("model_version_id") if rows
                               else None})
        return len(fresh)

    def codings_for(self, segment_id: int) -> list[t.Coding]:
        return self.codings_on([segment_id]).get(segment_id, [])

    def codings_on(self, segment_ids: list[int]) -> dict[int, list[t.Coding]]:
        """segment id -> its codings, for a page of segments in one query per chunk of
        ids (the reader and the Code page read a whole page at once)."""
        out: dict[int, list[t.Coding]] = {}
        for chunk in in_chunks(segment_ids):
            for c in self._detached(select(t.Coding).where(
                    col(t.Coding.segment_id).in_(chunk))
                    .order_by(col(t.Coding.id))):
                out.setdefault(c.segment_id, []).append(c)
        return out

    def training_decisions(self) -> TrainingDecisions:
        """Every accepted or rejected coding, every completely coded segment, the codes."""
        with self.engine.connect() as conn:
            codings = [(r[0], r[1], r[2]) for r in conn.execute(
                select(col(t.Coding.segment_id), col(t.Coding.code_id), col(t.Coding.status))
                .where(col(t.Coding.status).in_(DECIDED))).all()]
            reviewed = {r[0] for r in conn.execute(select(col(t.Review.segment_id))).all()}
            codes = [r[0] for r in conn.execute(
                select(col(t.Code.id)).where(col(t.Code.active)).order_by(col(t.Code.id))).all()]
        return {"codings": codings, "reviewed": reviewed, "codes": codes}

    def segment_rows(self, segment_ids: list[int]) -> dict[int, tuple[str, int, str]]:
        """segment id -> (text, document id, kind)."""
        with self.engine.connect() as conn:
            return {r[0]: (r[1], r[2], r[3]) for r in self._segment_rows(
                conn, segment_ids, col(t.Segment.text), col(t.Segment.document_id),
                col(t.Segment.kind))}

    # ------------------------------------------------------- coding decisions
    def decide(self, segment_id: int, code_id: str, coder: str, status: str,
               memo: str | None = None, score: float | None = None,
               model_version_id: int | None = None) -> int:
        """A coder accepts or rejects a code on a segment; every change goes to the audit
        log with the row before and after, which is what undo replays.

        Deciding on a stored model suggestion turns that row into the coder's decision
        (origin stays "model", with its score and version), so provenance is kept and
        nothing is counted twice. A suggestion shown to the coder but not stored is
        passed with its ``score`` (and ``model_version_id``; None when the indicators
        alone suggested it): the coder's row then has origin "model" with them.
        Otherwise the coder's own row is created or updated.
        """
        if status not in DECIDED:
            raise InvalidInput(f"status must be accepted or rejected, not {status!r}")
        # another coder may take the same model suggestion, or the same coder decide in a
        # second window, between our read and our write: the write then changes nothing
        # or hits the unique constraint, and the decision is made again on what is there now
        for attempt in range(5):
            try:
                return self._decide_once(segment_id, code_id, coder, status, memo, score,
                                         model_version_id)
            except _Taken:
                continue
            except IntegrityError:
                if attempt == 4:
                    raise
        raise Conflict(f"segment {segment_id}: the decision kept colliding; try again")

    def _decide_once(self, segment_id: int, code_id: str, coder: str, status: str,
                     memo: str | None, score: float | None, model_version_id: int | None
                     ) -> int:
        now = t.utcnow()
        with self.write() as conn:
            versions = self._code_versions(conn)
            row = conn.execute(
                select(t.Coding).where((col(t.Coding.segment_id) == segment_id)
                                       & (col(t.Coding.code_id) == code_id)
                                       & (col(t.Coding.coder) == coder)
                                       & (col(t.Coding.span) == ""))
            ).first()
            if row is None:
                row = conn.execute(
                    select(t.Coding).where((col(t.Coding.segment_id) == segment_id)
                                           & (col(t.Coding.code_id) == code_id)
                                           & (col(t.Coding.origin) == CodingOrigin.MODEL)
                                           & (col(t.Coding.status) == CodingStatus.SUGGESTED)
                                           & (col(t.Coding.span) == ""))
                ).first()
            if row is None:
                shown = score is not None
                coding_id = self._insert_coding(
                    conn, segment_id, code_id, coder, versions,
                    origin=CodingOrigin.MODEL if shown else CodingOrigin.HUMAN, status=status,
                    memo=memo or "", score=score,
                    model_version_id=model_version_id if shown else None)
                before = None
            else:
                before = row_dict(row)
                coding_id = row.id
                changes: dict[str, Any] = {"coder": coder, "status": status,
                                           "updated_at": now}
                if memo is not None:
                    changes["memo"] = memo
                # only the row as we read it: a suggestion someone took meanwhile is theirs
                done = conn.execute(
                    update(t.Coding)
                    .where((col(t.Coding.id) == coding_id) & (col(t.Coding.coder) == row.coder)
                           & (col(t.Coding.status) == row.status))
                    .values(**changes))
                if done.rowcount != 1:
                    raise _Taken  # rolls the transaction back
            self._audit(conn, coder, f"coding.{status}", "coding", str(coding_id), before,
                        self._coding_now(conn, coding_id))
            return int(coding_id)

    def coder_decisions(self, documents: tuple[int, ...] = (), coders: tuple[str, ...] = ()
                        ) -> dict[int, dict[str, frozenset[str]]]:
        """segment -> coder -> the codes that coder accepted on it, for every segment a
        coder reviewed or decided on: what agreement is measured over. A coder who saw a
        segment and gave it nothing appears with an empty set (a deliberate "no code")."""
        reviews = select(col(t.Review.segment_id), col(t.Review.coder)).join(
            t.Segment, col(t.Segment.id) == col(t.Review.segment_id))
        decided = select(col(t.Coding.segment_id), col(t.Coding.coder), col(t.Coding.code_id),
                         col(t.Coding.status)).where(col(t.Coding.status).in_(DECIDED))
        if documents:
            reviews = reviews.where(col(t.Segment.document_id).in_(documents))
            decided = decided.where(col(t.Coding.document_id).in_(documents))
        if coders:
            reviews = reviews.where(col(t.Review.coder).in_(coders))
            decided = decided.where(col(t.Coding.coder).in_(coders))
        out: dict[int, dict[str, set[str]]] = {}
        with self.engine.connect() as conn:
            for seg, coder in conn.execute(reviews).all():
                out.setdefault(seg, {}).setdefault(coder, set())
            for seg, coder, code, status in conn.execute(decided).all():
                codes = out.setdefault(seg, {}).setdefault(coder, set())
                if status == CodingStatus.ACCEPTED:
                    codes.add(code)
        return {seg: {c: frozenset(v) for c, v in by.items()} for seg, by in out.items()}

    def decision_coders(self, exact: bool = False) -> list[str]:
        """Who reviewed or coded a segment (the agreed codes' name too), in name order:
        the bits of ``decision_array``'s masks. By default every coding's coder, the
        model's pending suggestions' too, which the coder index answers alone; ``exact``:
        only those with a decision or a review (a scan of the codings)."""
        reviews = select(col(t.Review.coder)).distinct()
        decided = select(col(t.Coding.coder)).distinct()
        if exact:
            decided = decided.where(col(t.Coding.status).in_(DECIDED))
        with self.engine.connect() as conn:
            return sorted({*conn.execute(reviews).scalars(), *conn.execute(decided).scalars()})

    def decision_array(self, coders: list[str], codes: list[str],
                       segment_ids: Iterable[int] | None = None,
                       documents: tuple[int, ...] = ()) -> np.ndarray:
        """What ``coder_decisions`` is made of, as an integer array of (segment, index of
        the coder in ``coders`` or -1 for another, index of the code accepted in ``codes``
        or -1 for a review, a rejection or another code), for a caller that counts over a
        million of them: the database turns names into numbers, Python never sees a name.
        ``segment_ids``: only these segments' rows."""
        import numpy as np

        def index(column: Any, names: list[str]) -> Any:
            # no names (no coder yet, no codebook): CASE without a WHEN is not SQL
            return (case({n: i for i, n in enumerate(names)}, value=column, else_=-1)
                    if names else literal(-1))

        what = index(col(t.Coding.code_id), codes)
        decided = select(col(t.Coding.segment_id), index(col(t.Coding.coder), coders),
                         case((col(t.Coding.status) == CodingStatus.ACCEPTED, what), else_=-1)
                         ).where(col(t.Coding.status).in_(DECIDED))
        reviews = select(col(t.Review.segment_id), index(col(t.Review.coder), coders),
                         literal(-1))
        if documents:
            reviews = reviews.join(t.Segment, col(t.Segment.id) == col(t.Review.segment_id)
                                   ).where(col(t.Segment.document_id).in_(documents))
            decided = decided.where(col(t.Coding.document_id).in_(documents))
        if segment_ids is None:
            queries = [reviews, decided]
        else:
            ids, queries = sorted(set(segment_ids)), []
            for part in in_chunks(ids):
                queries += [reviews.where(col(t.Review.segment_id).in_(part)),
                            decided.where(col(t.Coding.segment_id).in_(part))]
        with self.engine.connect() as conn:
            # the values straight into the array: numpy asking each of a million row
            # objects for its length and items takes ten times as long
            values = np.fromiter(chain.from_iterable(
                chain.from_iterable(conn.execute(q) for q in queries)), dtype=np.int64)
        return values.reshape(-1, 3)

    def decision_changes(self, token: tuple[int, int]
                         ) -> tuple[tuple[int, int], list[int] | None]:
        """The change token now, and the segments whose decisions the log's entries since
        ``token`` changed: None when one of them could change any (an import, an undo, a
        removed document), or an entry committed late below the token's id (PostgreSQL
        gives ids out before commit)."""
        now = self.change_token()
        entries = select(col(t.AuditEvent.action), col(t.AuditEvent.entity_id),
                         col(t.AuditEvent.before), col(t.AuditEvent.after)
                         ).where((col(t.AuditEvent.id) > token[0])
                                 & (col(t.AuditEvent.id) <= now[0]))
        with self.engine.connect() as conn:
            rows = conn.execute(entries).all()
        if now[1] - len(rows) != token[1]:
            return now, None
        segments: set[int] = set()
        for action, entity_id, before, after in rows:
            if action in _NO_DECISION:
                continue
            if action == "coding.agree":
                segments.add(int(entity_id))
                continue
            if action not in _ONE_SEGMENT:
                return now, None
            row = after or before or {}
            if "segment_id" not in row:
                return now, None
            segments.add(int(row["segment_id"]))
        return now, sorted(segments)

    def set_agreed(self, segment_id: int, codes: list[str], actor: str) -> None:
        """Record the codes coders agreed on for a segment after discussing it; they are
        kept apart (coder ``AGREED``) so that each coder's own codes stay as they were."""
        now = t.utcnow()
        with self.write() as conn:
            versions = self._code_versions(conn)  # every code has a version row
            unknown = sorted(set(codes) - set(versions))
            if unknown:
                raise InvalidInput(f"unknown code {unknown[0]}")
            where = self._segment_places(conn, [segment_id])[segment_id]
            mine = (col(t.Coding.segment_id) == segment_id) & (col(t.Coding.coder) == AGREED)
            before = sorted(r[0] for r in conn.execute(
                select(col(t.Coding.code_id)).where(mine & (col(t.Coding.status) ==
                                                       CodingStatus.ACCEPTED))))
            conn.execute(delete(t.Coding).where(mine))
            if codes:
                conn.execute(insert(t.Coding), [
                    {"segment_id": segment_id, **where, "code_id": code, "coder": AGREED,
                     "origin": CodingOrigin.HUMAN, "status": CodingStatus.ACCEPTED,
                     "memo": f"agreed by {actor}", "code_version_id": versions.get(code),
                     "created_at": now, "updated_at": now} for code in sorted(set(codes))])
            if not conn.execute(select(col(t.Review.id)).where(
                    (col(t.Review.segment_id) == segment_id)
                    & (col(t.Review.coder) == AGREED))).first():
                conn.execute(insert(t.Review), {"segment_id": segment_id, "coder": AGREED,
                                                "created_at": now})
            self._audit(conn, actor, "coding.agree", "segment", str(segment_id),
                        {"codes": before}, {"codes": sorted(set(codes))})

    def mark_reviewed(self, segment_id: int, coder: str) -> bool:
        """The coder is done with this segment: codes not accepted are negatives."""
        try:
            with self.write() as conn:
                if conn.execute(select(col(t.Review.id)).where(
                        (col(t.Review.segment_id) == segment_id)
                        & (col(t.Review.coder) == coder))).first():
                    return False
                rid = conn.execute(insert(t.Review).returning(col(t.Review.id)),
                                   {"segment_id": segment_id, "coder": coder,
                                    "created_at": t.utcnow()}).scalar_one()
                self._audit(conn, coder, "review.add", "review", str(rid), None,
                            {"id": rid, "segment_id": segment_id, "coder": coder})
                return True
        except IntegrityError:  # the same coder, in another window, was quicker
            return False

    def code_span(self, segment_id: int, start: int, end: int, code_id: str, coder: str,
                  memo: str | None = None) -> int:
        """A coder applies a code to exactly these characters of a passage (offsets into
        the document's text, inside the segment): stored as the coder's accepted coding
        with that span, exported and exchanged like any other, undone like any other."""
        return self.code_spans([(segment_id, start, end)], [code_id], coder, memo)[0]

    def code_spans(self, pieces: list[tuple[int, int, int]], code_ids: list[str], coder: str,
                   memo: str | None = None) -> list[int]:
        """Codes on a selection that may run over several passages: one span coding per
        passage and code, all stored or (on any bad piece) none. Returns the new ids."""
        from ..errors import NotFound

        if not pieces or not code_ids:
            raise InvalidInput("nothing to code: no characters or no code chosen")
        ids: list[int] = []
        with self.write() as conn:
            versions = self._code_versions(conn)
            for code_id in code_ids:
                if code_id not in versions:
                    raise NotFound(f"no code {code_id}")
            for segment_id, start, end in pieces:
                seg = conn.execute(select(col(t.Segment.char_start), col(t.Segment.char_end))
                                   .where(col(t.Segment.id) == segment_id)).first()
                if seg is None:
                    raise NotFound(f"no segment {segment_id}")
                if not seg[0] <= start < end <= seg[1]:
                    raise InvalidInput(f"characters {start}-{end} are not inside segment "
                                       f"{segment_id} ({seg[0]}-{seg[1]})")
                span = f"{start}-{end}"
                for code_id in code_ids:
                    if conn.execute(select(col(t.Coding.id)).where(
                            (col(t.Coding.segment_id) == segment_id)
                            & (col(t.Coding.code_id) == code_id)
                            & (col(t.Coding.coder) == coder) & (col(t.Coding.span) == span))
                    ).first():
                        raise Conflict(f"{coder} has coded characters {span} with {code_id} "
                                       "already")
                    coding_id = self._insert_coding(
                        conn, segment_id, code_id, coder, versions, origin=CodingOrigin.HUMAN,
                        status=CodingStatus.ACCEPTED, memo=memo or "", span=span,
                        char_start=start, char_end=end)
                    self._audit(conn, coder, "coding.accepted", "coding", str(coding_id), None,
                                self._coding_now(conn, coding_id))
                    ids.append(coding_id)
        return ids

    @classmethod
    def _insert_coding(cls, conn: Connection, segment_id: int, code_id: str, coder: str,
                       versions: dict[str, int], **fields: Any) -> int:
        """A new coding row, with the copies of its segment's document and case city and
        the code's current version; returns its id."""
        now = t.utcnow()
        values = {**cls._segment_places(conn, [segment_id])[segment_id],
                  "segment_id": segment_id, "code_id": code_id, "coder": coder,
                  "code_version_id": versions.get(code_id), "created_at": now,
                  "updated_at": now, **fields}
        return int(conn.execute(insert(t.Coding).returning(col(t.Coding.id)), values)
                   .scalar_one())

    def set_memo(self, coding_id: int, coder: str, memo: str) -> None:
        """A coder rewrites the memo on one of their codings (undo puts the old one back)."""
        with self.write() as conn:
            before = self._own_coding(conn, coding_id, coder)
            conn.execute(update(t.Coding).where(col(t.Coding.id) == coding_id)
                         .values(memo=memo, updated_at=t.utcnow()))
            self._audit(conn, coder, "coding.memo", "coding", str(coding_id), before,
                        self._coding_now(conn, coding_id))

    def remove_coding(self, coding_id: int, coder: str) -> None:
        """A coder takes back one of their own codings (undo puts it back)."""
        with self.write() as conn:
            before = self._own_coding(conn, coding_id, coder)
            conn.execute(delete(t.Coding).where(col(t.Coding.id) == coding_id))
            self._audit(conn, coder, "coding.remove", "coding", str(coding_id), before, None)

    @staticmethod
    def _coding_now(conn: Connection, coding_id: int) -> dict[str, Any]:
        """A coding row as it stands in this transaction, as the audit log keeps it."""
        return row_dict(conn.execute(select(t.Coding).where(col(t.Coding.id) == coding_id))
                        .first())

    @staticmethod
    def _own_coding(conn: Connection, coding_id: int, coder: str) -> dict[str, Any]:
        """The coder's own coding as it stands, or NotFound: one coder never changes
        another's."""
        from ..errors import NotFound

        row = conn.execute(select(t.Coding).where((col(t.Coding.id) == coding_id)
                                                  & (col(t.Coding.coder) == coder))).first()
        if row is None:
            raise NotFound(f"{coder} has no coding {coding_id}")
        return row_dict(row)

    def undo_last(self, actor: str, document_id: int | None = None) -> str | None:
        """Undo the actor's most recent change to a coding or review that is not undone yet
        (only among a document's segments when ``document_id`` is given: undo acts on the
        work in front of the coder); say exactly what was undone."""
        with self.write() as conn:
            undone = {r[0] for r in conn.execute(
                select(col(t.AuditEvent.entity_id)).where((col(t.AuditEvent.actor) == actor)
                                                     & (col(t.AuditEvent.action) == "undo")))}
            for event in conn.execute(
                select(t.AuditEvent).where((col(t.AuditEvent.actor) == actor)
                                           & col(t.AuditEvent.entity).in_(("coding", "review")))
                .order_by(col(t.AuditEvent.id).desc())
            ).all():
                if str(event.id) in undone or not _single_row(event):
                    continue
                row = event.after or event.before or {}
                if not self._in_document(conn, row, document_id):
                    continue
                table = t.Coding if event.entity == "coding" else t.Review
                if not self._restore(conn, table, int(event.entity_id), event.after,
                                     event.before):
                    continue  # changed since by someone else, or its id is another row's
                self._audit(conn, actor, "undo", "auditevent", str(event.id), event.after,
                            event.before)
                return _undone(str(event.action), row)
        return None

    def redo_last(self, actor: str, document_id: int | None = None) -> str | None:
        """Make again the change the actor's latest undo took back, if nothing of theirs
        has changed since (a new decision ends what can be redone, as in any editor);
        scoped like ``undo_last``. The change is replayed as a new entry of the log, so
        undo takes it back again like any other."""
        with self.write() as conn:
            events = conn.execute(
                select(t.AuditEvent).where(
                    (col(t.AuditEvent.actor) == actor)
                    & (col(t.AuditEvent.entity).in_(("coding", "review"))
                       | col(t.AuditEvent.action).in_(("undo", "redo"))))
                .order_by(col(t.AuditEvent.id).desc())).all()
            marks = [e for e in events if e.action == "redo"]
            redone = {e.entity_id for e in marks}
            replays = {int((e.after or {}).get("replay", 0)) for e in marks}
            for event in events:
                if event.action == "redo" or event.id in replays or (
                        event.action != "undo" and not _single_row(event)):
                    continue
                row = event.after or event.before or {}
                if not self._in_document(conn, row, document_id):
                    continue
                if event.action != "undo":
                    return None  # a decision made since the undo: nothing to redo
                if str(event.id) in redone:
                    continue
                original = conn.execute(select(t.AuditEvent).where(
                    col(t.AuditEvent.id) == int(event.entity_id))).first()
                if original is None or not _single_row(original):
                    return None
                table = t.Coding if original.entity == "coding" else t.Review
                if not self._restore(conn, table, int(original.entity_id), original.before,
                                     original.after):
                    return None  # someone changed the row since the undo: redo would clobber it
                replay = self._audit(conn, actor, str(original.action), str(original.entity),
                                     str(original.entity_id), original.before, original.after)
                self._audit(conn, actor, "redo", "auditevent", str(event.id), None,
                            {"replay": replay})
                return _undone(str(original.action), row)
        return None

    @staticmethod
    def _in_document(conn: Connection, row: dict[str, Any], document_id: int | None) -> bool:
        """Whether a logged coding or review row is about a segment that still exists, of
        this document (of any document when None)."""
        found = conn.execute(select(col(t.Segment.document_id)).where(
            col(t.Segment.id) == row.get("segment_id"))).first()
        return found is not None and (document_id is None or found[0] == document_id)

    @classmethod
    def _restore(cls, conn: Connection, table: Any, key: int, expected: dict[str, Any] | None,
                 target: dict[str, Any] | None) -> bool:
        """Put a row back as the audit log saw it (``target``; gone if None), but only if
        it stands as the log says it was left (``expected``; gone if None): undo and redo
        never overwrite what another coder did since, nor a row that took a reused id.
        Whether the row was put back."""
        now = conn.execute(select(table).where(table.id == key)).first()
        fields = ("segment_id", "code_id", "coder", "status", "span") if table is t.Coding \
            else ("segment_id", "coder")
        if expected is None or now is None:
            if not (expected is None and now is None):
                return False
        elif any(getattr(now, f) != expected.get(f) for f in fields):
            return False
        if target is None:
            conn.execute(delete(table).where(table.id == key))
            return True
        # where the segment is stays as it is now: a city edit is not undone here
        restore = {k: v for k, v in target.items()
                   if k not in ("id", "document_id", "case_place_id")}
        for stamp in ("created_at", "updated_at"):
            if isinstance(restore.get(stamp), str):
                restore[stamp] = datetime.fromisoformat(restore[stamp])
        if now is None:
            values = {**restore, "id": key}
            if table is t.Coding:
                segment = int(target["segment_id"])
                values.update(cls._segment_places(conn, [segment])[segment])
            conn.execute(insert(table).values(**values))
        else:
            conn.execute(update(table).where(table.id == key).values(**restore))
        return True

    def progress_by_document(self, coder: str) -> dict[int, tuple[int, int]]:
        """Document id -> (segments this coder has finished, body segments), for every
        document in two grouped queries: the Documents page lists a thousand."""
        body = col(t.Segment.kind).in_(BODY_KINDS)
        with self.engine.connect() as conn:
            totals = dict(conn.execute(
                select(col(t.Segment.document_id), func.count()).where(body)
                .group_by(col(t.Segment.document_id))).all())
            done = dict(conn.execute(
                select(col(t.Segment.document_id), func.count(col(t.Review.id)))
                .join(t.Segment, col(t.Segment.id) == col(t.Review.segment_id))
                .where(body & (col(t.Review.coder) == coder))
                .group_by(col(t.Segment.document_id))).all())
        return {int(d): (int(done.get(d, 0)), int(n)) for d, n in totals.items()}

    def progress(self, coder: str, document_id: int | None = None) -> tuple[int, int]:
        """(segments this coder has finished, body segments) for a document or all."""
        body = select(col(t.Segment.id)).where(col(t.Segment.kind).in_(BODY_KINDS))
        if document_id is not None:
            body = body.where(col(t.Segment.document_id) == document_id)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(body.subquery())).scalar_one()
            done = conn.execute(
                select(func.count(col(t.Review.id))).where((col(t.Review.coder) == coder)
                                                      & col(t.Review.segment_id).in_(body))
            ).scalar_one()
        return int(done), int(total)


UNDOABLE = frozenset({"coding.accepted", "coding.rejected", "coding.remove", "coding.memo",
                      "review.add"})


def _single_row(event: Any) -> bool:
    """A change to one coding or review row, the kind undo and redo replay (bulk entries
    such as stored suggestions or imports are not)."""
    return event.action in UNDOABLE and str(event.entity_id).isdigit()


def _undone(action: str, row: dict[str, Any]) -> str:
    """What an undone change was, in the coder's words."""
    segment = row.get("segment_id")
    code = row.get("code_id", "")
    return {"coding.accepted": f"accepted {code} on segment {segment}",
            "coding.rejected": f"rejected {code} on segment {segment}",
            "coding.remove": f"removed {code} from segment {segment} (it is back)",
            "coding.memo": f"the memo on {code}, segment {segment}",
            "review.add": f"marked segment {segment} as coded completely"}.get(
                action, f"{action} on segment {segment}")
