"""initial registry schema

Revision ID: 0001_initial
Revises: 
Create Date: 2026-11-24

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001_initial'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('artists',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('normalized', sa.String(length=512), nullable=False),
    sa.Column('sort_name', sa.String(length=512), nullable=True),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('living', sa.Boolean(), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('death_year', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artists'))
    )
    op.create_index(op.f('ix_artists_normalized'), 'artists', ['normalized'], unique=False)

    op.create_table('artist_influences',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source_of_claim', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('source_id <> target_id', name=op.f('ck_artist_influences_not_self')),
    sa.ForeignKeyConstraint(['source_id'], ['artists.id'], name=op.f('fk_artist_influences_source_id_artists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['artists.id'], name=op.f('fk_artist_influences_target_id_artists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artist_influences')),
    sa.UniqueConstraint('source_id', 'target_id', name='uq_artist_influences_source_target')
    )
    op.create_index(op.f('ix_artist_influences_source_id'), 'artist_influences', ['source_id'], unique=False)
    op.create_index(op.f('ix_artist_influences_target_id'), 'artist_influences', ['target_id'], unique=False)

    op.create_table('artist_names',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('normalized', sa.String(length=512), nullable=False),
    sa.CheckConstraint("kind IN ('alias', 'spelling', 'transliteration', 'misspelling')", name=op.f('ck_artist_names_kind')),
    sa.ForeignKeyConstraint(['artist_id'], ['artists.id'], name=op.f('fk_artist_names_artist_id_artists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artist_names')),
    sa.UniqueConstraint('artist_id', 'normalized', 'kind', name='uq_artist_names_artist_normalized_kind')
    )
    op.create_index(op.f('ix_artist_names_artist_id'), 'artist_names', ['artist_id'], unique=False)
    op.create_index(op.f('ix_artist_names_normalized'), 'artist_names', ['normalized'], unique=False)

    op.create_table('works',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=1024), nullable=True),
    sa.Column('location', sa.String(length=4096), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('phash64', sa.BigInteger(), nullable=True),
    sa.Column('pdq256', sa.String(length=64), nullable=True),
    sa.Column('origin', sa.String(length=32), nullable=True),
    sa.Column('verdict', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('pdq256 IS NULL OR length(pdq256) = 64', name=op.f('ck_works_pdq256_length')),
    sa.ForeignKeyConstraint(['artist_id'], ['artists.id'], name=op.f('fk_works_artist_id_artists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_works')),
    sa.UniqueConstraint('artist_id', 'sha256', name='uq_works_artist_sha256')
    )
    op.create_index(op.f('ix_works_artist_id'), 'works', ['artist_id'], unique=False)
    op.create_index(op.f('ix_works_phash64'), 'works', ['phash64'], unique=False)
    op.create_index(op.f('ix_works_sha256'), 'works', ['sha256'], unique=False)

    op.create_table('consent_terms',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.Integer(), nullable=True),
    sa.Column('ai_training', sa.String(length=24), nullable=True),
    sa.Column('generative_training', sa.String(length=24), nullable=True),
    sa.Column('data_mining', sa.String(length=24), nullable=True),
    sa.Column('style_imitation', sa.String(length=24), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("ai_training IS NULL OR ai_training IN ('allowed', 'not_allowed', 'allowed_with_credit')", name=op.f('ck_consent_terms_ai_training')),
    sa.CheckConstraint("data_mining IS NULL OR data_mining IN ('allowed', 'not_allowed', 'allowed_with_credit')", name=op.f('ck_consent_terms_data_mining')),
    sa.CheckConstraint("generative_training IS NULL OR generative_training IN ('allowed', 'not_allowed', 'allowed_with_credit')", name=op.f('ck_consent_terms_generative_training')),
    sa.CheckConstraint("style_imitation IS NULL OR style_imitation IN ('allowed', 'not_allowed', 'allowed_with_credit')", name=op.f('ck_consent_terms_style_imitation')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_consent_terms_period')),
    sa.ForeignKeyConstraint(['artist_id'], ['artists.id'], name=op.f('fk_consent_terms_artist_id_artists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], name=op.f('fk_consent_terms_work_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_terms'))
    )
    op.create_index('ix_consent_terms_artist_work', 'consent_terms', ['artist_id', 'work_id'], unique=False)
    op.create_index(op.f('ix_consent_terms_work_id'), 'consent_terms', ['work_id'], unique=False)

    op.create_table('work_influences',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source_of_claim', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('source_id <> target_id', name=op.f('ck_work_influences_not_self')),
    sa.ForeignKeyConstraint(['source_id'], ['works.id'], name=op.f('fk_work_influences_source_id_works'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['works.id'], name=op.f('fk_work_influences_target_id_works'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_influences')),
    sa.UniqueConstraint('source_id', 'target_id', name='uq_work_influences_source_target')
    )
    op.create_index(op.f('ix_work_influences_source_id'), 'work_influences', ['source_id'], unique=False)
    op.create_index(op.f('ix_work_influences_target_id'), 'work_influences', ['target_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_work_influences_target_id'), table_name='work_influences')
    op.drop_index(op.f('ix_work_influences_source_id'), table_name='work_influences')

    op.drop_table('work_influences')
    op.drop_index(op.f('ix_consent_terms_work_id'), table_name='consent_terms')
    op.drop_index('ix_consent_terms_artist_work', table_name='consent_terms')

    op.drop_table('consent_terms')
    op.drop_index(op.f('ix_works_sha256'), table_name='works')
    op.drop_index(op.f('ix_works_phash64'), table_name='works')
    op.drop_index(op.f('ix_works_artist_id'), table_name='works')

    op.drop_table('works')
    op.drop_index(op.f('ix_artist_names_normalized'), table_name='artist_names')
    op.drop_index(op.f('ix_artist_names_artist_id'), table_name='artist_names')

    op.drop_table('artist_names')
    op.drop_index(op.f('ix_artist_influences_target_id'), table_name='artist_influences')
    op.drop_index(op.f('ix_artist_influences_source_id'), table_name='artist_influences')

    op.drop_table('artist_influences')
    op.drop_index(op.f('ix_artists_normalized'), table_name='artists')

    op.drop_table('artists')
