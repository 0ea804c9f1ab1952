"""PostgreSQL's search folds accents, as SQLite's does: ``Malmo`` finds ``Malmö``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

The stored vector is rebuilt over the text with accented Latin letters translated to
their base letters (PostgreSQL's built-in ``translate``, immutable, so a generated column
may use it; the ``unaccent`` extension is not assumed on a team's server). The search
folds each term by the same table (``search_query.PG_FOLD_FROM``, of which this is a
copy: a migration keeps what it did). SQLite: nothing changes.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FROM = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆ"
    "ćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐő"
    "ŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚ"
    "ǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮ"
    "ȯȰȱȲȳøØłŁđĐı"
)
TO = (
    "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaC"
    "cCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOo"
    "RrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzsOoUuAaIiOoUuUuUuUu"
    "UuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoO"
    "oOoYyoOlLdDi"
)


def _vector(expression: str) -> None:
    op.execute("DROP INDEX ix_segment_fts_vector")
    op.execute("ALTER TABLE segment DROP COLUMN segment_fts_vector")
    op.execute("ALTER TABLE segment ADD COLUMN segment_fts_vector tsvector "
               f"GENERATED ALWAYS AS (to_tsvector('english', {expression})) STORED")
    op.execute("CREATE INDEX ix_segment_fts_vector ON segment "
               "USING gin (segment_fts_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _vector(f"translate(text, '{FROM}', '{TO}')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _vector("text")
