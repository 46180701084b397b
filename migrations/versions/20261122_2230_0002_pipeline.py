"""Cultivation pipeline: candidate pools and members, batches, applications, opinions, objections.

Enums are VARCHAR with named CHECK constraints (as in the baseline); a review level is one of
district, city, province, ministry; a resolved objection must carry its note and date. Downgrade
drops the six tables, children first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:30:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('policy_code', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('quotas', sa.JSON(), nullable=False),
    sa.Column('deadlines', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'publicity', 'finalised', name='batch_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('publicity_starts_on', sa.Date(), nullable=True),
    sa.Column('publicity_ends_on', sa.Date(), nullable=True),
    sa.Column('published_where', sa.String(length=200), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('document_no', sa.String(length=128), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('publicity_ends_on IS NULL OR publicity_starts_on IS NULL OR publicity_ends_on >= publicity_starts_on', name=op.f('ck_batches_publicity_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('tier', 'year', 'name', name=op.f('uq_batches_tier_year_name'))
    )
    op.create_table('pools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('policy_code', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('figures_year', sa.Integer(), nullable=False),
    sa.Column('reference_on', sa.Date(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('evaluated', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pools'))
    )
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.create_index('ix_pools_tier_year', ['tier', 'year'], unique=False)

    op.create_table('pool_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('verdict', sa.Enum('pass', 'fail', 'unknown', name='verdict', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('evaluation', sa.JSON(), nullable=False),
    sa.Column('included', sa.Boolean(), nullable=False),
    sa.Column('added_manually', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_by', sa.String(length=128), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_pool_members_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['pool_id'], ['pools.id'], name=op.f('fk_pool_members_pool_id_pools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_members')),
    sa.UniqueConstraint('pool_id', 'enterprise_id', name=op.f('uq_pool_members_pool_id_enterprise_id'))
    )
    with op.batch_alter_table('pool_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pool_members_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pool_members_region_code'), ['region_code'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('status', sa.Enum('in_review', 'returned', 'rejected', 'recommended', 'granted', 'not_granted', name='application_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('current_level', sa.String(length=16), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('evaluation', sa.JSON(), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('certification_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("current_level IS NULL OR current_level IN ('district', 'city', 'province', 'ministry')", name=op.f('ck_applications_current_level')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_applications_batch_id_batches')),
    sa.ForeignKeyConstraint(['certification_id'], ['certifications.id'], name=op.f('fk_applications_certification_id_certifications')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_applications_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('batch_id', 'enterprise_id', name=op.f('uq_applications_batch_id_enterprise_id'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_region_code'), ['region_code'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('submitter_name', sa.String(length=128), nullable=False),
    sa.Column('submitter_identity', sa.Enum('real_name', 'seal', name='submitter_identity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'upheld', 'rejected', name='objection_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('resolved_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status = 'open' OR (resolution_note IS NOT NULL AND resolved_on IS NOT NULL)", name=op.f('ck_objections_resolution')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_objections_application_id_applications')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_objections_batch_id_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_region_code'), ['region_code'], unique=False)

    op.create_table('opinions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('decision', sa.Enum('recommend', 'return', 'reject', name='decision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('officer', sa.String(length=128), nullable=False),
    sa.Column('officer_user_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("level IN ('district', 'city', 'province', 'ministry')", name=op.f('ck_opinions_level')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_opinions_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinions')),
    sa.UniqueConstraint('application_id', 'round', 'level', name=op.f('uq_opinions_application_id_round_level'))
    )


def downgrade() -> None:
    op.drop_table('opinions')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_region_code'))
        batch_op.drop_index(batch_op.f('ix_objections_batch_id'))
        batch_op.drop_index(batch_op.f('ix_objections_application_id'))

    op.drop_table('objections')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_region_code'))
        batch_op.drop_index(batch_op.f('ix_applications_enterprise_id'))

    op.drop_table('applications')
    with op.batch_alter_table('pool_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pool_members_region_code'))
        batch_op.drop_index(batch_op.f('ix_pool_members_enterprise_id'))

    op.drop_table('pool_members')
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.drop_index('ix_pools_tier_year')

    op.drop_table('pools')
    op.drop_table('batches')
