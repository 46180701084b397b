"""Every county of China: the code-change table, the reference-data version, and the new rows.

Creates `region_code_changes` (old_code → new_code, kind, effective year, source) and
`reference_data` (which version of a shipped data set the database holds), then loads
registry/regions/data/regions.csv and region_code_changes.csv through `registry.regions.reference.load_reference`
— the same idempotent insert-or-update `init-db` runs, so an existing database gains the
~2,580 county-level rows outside 浙江/四川 and a database already holding them is unchanged.

Downgrade deletes the region rows the earlier data did not have (county-level rows outside
浙江 33 and 四川 51, and the 419000/429000/469000/659000 grouping rows), except those an
enterprise or another region still refers to, and drops the two tables.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06 07:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'region_code_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('old_code', sa.String(length=6), nullable=False),
        sa.Column('new_code', sa.String(length=6), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('effective_year', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('merge', 'rename', 'recode')", name=op.f('ck_region_code_changes_kind')),
        sa.CheckConstraint('old_code <> new_code', name=op.f('ck_region_code_changes_distinct_codes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_region_code_changes')),
        sa.UniqueConstraint('old_code', 'new_code', name=op.f('uq_region_code_changes_old_code_new_code')),
    )
    op.create_index(op.f('ix_region_code_changes_old_code'), 'region_code_changes', ['old_code'], unique=False)
    op.create_table(
        'reference_data',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=False),
        sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_reference_data')),
    )
    from registry.regions.reference import load_reference

    load_reference(op.get_bind())


OLD_SET = ("level = 'province' OR (level = 'city' AND code NOT IN ('419000', '429000', '469000', '659000'))"
           " OR (level = 'district' AND (code LIKE '33%' OR code LIKE '51%'))")


def downgrade() -> None:
    conn = op.get_bind()
    for level in ('district', 'city'):  # children first
        conn.execute(sa.text(
            f"DELETE FROM regions WHERE level = :level AND NOT ({OLD_SET})"
            " AND code NOT IN (SELECT region_code FROM enterprises)"
            " AND code NOT IN (SELECT parent_code FROM regions WHERE parent_code IS NOT NULL)"), {"level": level})
    op.drop_table('reference_data')
    op.drop_index(op.f('ix_region_code_changes_old_code'), table_name='region_code_changes')
    op.drop_table('region_code_changes')
