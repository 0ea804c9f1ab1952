"""The first schema: documents, pages, segments, places, codebook, codings, models, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

This is the schema as the workbench shipped it before migrations existed (stores made
then are stamped with this revision by ``workbench db upgrade``). Full-text search is
FTS5 on SQLite (a virtual table kept in step by triggers) and a GIN index over
``to_tsvector('english', text)`` on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE segment_fts USING fts5(
        text, content='segment', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER segment_fts_ai AFTER INSERT ON segment BEGIN
        INSERT INTO segment_fts(rowid, text) VALUES (new.id, new.text); END""",
    """CREATE TRIGGER segment_fts_ad AFTER DELETE ON segment BEGIN
        INSERT INTO segment_fts(segment_fts, rowid, text)
        VALUES ('delete', old.id, old.text); END""",
    """CREATE TRIGGER segment_fts_au AFTER UPDATE OF text ON segment BEGIN
        INSERT INTO segment_fts(segment_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO segment_fts(rowid, text) VALUES (new.id, new.text); END""",
]
POSTGRES_FTS = ("CREATE INDEX ix_segment_fts ON segment "
                "USING gin (to_tsvector('english', text))")


def upgrade() -> None:
    op.create_table('auditevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auditevent'))
    )
    op.create_index(op.f('ix_auditevent_at'), 'auditevent', ['at'], unique=False)
    op.create_table('code',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('group', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('user_defined', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code'))
    )
    op.create_index(op.f('ix_code_group'), 'code', ['group'], unique=False)
    op.create_table('codebookversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_codebookversion'))
    )
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_file', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    op.create_index(op.f('ix_document_kind'), 'document', ['kind'], unique=False)
    op.create_index(op.f('ix_document_sha256'), 'document', ['sha256'], unique=True)
    op.create_table('place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('country_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('geonameid', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_place')),
    sa.UniqueConstraint('name', 'kind', 'country_code', name=op.f('uq_place_name_kind_country_code'))
    )
    op.create_index(op.f('ix_place_country_code'), 'place', ['country_code'], unique=False)
    op.create_index(op.f('ix_place_name'), 'place', ['name'], unique=False)
    op.create_table('codeversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('codebook_version_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('definition', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['code.id'], name=op.f('fk_codeversion_code_id_code')),
    sa.ForeignKeyConstraint(['codebook_version_id'], ['codebookversion.id'], name=op.f('fk_codeversion_codebook_version_id_codebookversion')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_codeversion')),
    sa.UniqueConstraint('code_id', 'version', name=op.f('uq_codeversion_code_id_version'))
    )
    op.create_index(op.f('ix_codeversion_code_id'), 'codeversion', ['code_id'], unique=False)
    op.create_table('documentplace',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_documentplace_document_id_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], name=op.f('fk_documentplace_place_id_place')),
    sa.PrimaryKeyConstraint('document_id', 'place_id', name=op.f('pk_documentplace'))
    )
    op.create_table('modelversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('artifact', sa.LargeBinary(), nullable=True),
    sa.Column('training_size', sa.Integer(), nullable=False),
    sa.Column('codebook_version_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['codebook_version_id'], ['codebookversion.id'], name=op.f('fk_modelversion_codebook_version_id_codebookversion')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modelversion'))
    )
    op.create_table('page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('width', sa.Float(), nullable=False),
    sa.Column('height', sa.Float(), nullable=False),
    sa.Column('char_start', sa.Integer(), nullable=False),
    sa.Column('char_end', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_page_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_page_document_id_number'))
    )
    op.create_index(op.f('ix_page_document_id'), 'page', ['document_id'], unique=False)
    op.create_table('segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('order', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('page_start', sa.Integer(), nullable=False),
    sa.Column('page_end', sa.Integer(), nullable=False),
    sa.Column('char_start', sa.Integer(), nullable=False),
    sa.Column('char_end', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('speaker', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('case_place_id', sa.Integer(), nullable=True),
    sa.Column('sentences', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_place_id'], ['place.id'], name=op.f('fk_segment_case_place_id_place')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_segment_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment')),
    sa.UniqueConstraint('document_id', 'order', name=op.f('uq_segment_document_id_order'))
    )
    op.create_index(op.f('ix_segment_case_place_id'), 'segment', ['case_place_id'], unique=False)
    op.create_index('ix_segment_document_chars', 'segment', ['document_id', 'char_start'], unique=False)
    op.create_index(op.f('ix_segment_speaker'), 'segment', ['speaker'], unique=False)
    op.create_table('coding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('code_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('code_version_id', sa.Integer(), nullable=True),
    sa.Column('coder', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('memo', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('char_start', sa.Integer(), nullable=True),
    sa.Column('char_end', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['code.id'], name=op.f('fk_coding_code_id_code')),
    sa.ForeignKeyConstraint(['code_version_id'], ['codeversion.id'], name=op.f('fk_coding_code_version_id_codeversion')),
    sa.ForeignKeyConstraint(['model_version_id'], ['modelversion.id'], name=op.f('fk_coding_model_version_id_modelversion')),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_coding_segment_id_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coding')),
    sa.UniqueConstraint('segment_id', 'code_id', 'coder', 'origin', name=op.f('uq_coding_segment_id_code_id_coder_origin'))
    )
    op.create_index(op.f('ix_coding_code_id'), 'coding', ['code_id'], unique=False)
    op.create_index(op.f('ix_coding_coder'), 'coding', ['coder'], unique=False)
    op.create_index(op.f('ix_coding_segment_id'), 'coding', ['segment_id'], unique=False)
    op.create_index(op.f('ix_coding_status'), 'coding', ['status'], unique=False)
    op.create_index('ix_coding_status_code_segment', 'coding', ['status', 'code_id', 'segment_id'], unique=False)
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('coder', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_review_segment_id_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('segment_id', 'coder', name=op.f('uq_review_segment_id_coder'))
    )
    op.create_index(op.f('ix_review_segment_id'), 'review', ['segment_id'], unique=False)
    op.create_table('segmentplace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('char_start', sa.Integer(), nullable=False),
    sa.Column('char_end', sa.Integer(), nullable=False),
    sa.Column('surface', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], name=op.f('fk_segmentplace_place_id_place')),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_segmentplace_segment_id_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segmentplace'))
    )
    op.create_index(op.f('ix_segmentplace_place_id'), 'segmentplace', ['place_id'], unique=False)
    op.create_index(op.f('ix_segmentplace_segment_id'), 'segmentplace', ['segment_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS segment_fts")
    for table in ("segmentplace", "review", "coding", "segment", "page", "modelversion",
                  "documentplace", "codeversion", "place", "document", "codebookversion",
                  "code", "auditevent"):
        op.drop_table(table)
